"""The single entry point views use to reach one patient, and the write-permission test.

Not visible and not existing give the same 404, so nobody can probe for records outside their view.

Every other resource follows the same shape: one ``*_visible_to(user)`` queryset its lists start from and one
``get_<x>_for_user(request, id, *, write=False)`` that returns the object or raises ``Http404`` (``PermissionDenied``
only for read-only users asking to write): ``followup.visits.queries.get_followup_for_user``,
``followup.cases.services.get_case_for_user``, ``followup.emergencies.services.get_emergency_for_user``,
``registry.transfers.services.get_transfer_for_user``, ``registry.breakglass.services.get_break_glass_for_user``,
``followup.workbook.jobs.get_import_job_for_user`` and
``metrics.reports.access.get_pdf_export_for_user``. Area filters come from ``casemgmt.areas.scope.within``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import NoReturn

from django.core.exceptions import PermissionDenied
from django.http import Http404

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import User
from casemgmt.areas.models import Area
from registry.models import ClosureRequest, Patient, PatientQuerySet, live_break_glass


def visible_patients(user: User) -> PatientQuerySet:
    return Patient.objects.visible_to(user)


def get_patient_for_user(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID | str, *, write: bool = False
) -> Patient:
    """The patient, if visible to the user (404 otherwise: missing and not yours alike).

    With ``write``: 403 for a user who sees the patient in their own jurisdiction but may not write (area staff,
    read-only); 404 for one who reaches the patient only through a case-team grant — the limited view has no
    write page, and a 403 would confirm what exists there.
    """
    user = request.user
    patient = visible_patients(user).select_related("village").filter(uuid=patient_uuid).first()
    if patient is None:
        raise Http404
    if write and not can_write(user, patient):
        refuse(user, patient)
    return patient


def refuse(user: User, patient: Patient) -> NoReturn:
    """Refuse what the user may not do with a patient they see: 403 inside their own jurisdiction (area staff,
    read-only), 404 when they see the patient only through a case-team grant (the limited view has no such page,
    and a 403 would confirm what exists there) or a break-glass access (read-only, like a grant)."""
    if not in_jurisdiction(user, patient.village_id):
        raise Http404
    raise PermissionDenied


def get_closure_for_user(
    request: AuthenticatedHttpRequest, closure_uuid: uuid.UUID, *, patient: Patient, write: bool = False
) -> ClosureRequest:
    """A closure request of a patient the caller already reached through ``get_patient_for_user`` (404 for a
    missing request and for another patient's alike); deciding it (``write``) needs ``can_decide_closure``."""
    closure = (
        ClosureRequest.objects.filter(patient=patient, uuid=closure_uuid)
        .select_related("requested_by", "decided_by")
        .first()
    )
    if closure is None:
        raise Http404
    if write and not can_decide_closure(request.user, patient):
        refuse(request.user, patient)
    return closure


def in_jurisdiction(user: User, area_code: str) -> bool:
    return any(area_code.startswith(prefix) for prefix in user.jurisdiction_prefixes())


def break_glass_until(user: User, patient: Patient) -> dt.datetime | None:
    """When the live break-glass access of a doctor or officer outside the patient's jurisdiction ends
    (``registry.breakglass``); None without one. No query for users inside the jurisdiction or without the role."""
    if not (user.is_doctor or user.is_area_staff) or in_jurisdiction(user, patient.village_id):
        return None
    ends = live_break_glass(user).filter(patient=patient).order_by("-expires_at").values_list("expires_at", flat=True)
    return ends.first()


def broke_the_glass(user: User, patient: Patient) -> bool:
    """A live break-glass access: the full record to read, and nothing to write."""
    return break_glass_until(user, patient) is not None


def can_write(user: User, patient: Patient) -> bool:
    """Doctors write the patients of their own areas; grants (case teams) never give write access here."""
    return bool(user.is_doctor and in_jurisdiction(user, patient.village_id))


def can_register_in(user: User, village: Area) -> bool:
    return bool(user.is_doctor and village.is_village and in_jurisdiction(user, village.code))


def sees_masked_identity(user: User) -> bool:
    """County/city/province staff see masked line lists unless they open a record with a stated reason."""
    return bool(user.is_area_staff)


def can_decide_closure(user: User, patient: Patient) -> bool:
    """The second person of a closure: a doctor of the jurisdiction or area staff covering it (never a grant).

    Whether this person is the requester is checked by ``services.decide_closure`` itself.
    """
    return bool((user.is_doctor or user.is_area_staff) and in_jurisdiction(user, patient.village_id))


def can_view_access_log(user: User, patient: Patient) -> bool:
    """Who opened a record is shown to those answerable for the jurisdiction, not to case-team members."""
    return bool((user.is_doctor or user.is_area_staff) and in_jurisdiction(user, patient.village_id))
