"""Transfer services (domain.md §4.4): request, accept, reject; custody history; repeats and races."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection

from casemgmt.accounts.models import Role
from casemgmt.audit.models import AuditEvent
from registry.models import CustodySpan, Patient, Transfer, TransferState
from registry.signals import patient_facts_changed
from registry.transfers import services as transfers
from tests.base import TODAY, World, build_world, make_user

pytestmark = pytest.mark.django_db


def request(world: World, **extra: Any) -> Transfer:
    return transfers.request_transfer(
        actor=world.doctor_a,
        patient=world.patient_a,
        to_village=extra.pop("to_village", world.village_b1),
        reason=extra.pop("reason", "随子女居住"),
        today=extra.pop("today", TODAY),
    )


def test_request_keeps_the_patient_with_the_sender(world: World) -> None:
    transfer = request(world)
    assert transfer.state == TransferState.PENDING
    assert transfer.from_village_id == world.village_a1.code
    assert Patient.objects.visible_to(world.doctor_a).filter(pk=world.patient_a.pk).exists()
    assert not Patient.objects.visible_to(world.doctor_b).filter(pk=world.patient_a.pk).exists()
    assert transfers.pending_incoming(world.doctor_b).get() == transfer
    event = AuditEvent.objects.filter(detail__transfer=str(transfer.uuid)).get()
    assert event.detail["step"] == "request"


def test_target_must_be_a_village_outside_the_township(world: World) -> None:
    with pytest.raises(transfers.TransferError, match="本乡镇"):
        request(world, to_village=world.village_a2)
    with pytest.raises(transfers.TransferError, match="本乡镇"):
        request(world, to_village=world.township_b)
    assert not Transfer.objects.exists()


def test_second_request_while_one_is_pending_is_refused(world: World) -> None:
    request(world)
    with pytest.raises(transfers.TransferError, match="待接收"):
        request(world)
    assert Transfer.objects.count() == 1


def test_accept_moves_the_record_and_the_custody(world: World) -> None:
    world.patient_a.custody_spans.update(start_date=TODAY - dt.timedelta(days=400))
    transfer = request(world, today=TODAY - dt.timedelta(days=3))
    announced: list[dict[str, Any]] = []

    def listener(**kwargs: Any) -> None:
        announced.append(kwargs)

    patient_facts_changed.connect(listener)
    try:
        transfers.accept_transfer(actor=world.doctor_b, transfer=transfer, today=TODAY)
    finally:
        patient_facts_changed.disconnect(listener)
    patient = Patient.objects.get(pk=world.patient_a.pk)
    assert patient.village_id == world.village_b1.code
    spans = list(
        CustodySpan.objects.filter(patient=patient)
        .order_by("start_date")
        .values_list("area_id", "start_date", "end_date")
    )
    assert spans == [
        (world.village_a1.code, TODAY - dt.timedelta(days=400), TODAY),
        (world.village_b1.code, TODAY, None),
    ]
    # Held by exactly one area on every day: the old span ends (exclusive) where the new one starts.
    from metrics.indicators.facts import held_at

    for day in (TODAY - dt.timedelta(days=1), TODAY, TODAY + dt.timedelta(days=1)):
        holders = set(held_at("320508", day).filter(patient=patient).values_list("area_id", flat=True))
        assert len(holders) == 1
    assert held_at("320508001", TODAY - dt.timedelta(days=1)).filter(patient=patient).exists()
    assert held_at("320508002", TODAY).filter(patient=patient).exists()
    assert not held_at("320508001", TODAY).filter(patient=patient).exists()
    assert announced == [
        {"signal": patient_facts_changed, "sender": "registry", "patient_ids": (patient.pk,), "since": TODAY}
    ]
    assert Patient.objects.visible_to(world.doctor_b).filter(pk=patient.pk).exists()
    assert not Patient.objects.visible_to(world.doctor_a).filter(pk=patient.pk).exists()
    transfer.refresh_from_db()
    assert transfer.visit_by() == TODAY + dt.timedelta(days=14)
    assert transfers.recently_accepted(world.doctor_b, TODAY).get() == transfer


def test_accepting_twice_gives_one_outcome(world: World) -> None:
    transfer = request(world)
    transfers.accept_transfer(actor=world.doctor_b, transfer=transfer, today=TODAY)
    with pytest.raises(transfers.TransferError, match=r"已于.*被接收，无需重复"):
        transfers.accept_transfer(actor=world.doctor_b, transfer=transfer, today=TODAY)
    assert CustodySpan.objects.filter(patient=world.patient_a).count() == 2


def test_rejecting_an_accepted_transfer_is_refused(world: World) -> None:
    transfer = request(world)
    transfers.accept_transfer(actor=world.doctor_b, transfer=transfer, today=TODAY)
    with pytest.raises(transfers.TransferError, match="不能再拒绝"):
        transfers.reject_transfer(actor=world.doctor_b, transfer=transfer, reason="不在本辖区", today=TODAY)
    transfer.refresh_from_db()
    assert transfer.state == TransferState.ACCEPTED


def test_reject_needs_a_reason_and_leaves_the_patient(world: World) -> None:
    transfer = request(world)
    with pytest.raises(transfers.TransferError, match="拒绝理由"):
        transfers.reject_transfer(actor=world.doctor_b, transfer=transfer, reason="  ", today=TODAY)
    transfers.reject_transfer(actor=world.doctor_b, transfer=transfer, reason="地址不在本辖区", today=TODAY)
    transfer.refresh_from_db()
    assert transfer.state == TransferState.REJECTED
    assert Patient.objects.get(pk=world.patient_a.pk).village_id == world.village_a1.code
    with pytest.raises(transfers.TransferError, match=r"已于.*被拒绝"):
        transfers.accept_transfer(actor=world.doctor_b, transfer=transfer, today=TODAY)
    # A new request is possible once the old one is decided.
    assert request(world).state == TransferState.PENDING


def test_only_a_receiving_doctor_decides(world: World) -> None:
    transfer = request(world)
    for actor in (world.doctor_a, world.county_d):
        with pytest.raises(transfers.TransferError, match="迁入地"):
            transfers.accept_transfer(actor=actor, transfer=transfer, today=TODAY)
    assert Transfer.objects.get(pk=transfer.pk).state == TransferState.PENDING


def test_follow_up_history_moves_with_the_patient(world: World) -> None:
    from tests.followup.base import reached_data, record

    followup = record(world.patient_a, world.doctor_a, reached_data())
    transfer = request(world)
    transfers.accept_transfer(actor=world.doctor_b, transfer=transfer, today=TODAY)
    visible = Patient.objects.visible_to(world.doctor_b).get(pk=world.patient_a.pk)
    assert list(visible.followups.values_list("pk", flat=True)) == [followup.pk]


def test_long_pending_for_the_county(world: World) -> None:
    old = request(world, today=TODAY - dt.timedelta(days=15))
    assert list(transfers.long_pending(["320508"], TODAY)) == [old]
    assert list(transfers.long_pending(["320508"], TODAY - dt.timedelta(days=1))) == []
    assert list(transfers.long_pending(["320509"], TODAY)) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_doctors_accepting_at_once_move_the_record_once() -> None:
    world = build_world()
    doctor_b2 = make_user("doctor_b2", Role.DOCTOR, world.township_b)
    transfer = request(world)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(actor: Any) -> None:
        try:
            barrier.wait(timeout=10)
            transfers.accept_transfer(actor=actor, transfer=transfer, today=TODAY)
            outcomes.append("accepted")
        except transfers.TransferError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(actor,)) for actor in (world.doctor_b, doctor_b2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes, key=len)[0] == "accepted"
    assert outcomes.count("accepted") == 1
    assert any("无需重复" in o for o in outcomes)
    assert CustodySpan.objects.filter(patient=world.patient_a, end_date__isnull=True).count() == 1
    assert CustodySpan.objects.filter(patient=world.patient_a).count() == 2
    assert Transfer.objects.get(pk=transfer.pk).state == TransferState.ACCEPTED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_leave_one_pending() -> None:
    world = build_world()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def ask(target: Any) -> None:
        try:
            barrier.wait(timeout=10)
            request(world, to_village=target)
            outcomes.append("requested")
        except transfers.TransferError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(world.village_b1,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes.count("requested") == 1
    assert Transfer.objects.filter(state=TransferState.PENDING).count() == 1


def test_withdraw_by_the_sender_only_while_pending(world: World) -> None:
    transfer = request(world)
    with pytest.raises(transfers.TransferError, match="迁出地"):
        transfers.withdraw_transfer(actor=world.doctor_b, transfer=transfer, today=TODAY)
    transfers.withdraw_transfer(actor=world.doctor_a, transfer=transfer, today=TODAY)
    assert Transfer.objects.get(pk=transfer.pk).state == TransferState.WITHDRAWN
    with pytest.raises(transfers.TransferError, match="撤回"):
        transfers.accept_transfer(actor=world.doctor_b, transfer=transfer, today=TODAY)
    with pytest.raises(transfers.TransferError, match="无需撤回"):
        transfers.withdraw_transfer(actor=world.doctor_a, transfer=transfer, today=TODAY)
    accepted = request(world)
    transfers.accept_transfer(actor=world.doctor_b, transfer=accepted, today=TODAY)
    with pytest.raises(transfers.TransferError, match="不能撤回"):
        transfers.withdraw_transfer(actor=world.doctor_a, transfer=accepted, today=TODAY)


def test_a_move_within_the_township_while_pending_still_accepts(world: World) -> None:
    transfer = request(world)
    Patient.objects.filter(pk=world.patient_a.pk).update(village=world.village_a2)
    transfers.accept_transfer(actor=world.doctor_b, transfer=transfer, today=TODAY)
    assert Patient.objects.get(pk=world.patient_a.pk).village_id == world.village_b1.code


def test_indicators_count_the_patient_once_on_either_side_of_acceptance(world: World) -> None:
    """Registered (R) per township for the month before and the month of acceptance: A then B, never both."""
    from metrics.indicators.definitions import membership
    from metrics.indicators.facts import iter_facts
    from metrics.indicators.options import default_options
    from metrics.indicators.periods import parse_period

    this_month = TODAY.replace(day=1)
    accepted_on = (this_month - dt.timedelta(days=1)).replace(day=10)  # the 10th of last month
    month_before = (accepted_on.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    month_of = accepted_on.strftime("%Y-%m")
    transfer = request(world, today=accepted_on - dt.timedelta(days=3))
    transfers.accept_transfer(actor=world.doctor_b, transfer=transfer, today=accepted_on)
    mine = str(world.patient_a.pk)

    def registered(prefix: str, period_text: str) -> set[str]:
        period = parse_period(period_text)
        return {
            f.key
            for f in iter_facts(prefix, period)
            if membership(f, prefix, period, default_options()).registered and f.key == mine
        }

    assert registered("320508001", month_before) == {mine}
    assert registered("320508002", month_before) == set()
    assert registered("320508001", month_of) == set()
    assert registered("320508002", month_of) == {mine}
    assert registered("320508", month_before) == registered("320508", month_of) == {mine}
