"""Break-glass: the probe by ID number that opens an access, the review list and the acknowledgement.

Who may do what:

- probe (``probe``): doctors and area staff (``may_break_glass``); the view refuses everyone else with a 404
  before calling, and refuses a user past the hourly limit of unknown numbers (``too_many_unanswered``). The
  number was validated by ``registry.breakglass.forms.BreakGlassForm``.
- see the review list (``break_glass_visible_to``): the doctors and area staff whose jurisdiction covers the
  patient — the patient is theirs, so the list reveals nothing they could not see anyway.
- acknowledge (``review``): area staff only; the view reached the access through
  ``get_break_glass_for_user(write=True)`` (404 outside the list, 403 for the patient's doctors, who see the list
  but do not review it).

Every action writes an audit event with the patient's UUID only: never the ID number that was typed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import Http404
from django.utils import timezone

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import User
from casemgmt.areas.scope import within
from casemgmt.audit.models import Action, AuditEvent
from casemgmt.audit.services import record_event
from registry.models import BreakGlassAccess, Patient, national_id_index
from registry.patients import masking

DEFAULT_HOURS = 4
DEFAULT_UNANSWERED_PROBES_PER_HOUR = 10
PROBE_WINDOW = dt.timedelta(hours=1)


def break_glass_hours() -> int:
    """How long an access lasts (``BREAK_GLASS_HOURS``)."""
    return int(getattr(settings, "BREAK_GLASS_HOURS", DEFAULT_HOURS))


def may_break_glass(user: User) -> bool:
    """Doctors and area staff; never case-team members (their grants are the case) or administrators."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and (user.is_doctor or user.is_area_staff))


def unanswered_probe_limit() -> int:
    """How many numbers nobody has a user may try in an hour (``BREAK_GLASS_UNANSWERED_PROBES_PER_HOUR``)."""
    return int(getattr(settings, "BREAK_GLASS_UNANSWERED_PROBES_PER_HOUR", DEFAULT_UNANSWERED_PROBES_PER_HOUR))


def too_many_unanswered(user: User, *, now: dt.datetime | None = None) -> bool:
    """Whether the user tried as many unknown numbers within the last hour as allowed.

    Without a limit, whether someone is registered at all could be found out by trying the thousand or so numbers
    that share a known birth date and county. The count is read from the audit log (every unanswered probe is an
    ``IDENTITY_PROBE`` event without subject), so it survives restarts and holds across workers.
    """
    now = timezone.now() if now is None else now
    unanswered = AuditEvent.objects.filter(
        actor=user,
        action=Action.IDENTITY_PROBE,
        detail__page="break_glass",
        detail__found=False,
        at__gt=now - PROBE_WINDOW,
        at__lte=now,
    )
    return unanswered.count() >= unanswered_probe_limit()


class Outcome(StrEnum):
    VISIBLE = "visible"  # the patient is already the user's (or already opened): just go to the record
    OPENED = "opened"  # outside the user's view: an access was opened
    NOT_FOUND = "not_found"  # no patient has this number


@dataclass(frozen=True)
class Probe:
    outcome: Outcome
    patient: Patient | None = None
    access: BreakGlassAccess | None = None


def probe(*, actor: User, national_id: str, reason: str) -> Probe:
    """Look a patient up by the full, validated ID number and open an access when they are outside the actor's view.

    Permission: the caller checked ``may_break_glass(actor)``. The lookup goes through the keyed blind index (an
    exact match on the whole number, nothing partial), over all patients: that is the point of breaking the glass.
    Each probe is audited: ``IDENTITY_PROBE`` (with the patient as subject when one matched and was already
    visible, with no subject when none matched) or ``BREAK_GLASS`` (the patient as subject, the reason as purpose).
    """
    patient = Patient.objects.filter(national_id_index=national_id_index(national_id)).first()
    if patient is None:
        record_event(actor=actor, action=Action.IDENTITY_PROBE, detail={"page": "break_glass", "found": False})
        return Probe(Outcome.NOT_FOUND)
    if Patient.objects.visible_to(actor).filter(pk=patient.pk).exists():
        record_event(
            actor=actor,
            action=Action.IDENTITY_PROBE,
            patient_uuids=[patient.uuid],
            purpose=reason,
            detail={"page": "break_glass", "found": True, "visible": True},
        )
        return Probe(Outcome.VISIBLE, patient)
    now = timezone.now()
    with transaction.atomic():
        access = BreakGlassAccess.objects.create(
            user=actor,
            patient=patient,
            reason=reason,
            opened_at=now,
            expires_at=now + dt.timedelta(hours=break_glass_hours()),
        )
        record_event(
            actor=actor,
            action=Action.BREAK_GLASS,
            patient_uuids=[patient.uuid],
            purpose=reason,
            detail={"access": str(access.uuid), "until": access.expires_at.isoformat()},
        )
    return Probe(Outcome.OPENED, patient, access)


# --- the review list -------------------------------------------------------------------------------------------


def break_glass_visible_to(user: User) -> QuerySet[BreakGlassAccess]:
    """Accesses on patients the user holds through their jurisdiction: the area part of the one rule
    (``PatientQuerySet.in_jurisdiction_of``), since a case-team grant or the user's own break-glass access never
    puts a patient on this list. Filtered on the joined village code, not through ``visible_to``: that would
    fetch the user's grant ids first, one more query on every page of the county's navigation (the count)."""
    prefixes = user.jurisdiction_prefixes() if may_break_glass(user) else []
    if not prefixes:
        return BreakGlassAccess.objects.none()
    return BreakGlassAccess.objects.filter(within(prefixes, "patient__village__code"))


def get_break_glass_for_user(
    request: AuthenticatedHttpRequest, access_uuid: uuid.UUID | str, *, write: bool = False
) -> BreakGlassAccess:
    """The access, if it is on the user's review list (404 otherwise: missing and not yours alike); with ``write``
    (acknowledging) 403 for the patient's doctors, who see the list but do not review it, and for the officer who
    opened the access (who may have come to cover the patient's county since)."""
    user = request.user
    access = break_glass_visible_to(user).select_related("patient").filter(uuid=access_uuid).first()
    if access is None:
        raise Http404
    if write and (not user.is_area_staff or access.user_id == user.pk):
        raise PermissionDenied  # nobody acknowledges their own access
    return access


def unreviewed_count(user: User) -> int:
    """What county staff still have to acknowledge (shown in their navigation)."""
    return break_glass_visible_to(user).filter(reviewed_at__isnull=True).count()


def review(*, actor: User, access: BreakGlassAccess, note: str) -> bool:
    """Acknowledge an access; False (and nothing written) when someone already did.

    Permission: the caller reached ``access`` through ``get_break_glass_for_user(write=True)`` (area staff whose
    jurisdiction covers the patient). The row is locked so two officers acknowledging at once write one review.
    """
    with transaction.atomic():
        locked = BreakGlassAccess.objects.select_for_update().get(pk=access.pk)
        if locked.reviewed_at is not None:
            return False
        locked.reviewed_by, locked.reviewed_at, locked.review_note = actor, timezone.now(), note
        locked.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
        record_event(
            actor=actor,
            action=Action.BREAK_GLASS_REVIEW,
            patient_uuids=[access.patient.uuid],
            purpose=note,
            detail={"access": str(access.uuid)},
        )
    access.reviewed_by, access.reviewed_at, access.review_note = actor, locked.reviewed_at, note
    return True


@dataclass(frozen=True)
class AccessRow:
    """One line of the review list; the patient's name masked for area staff (as in their patient list)."""

    uuid: UUID
    patient_uuid: UUID
    patient_name: str
    village: str
    who: str
    who_role: str
    reason: str
    opened_at: dt.datetime
    expires_at: dt.datetime
    live: bool
    reviewed: bool
    reviewed_by: str
    reviewed_at: dt.datetime | None
    review_note: str
    mine: bool  # opened by the user looking at the list: someone else acknowledges it


def review_rows(user: User, accesses: list[BreakGlassAccess]) -> list[AccessRow]:
    masked, now = user.is_area_staff, timezone.now()
    return [
        AccessRow(
            uuid=access.uuid,
            patient_uuid=access.patient.uuid,
            patient_name=masking.mask_name(access.patient.name) if masked else access.patient.name,
            village=access.patient.village.name,
            who=str(access.user),
            who_role=access.user.get_role_display(),
            reason=access.reason,
            opened_at=access.opened_at,
            expires_at=access.expires_at,
            live=access.expires_at > now,
            reviewed=access.reviewed_at is not None,
            reviewed_by=str(access.reviewed_by) if access.reviewed_by else "",
            reviewed_at=access.reviewed_at,
            review_note=access.review_note,
            mine=access.user_id == user.pk,
        )
        for access in accesses
    ]


def review_list(user: User) -> QuerySet[BreakGlassAccess]:
    """The list: unreviewed first (newest first), then the reviewed (most recently reviewed first)."""
    return (
        break_glass_visible_to(user)
        .select_related("patient", "patient__village", "user", "reviewed_by")
        .order_by(F("reviewed_at").desc(nulls_first=True), "-opened_at", "-id")
    )
