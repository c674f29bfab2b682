"""What every clinical page of a patient shares — the follow-up pages (``followup.visits.views``) and the
rehabilitation and health-check pages (``followup.rehab.views``): reaching the patient at full disclosure, the
redirect of county staff who have not stated a reason, the patient header's context and the audited view.

May import ``casemgmt``, ``registry`` and ``followup.visits.display``; no views.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Concatenate, ParamSpec

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from followup.visits import display
from registry.access.disclosure import Disclosure, disclosure_for
from registry.access.visibility import can_view_access_log, can_write, get_patient_for_user, refuse
from registry.models import Patient


class NeedsReason(Exception):
    """County staff reach a clinical page before stating why they open the record."""

    def __init__(self, patient: Patient) -> None:
        super().__init__(str(patient.uuid))
        self.patient = patient


def clinical_patient(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID, *, write: bool = False) -> Patient:
    """The patient, if this user may read the clinical history (404 / 403 as ``get_patient_for_user``).

    Case-team members (limited disclosure) get 404, as for a patient they do not see; county staff who have not
    stated a reason are sent to the patient page, where they can (``NeedsReason``, handled by ``clinical_page``).
    """
    patient = get_patient_for_user(request, patient_uuid)
    disclosure = disclosure_for(request.user, request.session, patient)
    if disclosure == Disclosure.LIMITED:
        raise Http404  # the case team never learns the clinical pages exist (domain.md §8)
    if write and not can_write(request.user, patient):
        refuse(request.user, patient)  # 403 in the user's jurisdiction, 404 through a break-glass access
    if disclosure == Disclosure.MASKED:
        raise NeedsReason(patient)
    return patient


def _ask_for_reason(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    messages.info(request, _("查看随访记录前，请先在档案页说明查看理由。"))
    return redirect("registry:patient_detail", patient_uuid=patient.uuid)


def page_context(request: AuthenticatedHttpRequest, patient: Patient, tab: str, **extra: object) -> dict[str, object]:
    """What the patient header (the registry's) and the follow-up tabs need."""
    user = request.user
    return {
        "patient": patient,
        "patient_title": patient.name,
        "can_write": can_write(user, patient),
        "can_view_access_log": can_view_access_log(user, patient),
        "accepts_followups": display.accepts_followups(patient),
        "tab": tab,
        **extra,
    }


def viewed(request: AuthenticatedHttpRequest, patient: Patient, page: str, *, redisplay: bool = False) -> None:
    """Log a page showing the patient; ``redisplay`` for a form re-shown after bad input (it shows the record
    again, so it is logged again)."""
    detail: dict[str, object] = {"page": page}
    if redisplay:
        detail["redisplay"] = True
    record_event(actor=request.user, action=Action.VIEW, patient_uuids=[patient.uuid], detail=detail)


_P = ParamSpec("_P")


def clinical_page(
    view: Callable[Concatenate[AuthenticatedHttpRequest, _P], HttpResponse],
) -> Callable[Concatenate[AuthenticatedHttpRequest, _P], HttpResponse]:
    """Turns ``NeedsReason`` into the redirect to the patient page."""

    @functools.wraps(view)
    def wrapped(request: AuthenticatedHttpRequest, *args: _P.args, **kwargs: _P.kwargs) -> HttpResponse:
        try:
            response: HttpResponse = view(request, *args, **kwargs)
        except NeedsReason as exc:
            return _ask_for_reason(request, exc.patient)
        return response

    return wrapped
