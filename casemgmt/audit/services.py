"""Writing audit events. Callers pass UUIDs and non-identifying detail only."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from casemgmt.audit.models import AuditEvent, AuditSubject

if TYPE_CHECKING:
    from casemgmt.accounts.models import User


def record_event(
    *,
    actor: User | None,
    action: str,
    patient_uuids: Iterable[uuid.UUID | str] = (),
    purpose: str = "",
    detail: Mapping[str, object] | None = None,
) -> AuditEvent:
    """Append one event (two queries: the event, and one bulk insert of its subjects)."""
    event = AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_role=getattr(actor, "role", "") or "",
        action=action,
        purpose=purpose[:200],
        detail=detail or {},
    )
    subjects = [AuditSubject(event=event, patient_uuid=u) for u in dict.fromkeys(str(u) for u in patient_uuids)]
    if subjects:
        AuditSubject.objects.bulk_create(subjects)
    return event


def access_history(patient_uuid: uuid.UUID) -> QuerySet[AuditEvent]:
    """Events that concern one patient, newest first, with their actors."""
    return AuditEvent.objects.filter(subjects__patient_uuid=patient_uuid).select_related("actor").order_by("-at", "-id")
