"""A follow-up whose outcome is 未访到, 失访 or 死亡, saved on a phone in real Chromium, with JavaScript on and off,
for a patient with and without a current regimen. The database must hold the attempt afterwards.

The suite once passed while none of these could be saved: the form's script disabled the hidden medication rows,
the browser sent none of them while the management form still counted them, and the server refused two "empty"
rows with an error summary and no field message. Every branch here is walked as a doctor would walk it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from followup.models import FollowUp
from registry.codes import Status
from registry.models import Patient
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import assert_errors_are_explained, log_in, screenshot
from tests.followup.base import RISPERIDONE, reached_data, record

LAST_VISIT = TODAY - dt.timedelta(days=30)
DEATH_DAY = TODAY - dt.timedelta(days=2)


def seen_before(world: World, *, on_medication: bool) -> Patient:
    """patient_a was seen 30 days ago (basically stable), with or without a drug going forward."""
    record(
        world.patient_a,
        world.doctor_a,
        reached_data(LAST_VISIT, risk_level=1, classification=2, next_date=LAST_VISIT + dt.timedelta(days=14)),
        [RISPERIDONE] if on_medication else [],
    )
    return world.patient_a


def fill_attempt(page: Any, outcome: str) -> None:
    """The answers of an attempt, as a doctor taps them: how, the outcome, and what that outcome asks for."""
    page.check("input[name=mode][value='2']")
    page.check(f"input[name=outcome][value='{outcome}']")
    if outcome == "LOST":
        page.select_option("select[name=lost_reason]", "2")
    if outcome == "DEAD":
        page.fill("input[name=death_date]", DEATH_DAY.isoformat())
        page.select_option("select[name=death_cause]", "1")
        page.select_option("select[name=death_subcause]", "1")


CASES = [
    pytest.param((outcome, javascript, on_medication), id=f"{outcome}-{js_id}-{med_id}")
    for outcome in ("NOT_REACHED", "LOST", "DEAD")
    for javascript, js_id in ((True, "js"), (False, "no-js"))
    for on_medication, med_id in ((True, "on-medication"), (False, "no-medication"))
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", CASES)
def test_an_attempt_that_did_not_reach_the_patient_is_saved(
    world: World, live_server: Any, request: pytest.FixtureRequest, case: tuple[str, bool, bool]
) -> None:
    outcome, javascript, on_medication = case
    page = request.getfixturevalue("phone_page" if javascript else "phone_page_without_javascript")
    patient = seen_before(world, on_medication=on_medication)
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/followup/patients/{patient.uuid}/new/")
    fill_attempt(page, outcome)
    name = f"missed-{outcome.lower()}-{'js' if javascript else 'nojs'}-{'med' if on_medication else 'nomed'}"
    screenshot(page, f"{name}-filled")

    page.click("#save-followup")
    page.wait_for_load_state("networkidle")
    screenshot(page, f"{name}-after")
    assert_errors_are_explained(page)
    page.wait_for_url(re.compile(r"/timeline/$"))
    assert "随访已保存" in page.inner_text(".messages")

    saved = FollowUp.objects.get(patient=patient, date=TODAY)
    assert saved.outcome == outcome
    assert saved.medications.count() == 0  # an attempt carries no regimen
    assert saved.risk_level is None and saved.classification is None and saved.next_date is None
    patient.refresh_from_db()
    if outcome == "LOST":
        assert saved.lost_reason == 2
        assert patient.status == Status.LOST
    elif outcome == "DEAD":
        assert (saved.death_date, saved.death_cause, saved.death_subcause) == (DEATH_DAY, 1, 1)
        assert patient.status == Status.DEAD
    else:
        assert patient.status == Status.ACTIVE
    # The reached visit before it keeps its regimen: an attempt does not stop a prescription.
    earlier = FollowUp.objects.get(patient=patient, date=LAST_VISIT)
    assert earlier.medications.count() == (1 if on_medication else 0)


@pytest.mark.django_db(transaction=True)
def test_an_attempt_with_a_missing_answer_names_the_field(world: World, live_server: Any, phone_page: Any) -> None:
    """The refusal of a lost attempt without its reason points at the reason, and nothing is saved."""
    page = phone_page
    patient = seen_before(world, on_medication=True)
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/followup/patients/{patient.uuid}/new/")
    page.check("input[name=mode][value='2']")
    page.check("input[name=outcome][value='LOST']")
    page.click("#save-followup")
    page.wait_for_load_state("networkidle")
    assert_errors_are_explained(page)
    assert "请选择失访原因" in page.inner_text("[data-field=lost_reason]")
    assert not FollowUp.objects.filter(patient=patient, date=TODAY).exists()
