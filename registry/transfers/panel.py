"""The transfer panel on the patient page (registered through ``registry.patients.panels`` by ``RegistryConfig.ready``).

Shows a pending transfer (where to, since when) and, to the patient's doctors, the link to request one.
Masked and limited viewers get nothing: where a patient moves is part of the record.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from casemgmt.accounts.http import AuthenticatedHttpRequest
from registry.access.visibility import can_write
from registry.models import Patient, TransferState
from registry.patients.panels import register_panel

TEMPLATE = "registry/transfers/_panel.html"


def transfer_panel(request: AuthenticatedHttpRequest, patient: Patient, disclosure: str) -> str:
    if disclosure != "full":
        return ""
    pending = patient.transfers.filter(state=TransferState.PENDING).select_related("to_village").first()
    writable = can_write(request.user, patient)
    if pending is None and not writable:
        return ""
    return render_to_string(
        TEMPLATE, {"patient": patient, "pending": pending, "can_request": writable}, request=request
    )


def register() -> None:
    register_panel(transfer_panel)
