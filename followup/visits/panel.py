"""The follow-up panel on the registry's patient page, contributed through ``registry.patients.panels``.

The registry never imports ``followup`` (dependencies point one way), so the follow-up app registers this
renderer when it starts (``FollowupConfig.ready``). The panel shows risk, classification and next due date,
which the case team may see too (domain.md §8); links to the clinical pages follow the disclosure level.
"""

from __future__ import annotations

import itertools

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from casemgmt.accounts.http import AuthenticatedHttpRequest
from followup import codes
from followup.models import FollowUp
from registry.models import Patient
from registry.patients.panels import STATUS, register_panel

TEMPLATE = "followup/partials/patient_panel.html"
ATTEMPTS_TEMPLATE = "followup/partials/attempts_panel.html"


def followup_panel(request: AuthenticatedHttpRequest, patient: Patient, disclosure: str) -> SafeString:
    """The same partial any page can include; it decides what to show from the request's user."""
    return render_to_string(TEMPLATE, {"patient": patient}, request=request)


def attempts_panel(request: AuthenticatedHttpRequest, patient: Patient, disclosure: str) -> SafeString | str:
    """On the status page: the attempts not reached in a row, newest first, that a change to 失访 rests on."""
    attempts = list(
        itertools.takewhile(
            lambda f: f.outcome == codes.Outcome.NOT_REACHED,
            FollowUp.objects.filter(patient=patient).order_by("-date", "-id")[:ATTEMPTS_SHOWN],
        )
    )
    if not attempts:
        return ""
    return render_to_string(ATTEMPTS_TEMPLATE, {"attempts": attempts}, request=request)


ATTEMPTS_SHOWN = 10


def register() -> None:
    register_panel(followup_panel)
    register_panel(attempts_panel, page=STATUS)
