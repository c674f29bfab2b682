"""The emergency panel on the patient page (registered through ``registry.patients.panels`` by
``FollowupConfig.ready``): the "应急处置后密切随访" flag with its visit-by date, the latest emergencies, and the link to
record one.

Full disclosure only: emergency history is clinical history (case-team members and masked viewers get nothing).
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from casemgmt.accounts.http import AuthenticatedHttpRequest
from followup.emergencies import services as emergency_services
from registry.access.visibility import can_write
from registry.models import Patient
from registry.patients.panels import register_panel

TEMPLATE = "followup/emergency/_panel.html"
SHOWN = 3


def emergency_panel(request: AuthenticatedHttpRequest, patient: Patient, disclosure: str) -> str:
    if disclosure != "full":
        return ""
    writable = can_write(request.user, patient)
    latest = list(patient.emergencies.order_by("-occurred_at", "-id")[:SHOWN])
    if not latest and not writable:
        return ""
    today = timezone.localdate()
    close = emergency_services.close_follow_for(patient, today) if latest else None
    context = {
        "patient": patient,
        "latest": latest,
        "close": close if close is not None and close.active else None,
        "close_overdue": bool(close and close.active and close.visit_by and today > close.visit_by),
        "can_record": writable,
        "now": timezone.now(),
    }
    return render_to_string(TEMPLATE, context, request=request)


def register() -> None:
    register_panel(emergency_panel)
