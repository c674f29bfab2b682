"""How much a routine stable follow-up costs a doctor on a phone (issue 13 §2): taps from the work list to the
saved visit, and the form's length in screens (390×844). Before the phone work: 23 taps and 7.7 screens; now 16 taps
and 6.1 screens. The figures are printed (run with -s) and recorded in docs/performance.md; the test fails if the
flow grows past its budget."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from followup.models import FollowUp
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import PHONE, log_in, screenshot
from tests.followup.base import RISPERIDONE, reached_data, record

TAP_BUDGET = 16  # every item of the national form answered; 11 with only the required ones
SCREEN_BUDGET = 6.5  # the filled form's height in 390×844 screens (7.7 before the phone work)


class Taps:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.count = 0

    def __call__(self, selector: str) -> None:
        self.page.locator(selector).first.tap()
        self.count += 1


@pytest.mark.django_db(transaction=True)
def test_a_routine_stable_follow_up(world: World, live_server: Any, phone_page: Any) -> None:
    page = phone_page
    last = TODAY - dt.timedelta(days=95)
    record(world.patient_a, world.doctor_a, reached_data(last, next_date=last + dt.timedelta(days=91)), [RISPERIDONE])
    log_in(page, live_server, "doctor_a", PASSWORD)  # lands on the work list
    assert page.url.endswith("/followup/worklist/")
    tap = Taps(page)

    tap(f'#overdue tr[data-patient="{world.patient_a.uuid}"] a.button.primary')
    page.wait_for_url(re.compile(r"/new/$"))
    for selector in (
        "input[name=mode][value='2']",
        "input[name=contacts][value='1']",
        "input[name=outcome][value='REACHED']",
        "input[name=risk_level][value='0']",
        "input[name=insight][value='1']",
        "[data-all-normal]",
        "input[name=locking][value='1']",
        "input[name=hospitalisation][value='0']",
        "input[name=lab][value='1']",
        "input[name=adherence][value='1']",
        "input[name=adverse_reaction][value='1']",
        "input[name=treatment_effect][value='1']",
        "input[name=referral][value='1']",
        "#suggestion [data-adopt]",
    ):
        tap(selector)
    screens = page.evaluate("() => document.scrollingElement.scrollHeight") / PHONE["height"]
    screenshot(page, "taps-routine-stable-filled")
    tap("#save-followup")
    page.wait_for_url(re.compile(r"/timeline/$"))

    saved = FollowUp.objects.get(patient=world.patient_a, date=TODAY)
    assert (saved.outcome, saved.classification, saved.sleep, saved.social_contact) == ("REACHED", 3, 1, 1)
    figures = f"{tap.count} taps, {screens:.1f} screens of {PHONE['width']}x{PHONE['height']}"
    print(f"\nroutine stable follow-up: {figures}")  # noqa: T201  (the figure this test measures)
    assert tap.count <= TAP_BUDGET
    assert screens <= SCREEN_BUDGET
