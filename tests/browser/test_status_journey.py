"""Every status change on a phone (→ 失访 with a reason, back to 在管理中, → 拒绝管理, → 死亡 with cause and
subcause) and the closure request reviewed by a second doctor, rejected then confirmed. A refusal names its
field and writes nothing; each change leaves its StatusChange / ClosureRequest row."""

from __future__ import annotations

from typing import Any

import pytest

from registry.codes import ClosureReason, DeathCause, LostReason, PhysicalDeathCause, Status
from registry.models import ClosureRequest, Patient, StatusChange
from tests.base import PASSWORD, World
from tests.browser.conftest import field_error, flash, log_in, screenshot, submit_form


def change_status(page: Any, live_server: Any, patient: Patient, to_status: str, **choices: int) -> None:
    page.goto(f"{live_server.url}/patients/{patient.uuid}/status/")
    page.select_option("select[name=to_status]", to_status)
    for name, value in choices.items():
        page.select_option(f"select[name={name}]", str(value))
    submit_form(page)


def changes(patient: Patient) -> list[tuple[str, str]]:
    return list(StatusChange.objects.filter(patient=patient).order_by("id").values_list("from_status", "to_status"))


@pytest.mark.django_db(transaction=True)
def test_each_status_change(world: World, live_server: Any, phone_page: Any) -> None:
    page, patient = phone_page, world.patient_a
    log_in(page, live_server, "doctor_a", PASSWORD)
    before = changes(patient)

    change_status(page, live_server, patient, Status.LOST)
    assert "请选择失访原因" in field_error(page, "lost_reason")
    screenshot(page, "status-01-lost-refused")
    assert changes(patient) == before

    change_status(page, live_server, patient, Status.LOST, lost_reason=LostReason.MOVED)
    assert "状态已变更" in flash(page)
    change_status(page, live_server, patient, Status.ACTIVE)
    change_status(page, live_server, patient, Status.REFUSED)
    change_status(page, live_server, patient, Status.DEAD, death_cause=DeathCause.PHYSICAL)
    assert "具体疾病类别" in field_error(page, "death_subcause")
    screenshot(page, "status-02-dead-refused")
    heart = PhysicalDeathCause.HEART
    change_status(page, live_server, patient, Status.DEAD, death_cause=DeathCause.PHYSICAL, death_subcause=heart)
    screenshot(page, "status-03-dead")

    patient.refresh_from_db()
    assert patient.status == Status.DEAD
    assert changes(patient)[len(before) :] == [
        (Status.ACTIVE, Status.LOST),
        (Status.LOST, Status.ACTIVE),
        (Status.ACTIVE, Status.REFUSED),
        (Status.REFUSED, Status.DEAD),
    ]
    rows = StatusChange.objects.filter(patient=patient).order_by("id")
    assert rows.get(to_status=Status.LOST).lost_reason == LostReason.MOVED
    death = rows.get(to_status=Status.DEAD)
    assert (death.death_cause, death.death_subcause, death.actor_id) == (
        DeathCause.PHYSICAL,
        PhysicalDeathCause.HEART,
        world.doctor_a.pk,
    )


def request_closure(page: Any, live_server: Any, patient: Patient) -> ClosureRequest:
    log_in(page, live_server, "doctor_a", PASSWORD)
    change_status(page, live_server, patient, Status.CLOSED)
    assert "请选择注销原因" in field_error(page, "closure_reason")
    assert not ClosureRequest.objects.filter(patient=patient, decision=ClosureRequest.Decision.PENDING).exists()
    change_status(page, live_server, patient, Status.CLOSED, closure_reason=ClosureReason.DUPLICATE)
    assert "注销申请已提交" in flash(page)
    closure = ClosureRequest.objects.get(patient=patient, decision=ClosureRequest.Decision.PENDING)
    page.goto(f"{live_server.url}/patients/{patient.uuid}/closure/{closure.uuid}/")
    assert page.locator("button[value=confirm]").count() == 0  # the requester cannot decide
    page.click("text=退出")
    return closure


def decide(page: Any, live_server: Any, patient: Patient, closure: ClosureRequest, decision: str) -> None:
    page.goto(f"{live_server.url}/patients/{patient.uuid}/closure/{closure.uuid}/")
    screenshot(page, f"closure-01-review-{decision}")
    submit_form(page, f"button[value={decision}]")
    screenshot(page, f"closure-02-{decision}ed")
    closure.refresh_from_db()
    patient.refresh_from_db()


@pytest.mark.django_db(transaction=True)
def test_closure_is_rejected_by_a_second_doctor_then_confirmed_by_the_county(
    world: World, live_server: Any, phone_page: Any, desktop_page: Any
) -> None:
    page, patient = phone_page, world.patient_a
    closure = request_closure(page, live_server, patient)
    log_in(page, live_server, "doctor_a2", PASSWORD)
    decide(page, live_server, patient, closure, "reject")
    assert (closure.decision, closure.decided_by_id) == (ClosureRequest.Decision.REJECTED, world.doctor_a2.pk)
    assert patient.status == Status.ACTIVE
    page.click("text=退出")

    closure = request_closure(page, live_server, patient)
    log_in(desktop_page, live_server, "county_d", PASSWORD)  # county staff review at a desk
    decide(desktop_page, live_server, patient, closure, "confirm")
    assert (closure.decision, closure.decided_by_id) == (ClosureRequest.Decision.CONFIRMED, world.county_d.pk)
    assert patient.status == Status.CLOSED
    closed = StatusChange.objects.get(patient=patient, to_status=Status.CLOSED)
    assert (closed.closure_reason, closed.actor_id) == (ClosureReason.DUPLICATE, world.doctor_a.pk)
