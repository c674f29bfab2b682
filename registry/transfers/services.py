"""Transfers between jurisdictions (domain.md §4.4): the writes and the lists the transfer pages show.

Who may do what:

- request: a doctor of the jurisdiction that holds the patient (the view reached the patient through
  ``registry.access.visibility.get_patient_for_user(..., write=True)``).
- accept / reject: a doctor of the receiving township. The views reach the transfer through
  ``get_transfer_for_user(side=Side.INCOMING, write=True)`` (404 outside, 403 for read-only users); the services
  check the doctor's jurisdiction over the target village once more under the row lock, because that is where a
  decision is final.

Visibility of the patient never changes here except through the record's village: until acceptance the
sender keeps the patient (``Patient.objects.visible_to`` reads ``Patient.village``), and the receiving doctor
sees only the masked summary of the request. Every action writes an audit event with UUIDs only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import User
from casemgmt.areas.models import Area, AreaLevel
from casemgmt.areas.scope import within
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from registry import codes
from registry.access.visibility import in_jurisdiction
from registry.models import LONG_PENDING_DAYS, CustodySpan, Patient, Transfer, TransferState
from registry.patients import masking
from registry.signals import announce_patient_change, announce_record_arrived

REASON_MAX = 200


class TransferError(Exception):
    """A transfer action the rules refuse; the message (Chinese) is for the user."""


def township_code(village_code: str) -> str:
    """The township holding a village: its first 9 digits."""
    return village_code[:9]


def is_valid_target(patient_village_code: str, target: Area) -> bool:
    """A target is a village in force (not retired by an area change) outside the patient's current township."""
    return (
        target.level == AreaLevel.VILLAGE
        and target.retired_on is None
        and township_code(target.code) != township_code(patient_village_code)
    )


def target_choices(patient: Patient) -> QuerySet[Area]:
    """Villages of the same county outside the current township (the picker; other codes may be typed)."""
    county = patient.village_id[:6]
    return (
        Area.objects.filter(level=AreaLevel.VILLAGE, code__startswith=county, retired_on__isnull=True)
        .exclude(code__startswith=township_code(patient.village_id))
        .select_related("parent")
        .order_by("code")
    )


def _audit(actor: User, transfer: Transfer, step: str, action: str = Action.UPDATE) -> None:
    record_event(
        actor=actor,
        action=action,
        patient_uuids=[transfer.patient.uuid],
        detail={
            "transfer": str(transfer.uuid),
            "step": step,
            "from": transfer.from_village_id,
            "to": transfer.to_village_id,
        },
    )


def request_transfer(*, actor: User, patient: Patient, to_village: Area, reason: str, today: dt.date) -> Transfer:
    """Ask the township of ``to_village`` to take over the patient.

    Permission: the caller checked that ``actor`` may write ``patient`` (``get_patient_for_user(write=True)``).
    Refused (``TransferError``): a target that is no village or lies in the current township, a record that is
    dead or closed, and a second request while one is pending (also when two requests race: the database's
    one-pending constraint decides, and the loser gets the same message).
    """
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise TransferError(_("迁移原因不能超过%(max)d个字。") % {"max": REASON_MAX})
    try:
        with transaction.atomic():
            locked = Patient.objects.select_for_update().get(pk=patient.pk)
            if locked.status not in codes.REGISTERED_STATUSES:
                raise TransferError(_("该档案已死亡或注销，不能申请迁移。"))
            if not is_valid_target(locked.village_id, to_village):
                raise TransferError(_("迁入地必须是本乡镇(街道)以外的村(居)。"))
            if Transfer.objects.filter(patient=locked, state=TransferState.PENDING).exists():
                raise TransferError(_("该患者已有一条待接收的迁移申请，请等待对方处理。"))
            transfer = Transfer.objects.create(
                patient=locked,
                from_village_id=locked.village_id,
                to_village=to_village,
                reason=reason,
                requested_by=actor,
                requested_on=today,
            )
            _audit(actor, transfer, "request", Action.CREATE)
    except IntegrityError as exc:  # a concurrent request won the one-pending constraint
        raise TransferError(_("该患者已有一条待接收的迁移申请，请等待对方处理。")) from exc
    return transfer


def _locked_pending(transfer: Transfer, *, accepting: bool) -> Transfer:
    """The transfer row, locked, if it is still pending; otherwise a message saying what happened to it."""
    locked = Transfer.objects.select_for_update().select_related("patient").get(pk=transfer.pk)
    if locked.state == TransferState.ACCEPTED:
        if accepting:
            raise TransferError(_("该迁移申请已于%(day)s被接收，无需重复操作。") % {"day": locked.decided_on})
        raise TransferError(_("该迁移申请已于%(day)s被接收，不能再拒绝。") % {"day": locked.decided_on})
    if locked.state == TransferState.REJECTED:
        raise TransferError(_("该迁移申请已于%(day)s被拒绝，不能再处理。") % {"day": locked.decided_on})
    if locked.state == TransferState.WITHDRAWN:
        raise TransferError(_("该迁移申请已于%(day)s被迁出方撤回。") % {"day": locked.decided_on})
    return locked


def _check_receiver(actor: User, transfer: Transfer) -> None:
    if not (getattr(actor, "is_doctor", False) and in_jurisdiction(actor, transfer.to_village_id)):
        raise TransferError(_("只有迁入地乡镇(街道)的精防医生可以处理该申请。"))


def accept_transfer(*, actor: User, transfer: Transfer, today: dt.date) -> Transfer:
    """Take over the patient: the record moves to the target village from ``today``.

    Permission: the caller reached the transfer through ``get_transfer_for_user(side=Side.INCOMING, write=True)``;
    the receiving jurisdiction is checked again here under the lock. The transfer row is locked first, then the
    patient, so two doctors accepting at once are serialised: the first moves the record, the second gets
    "already accepted" and nothing is written twice. The open custody span ends on ``today`` (exclusive) and a
    new one starts on ``today``, so the patient is held by exactly one area on every day.
    """
    with transaction.atomic():
        locked = _locked_pending(transfer, accepting=True)
        _check_receiver(actor, locked)
        patient = Patient.objects.select_for_update().get(pk=locked.patient_id)
        # A move within the sending township while the request waited changes nothing; anything else does.
        if township_code(patient.village_id) != township_code(locked.from_village_id):
            raise TransferError(_("患者现住址已变更，该申请已失效，请迁出方撤回后重新申请。"))
        if patient.status not in codes.REGISTERED_STATUSES:
            raise TransferError(_("该档案已死亡或注销，不能接收。"))
        if locked.to_village.retired_on is not None:  # retired by an area change while the request waited
            raise TransferError(
                _("迁入地%(village)s已于%(day)s撤销（区划变更），请迁出方撤回后重新申请。")
                % {"village": locked.to_village.name, "day": locked.to_village.retired_on}
            )
        open_spans = CustodySpan.objects.filter(patient=patient, end_date__isnull=True)
        if open_spans.filter(start_date__gt=today).exists():
            raise TransferError(_("接收日期早于档案现有管辖记录的开始日期，请核对。"))
        open_spans.update(end_date=today)
        CustodySpan.objects.create(patient=patient, area=locked.to_village, start_date=today)
        patient.village = locked.to_village
        patient.save(update_fields=["village", "updated_at"])
        locked.state = TransferState.ACCEPTED
        locked.decided_by = actor
        locked.decided_on = today
        locked.decided_at = timezone.now()
        locked.save(update_fields=["state", "decided_by", "decided_on", "decided_at"])
        _audit(actor, locked, "accept")
        announce_patient_change(patient_id=patient.pk, since=today)
        announce_record_arrived(patient_id=patient.pk)
    return locked


def reject_transfer(*, actor: User, transfer: Transfer, reason: str, today: dt.date) -> Transfer:
    """Refuse the transfer with a reason; the patient stays with the sender.

    Permission: as ``accept_transfer`` (the caller reached it through ``get_transfer_for_user``; checked again here).
    """
    reason = (reason or "").strip()
    if not reason:
        raise TransferError(_("请填写拒绝理由。"))
    if len(reason) > REASON_MAX:
        raise TransferError(_("拒绝理由不能超过%(max)d个字。") % {"max": REASON_MAX})
    with transaction.atomic():
        locked = _locked_pending(transfer, accepting=False)
        _check_receiver(actor, locked)
        locked.state = TransferState.REJECTED
        locked.decided_by = actor
        locked.decided_on = today
        locked.decided_at = timezone.now()
        locked.rejection_reason = reason
        locked.save(update_fields=["state", "decided_by", "decided_on", "decided_at", "rejection_reason"])
        _audit(actor, locked, "reject")
    return locked


def withdraw_transfer(*, actor: User, transfer: Transfer, today: dt.date) -> Transfer:
    """The sender takes back a pending request (e.g. the patient stays after all); the patient stays put.

    Permission: the caller reached the transfer through ``get_transfer_for_user(side=Side.OUTGOING, write=True)``;
    checked again here: a doctor of the sending jurisdiction.
    """
    with transaction.atomic():
        locked = Transfer.objects.select_for_update().select_related("patient").get(pk=transfer.pk)
        if locked.state == TransferState.ACCEPTED:
            raise TransferError(_("该迁移申请已于%(day)s被接收，不能撤回。") % {"day": locked.decided_on})
        if locked.state != TransferState.PENDING:
            raise TransferError(_("该迁移申请已处理，无需撤回。"))
        if not (getattr(actor, "is_doctor", False) and in_jurisdiction(actor, locked.from_village_id)):
            raise TransferError(_("只有迁出地的精防医生可以撤回该申请。"))
        locked.state = TransferState.WITHDRAWN
        locked.decided_by = actor
        locked.decided_on = today
        locked.decided_at = timezone.now()
        locked.save(update_fields=["state", "decided_by", "decided_on", "decided_at"])
        _audit(actor, locked, "withdraw")
    return locked


# --- what the pages list -------------------------------------------------------------------------------------


class Side(StrEnum):
    """Which end of a transfer lies in the user's jurisdiction."""

    INCOMING = "incoming"  # the target village: the receiving side, which decides
    OUTGOING = "outgoing"  # the source village: the sending side, which may withdraw


SIDE_FIELDS = {Side.INCOMING: "to_village__code", Side.OUTGOING: "from_village__code"}


def transfers_visible_to(user: User, *, side: Side) -> QuerySet[Transfer]:
    """Transfers whose ``side`` end lies in the user's jurisdiction; every transfer list starts here."""
    return Transfer.objects.filter(within(user.jurisdiction_prefixes(), SIDE_FIELDS[side]))


def get_transfer_for_user(
    request: AuthenticatedHttpRequest, transfer_uuid: uuid.UUID | str, *, side: Side, write: bool = False
) -> Transfer:
    """The transfer, if its ``side`` end lies in the user's jurisdiction (404 otherwise: missing and not yours
    alike); with ``write`` (deciding, withdrawing) 403 for read-only users (area staff)."""
    user = request.user
    transfer = transfers_visible_to(user, side=side).select_related("patient").filter(uuid=transfer_uuid).first()
    if transfer is None:
        raise Http404
    if write and not user.is_doctor:
        raise PermissionDenied
    return transfer


def long_pending(prefixes: list[str], today: dt.date, days: int = LONG_PENDING_DAYS) -> QuerySet[Transfer]:
    """Transfers pending for more than ``days`` with either end under the prefixes (the county page)."""
    return (
        Transfer.objects.filter(state=TransferState.PENDING, requested_on__lt=today - dt.timedelta(days=days))
        .filter(within(prefixes, "from_village__code") | within(prefixes, "to_village__code"))
        .select_related("patient", "from_village", "to_village")
        .order_by("requested_on", "id")
    )


@dataclass(frozen=True)
class TransferRow:
    """One line of a transfer list: masked identity and the facts needed to decide, nothing more."""

    uuid: UUID
    patient_uuid: UUID
    name: str
    national_id: str
    sex: str
    age: int
    disorder: str
    status: str
    from_village: str
    to_village: str
    reason: str
    state: str
    state_label: str
    requested_on: dt.date
    requested_by: str
    pending_days: int
    decided_on: dt.date | None
    rejection_reason: str
    visit_by: dt.date | None
    visit_overdue: bool


def rows(transfers: Iterable[Transfer], today: dt.date) -> list[TransferRow]:
    """Masked rows (张*三, 3205**********123X) for any list of transfers (select_related done by the caller)."""
    out = []
    for t in transfers:
        patient = t.patient
        visit_by = t.visit_by()
        out.append(
            TransferRow(
                uuid=t.uuid,
                patient_uuid=patient.uuid,
                name=masking.mask_name(patient.name),
                national_id=masking.mask_national_id(patient.national_id),
                sex=patient.get_sex_display(),
                age=patient.age_on(today),
                disorder=patient.get_disorder_display(),
                status=patient.get_status_display(),
                from_village=t.from_village.name,
                to_village=t.to_village.name,
                reason=t.reason,
                state=t.state,
                state_label=t.get_state_display(),
                requested_on=t.requested_on,
                requested_by=str(t.requested_by),
                pending_days=t.pending_days(today),
                decided_on=t.decided_on,
                rejection_reason=t.rejection_reason,
                visit_by=visit_by,
                visit_overdue=bool(visit_by and today > visit_by),
            )
        )
    return out


RECENT_DAYS = 60  # decided transfers stay on the lists this long


def with_related(queryset: QuerySet[Transfer]) -> QuerySet[Transfer]:
    return queryset.select_related("patient", "from_village", "to_village", "requested_by")


def pending_incoming(user: User) -> QuerySet[Transfer]:
    return with_related(transfers_visible_to(user, side=Side.INCOMING).filter(state=TransferState.PENDING)).order_by(
        "requested_on", "id"
    )


def recently_accepted(user: User, today: dt.date) -> QuerySet[Transfer]:
    """Accepted into the user's jurisdiction lately: the "visit within 2 weeks" reminders."""
    since = today - dt.timedelta(days=RECENT_DAYS)
    return with_related(
        transfers_visible_to(user, side=Side.INCOMING).filter(state=TransferState.ACCEPTED, decided_on__gte=since)
    ).order_by("decided_on", "id")


def recent_outgoing(user: User, today: dt.date) -> QuerySet[Transfer]:
    since = today - dt.timedelta(days=RECENT_DAYS)
    recent = Q(state=TransferState.PENDING) | Q(decided_on__gte=since)
    return with_related(transfers_visible_to(user, side=Side.OUTGOING).filter(recent)).order_by("-requested_on", "-id")
