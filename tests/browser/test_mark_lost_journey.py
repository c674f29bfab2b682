"""Workflow nudge (issue 13 §5): from the work list's "not reached in a row" section, 标记失访 opens the status page
with 失访 and reason 4 (连续3次未访到) already chosen and the three attempts listed; one tap records it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from registry.codes import LostReason, Status
from registry.models import StatusChange
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import assert_errors_are_explained, log_in, screenshot
from tests.followup.base import RISPERIDONE, reached_data, record


def three_attempts(world: World) -> list[dt.date]:
    patient = world.patient_a
    first = TODAY - dt.timedelta(days=60)
    visit = reached_data(first, risk_level=1, classification=2, next_date=first + dt.timedelta(days=14))
    record(patient, world.doctor_a, visit, [RISPERIDONE])
    days = [TODAY - dt.timedelta(days=n) for n in (30, 20, 10)]
    for day in days:
        record(patient, world.doctor_a, {"date": day, "mode": 2, "outcome": "NOT_REACHED"}, [])
    return days


@pytest.mark.django_db(transaction=True)
def test_mark_lost_from_the_work_list_proposes_reason_4(world: World, live_server: Any, phone_page: Any) -> None:
    page = phone_page
    days = three_attempts(world)
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/followup/worklist/")
    row = page.locator(f'#not-reached tr[data-patient="{world.patient_a.uuid}"]')
    row.locator("text=标记失访").click()
    page.wait_for_url(re.compile(r"/status/\?"))
    assert page.input_value("select[name=to_status]") == Status.LOST
    assert page.input_value("select[name=lost_reason]") == str(LostReason.THREE_MISSED)
    attempts = page.inner_text(".attempts")
    assert "最近连续 3 次未访到" in attempts
    assert all(day.isoformat() in attempts for day in days)
    screenshot(page, "mark-lost-proposed")

    page.click("main form[method=post] button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.wait_for_url(re.compile(r"/patients/[0-9a-f-]+/$"))
    assert_errors_are_explained(page)
    world.patient_a.refresh_from_db()
    assert world.patient_a.status == Status.LOST
    change = StatusChange.objects.filter(patient=world.patient_a).latest("id")
    assert (change.to_status, change.lost_reason) == (Status.LOST, LostReason.THREE_MISSED)
