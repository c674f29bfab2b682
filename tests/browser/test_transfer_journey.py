"""Transfers on a phone: a request refused without a destination, then requested and withdrawn, requested and
rejected by the receiving doctor, requested and accepted. Transfer rows and custody (CustodySpan) are checked
after each step: custody moves only on acceptance."""

from __future__ import annotations

from typing import Any

import pytest

from registry.models import CustodySpan, Patient, Transfer, TransferState
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import flash, log_in, screenshot, submit_form


def open_custody(patient: Patient) -> list[tuple[str, object]]:
    spans = CustodySpan.objects.filter(patient=patient, end_date__isnull=True)
    return list(spans.values_list("area_id", "start_date"))


def request_transfer(page: Any, live_server: Any, world: World) -> Transfer:
    page.goto(f"{live_server.url}/patients/{world.patient_a.uuid}/transfer/")
    page.select_option("select[name=to_village]", world.village_b1.code)
    page.fill("textarea[name=reason]", "随子女居住")
    submit_form(page)
    assert "迁移申请已提交" in flash(page)
    return Transfer.objects.get(patient=world.patient_a, state=TransferState.PENDING)


def switch_to(page: Any, live_server: Any, username: str) -> None:
    page.click("text=退出")
    log_in(page, live_server, username, PASSWORD)


def as_receiver(page: Any, live_server: Any) -> None:
    switch_to(page, live_server, "doctor_b")
    page.goto(f"{live_server.url}/patients/transfers/")


@pytest.mark.django_db(transaction=True)
def test_request_withdraw_reject_accept(world: World, live_server: Any, phone_page: Any) -> None:
    page, patient = phone_page, world.patient_a
    custody = open_custody(patient)
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/patients/{patient.uuid}/transfer/")
    submit_form(page)
    assert "请选择迁入村(居)" in page.inner_text(".errorbox")
    screenshot(page, "transfer-journey-01-refused")
    assert not Transfer.objects.filter(patient=patient).exists()

    withdrawn = request_transfer(page, live_server, world)
    page.goto(f"{live_server.url}/patients/transfers/")
    screenshot(page, "transfer-journey-02-outgoing")
    submit_form(page, "form[action$='/withdraw/'] button")
    assert "迁移申请已撤回" in flash(page)
    withdrawn.refresh_from_db()
    assert withdrawn.state == TransferState.WITHDRAWN
    rejected = request_transfer(page, live_server, world)
    as_receiver(page, live_server)
    screenshot(page, "transfer-journey-03-incoming")
    page.fill("input[name=reason]", "查无此人")
    submit_form(page, "form[action$='/reject/'] button")
    assert "已拒绝该迁移申请" in flash(page)
    rejected.refresh_from_db()
    assert (rejected.state, rejected.rejection_reason, rejected.decided_by_id) == (
        TransferState.REJECTED,
        "查无此人",
        world.doctor_b.pk,
    )
    patient.refresh_from_db()
    assert (patient.village_id, open_custody(patient)) == (world.village_a1.code, custody)
    switch_to(page, live_server, "doctor_a")
    accepted = request_transfer(page, live_server, world)
    as_receiver(page, live_server)
    submit_form(page, "form[action$='/accept/'] button")
    assert "已接收该患者" in flash(page)
    screenshot(page, "transfer-journey-04-accepted")
    accepted.refresh_from_db()
    patient.refresh_from_db()
    assert (accepted.state, accepted.decided_on) == (TransferState.ACCEPTED, TODAY)
    assert patient.village_id == world.village_b1.code
    assert open_custody(patient) == [(world.village_b1.code, TODAY)]
    assert CustodySpan.objects.get(patient=patient, area=world.village_a1).end_date == TODAY
