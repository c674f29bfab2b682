"""The case panel on the patient page (registered through ``registry.patients.panels`` by ``FollowupConfig.ready``).

The patient's doctors see the open case (or that none is open) and the earlier ones; a team member with the
limited view sees the link to the case of which they are a member; masked viewers get nothing.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from casemgmt.accounts.http import AuthenticatedHttpRequest
from followup.models import Case
from registry.access.visibility import can_write
from registry.models import Patient
from registry.patients.panels import register_panel

TEMPLATE = "followup/cases/_panel.html"


def case_panel(request: AuthenticatedHttpRequest, patient: Patient, disclosure: str) -> str:
    user = request.user
    if disclosure == "masked":
        return ""
    if can_write(user, patient):
        cases = list(Case.objects.filter(patient=patient).order_by("-opened_on", "-id")[:5])
    elif disclosure == "limited":
        cases = list(
            Case.objects.filter(
                patient=patient, closed_on__isnull=True, members__user=user, members__removed_at__isnull=True
            )
        )
        if not cases:
            return ""
    else:
        return ""
    open_case = next((c for c in cases if c.is_open), None)
    context = {"patient": patient, "open_case": open_case, "closed": [c for c in cases if not c.is_open]}
    return render_to_string(TEMPLATE, context, request=request)


def register() -> None:
    register_panel(case_panel)
