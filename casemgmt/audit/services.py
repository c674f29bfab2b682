"""Writing audit events. Callers pass UUIDs and non-identifying detail only."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from casemgmt.audit.models import AuditEvent, AuditSubject
from casemgmt.bulkcopy import BulkInserter

COPY_SUBJECTS = 500  # subjects of one event from which they are written through COPY

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
    """Append one event (two queries: the event, and one bulk insert, or COPY, of its subjects)."""
    event = AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_role=getattr(actor, "role", "") or "",
        action=action,
        purpose=purpose[:200],
        detail=detail or {},
    )
    subjects = dict.fromkeys(str(u) for u in patient_uuids)
    if len(subjects) >= COPY_SUBJECTS:  # a bulk writer's event (an import's 1,000 new patients): through COPY
        BulkInserter().insert_rows(AuditSubject, ("event_id", "patient_uuid"), [(event.pk, u) for u in subjects])
    elif subjects:
        AuditSubject.objects.bulk_create([AuditSubject(event=event, patient_uuid=u) for u in subjects])
    return event


def access_history(patient_uuid: uuid.UUID) -> QuerySet[AuditEvent]:
    """Events that concern one patient, newest first, with their actors."""
    return AuditEvent.objects.filter(subjects__patient_uuid=patient_uuid).select_related("actor").order_by("-at", "-id")
