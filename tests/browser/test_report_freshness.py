"""Issue 6, fresh reports: a follow-up a doctor saves on a phone is in the county's indicator report on the very
next request, no batch in between. Two real Chromium contexts against the live server: the doctor's phone and
the county staff's desktop, which reads the report API with its own session."""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest
from django.core.management import call_command

from metrics.state.read import is_built
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import log_in, screenshot
from tests.browser.test_followup_journey import fill_reached_visit, make_overdue

pytestmark = pytest.mark.django_db(transaction=True)


def managed(page: Any, url: str) -> int:
    response = page.request.get(url)
    assert response.status == 200, response.text()
    return int(response.json()["counts"]["managed"])


def test_a_follow_up_saved_on_a_phone_is_in_the_county_report_at_once(
    world: World, live_server: Any, phone_page: Any, desktop_page: Any
) -> None:
    make_overdue(world)  # seen last month: not yet managed in this month's report
    call_command("rebuild_indicator_state", stdout=io.StringIO())  # reports read the kept state, not the records
    assert is_built()
    api = f"{live_server.url}/reports/api/indicators?area={world.county.code}&period={TODAY:%Y-%m}"
    log_in(desktop_page, live_server, "county_d", PASSWORD)
    before = managed(desktop_page, api)

    doctor = phone_page
    log_in(doctor, live_server, "doctor_a", PASSWORD)
    doctor.goto(f"{live_server.url}/followup/patients/{world.patient_a.uuid}/new/")
    fill_reached_visit(doctor)
    doctor.click("#suggestion [data-adopt]")
    doctor.click("#save-followup")
    doctor.wait_for_url(re.compile(r"/timeline/$"))
    saved = time.monotonic()

    after = managed(desktop_page, api)  # the first request after the save, with no task or rebuild in between
    elapsed = time.monotonic() - saved
    assert after == before + 1
    desktop_page.goto(f"{live_server.url}/reports/?area={world.county.code}&period={TODAY:%Y-%m}")
    desktop_page.wait_for_selector("table.list")
    screenshot(desktop_page, "report-fresh-after-save")
    print(f"report reflected the save {elapsed * 1000:.0f} ms after the doctor's page returned")  # noqa: T201
