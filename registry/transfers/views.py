"""Transfer pages: request a transfer (patient page), the transfers page (incoming, accepted, outgoing), accept
and reject.

Views stay thin: the patient is reached through ``registry.access.visibility.get_patient_for_user`` and a transfer
through ``registry.transfers.services.get_transfer_for_user`` (the same 404 for missing and not yours);
``registry.transfers.services`` writes. The receiving doctor sees only the masked summary of a pending request, and the
patient after accepting.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from registry.access.visibility import can_view_access_log, can_write, get_patient_for_user
from registry.models import TransferState
from registry.transfers import services as transfers
from registry.transfers.forms import TransferRejectForm, TransferRequestForm


@login_required
@require_http_methods(["GET", "POST"])
def transfer_request(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    patient = get_patient_for_user(request, patient_uuid, write=True)
    pending = patient.transfers.filter(state=TransferState.PENDING).select_related("to_village").first()
    form = TransferRequestForm(request.POST if request.method == "POST" else None, patient=patient)
    if form.is_bound and form.is_valid():
        try:
            transfers.request_transfer(
                actor=request.user,
                patient=patient,
                to_village=form.cleaned_data["target"],
                reason=form.cleaned_data["reason"],
                today=timezone.localdate(),
            )
        except transfers.TransferError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("迁移申请已提交。对方接收前，患者仍由本辖区管理。"))
            return redirect("registry:patient_detail", patient_uuid=patient.uuid)
    detail: dict[str, object] = {"page": "transfer_request"}
    if form.is_bound:  # re-shown after bad input: it shows the record again
        detail["redisplay"] = True
    record_event(actor=request.user, action=Action.VIEW, patient_uuids=[patient.uuid], detail=detail)
    context = {
        "patient": patient,
        "patient_title": patient.name,
        "can_write": can_write(request.user, patient),
        "can_view_access_log": can_view_access_log(request.user, patient),
        "form": form,
        "pending": pending,
    }
    return render(request, "registry/transfers/request.html", context)


@login_required
@require_GET
def transfer_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A doctor's transfers: pending requests to decide, recently accepted patients to visit, own requests."""
    user = request.user
    if not user.is_doctor:
        raise PermissionDenied
    today = timezone.localdate()
    incoming = transfers.rows(transfers.pending_incoming(user), today)
    accepted = transfers.rows(transfers.recently_accepted(user, today), today)
    outgoing = transfers.rows(transfers.recent_outgoing(user, today), today)
    shown = {row.patient_uuid for group in (incoming, accepted, outgoing) for row in group}
    record_event(actor=user, action=Action.LIST, patient_uuids=shown, detail={"page": "transfers"})
    context = {
        "incoming": incoming,
        "accepted": accepted,
        "outgoing": outgoing,
        "reject_form": TransferRejectForm(),
        "today": today,
    }
    return render(request, "registry/transfers/list.html", context)


@login_required
@require_POST
def transfer_accept(request: AuthenticatedHttpRequest, transfer_uuid: uuid.UUID) -> HttpResponse:
    transfer = transfers.get_transfer_for_user(request, transfer_uuid, side=transfers.Side.INCOMING, write=True)
    try:
        accepted = transfers.accept_transfer(actor=request.user, transfer=transfer, today=timezone.localdate())
    except transfers.TransferError as exc:
        messages.error(request, str(exc))
        return redirect("registry:transfer_list")
    messages.success(
        request,
        _("已接收该患者，请在 %(day)s 前完成首次随访。") % {"day": accepted.visit_by()},
    )
    return redirect("registry:patient_detail", patient_uuid=accepted.patient.uuid)


@login_required
@require_POST
def transfer_withdraw(request: AuthenticatedHttpRequest, transfer_uuid: uuid.UUID) -> HttpResponse:
    """The sender withdraws a pending request (404 outside the sending jurisdiction, 403 for read-only users)."""
    user = request.user
    transfer = transfers.get_transfer_for_user(request, transfer_uuid, side=transfers.Side.OUTGOING, write=True)
    try:
        transfers.withdraw_transfer(actor=user, transfer=transfer, today=timezone.localdate())
    except transfers.TransferError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("迁移申请已撤回。"))
    return redirect("registry:transfer_list")


@login_required
@require_POST
def transfer_reject(request: AuthenticatedHttpRequest, transfer_uuid: uuid.UUID) -> HttpResponse:
    transfer = transfers.get_transfer_for_user(request, transfer_uuid, side=transfers.Side.INCOMING, write=True)
    form = TransferRejectForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("reason", []):
            messages.error(request, str(error))
        return redirect("registry:transfer_list")
    try:
        transfers.reject_transfer(
            actor=request.user, transfer=transfer, reason=form.cleaned_data["reason"], today=timezone.localdate()
        )
    except transfers.TransferError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已拒绝该迁移申请，患者仍由迁出地管理。"))
    return redirect("registry:transfer_list")
