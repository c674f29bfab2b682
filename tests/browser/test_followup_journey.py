"""The doctor's follow-up journey on a phone (390×844) in real Chromium: the work list shows an overdue patient,
the doctor records a reached follow-up with medication, and the patient leaves the overdue list. A second test
drives the live rules of static/js/followup.js. Screenshots at each step go to artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from casemgmt.dates import add_months
from followup.models import FollowUp
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import log_in, screenshot
from tests.followup.base import RISPERIDONE, reached_data, record

LAST_VISIT = TODAY - dt.timedelta(days=30)


def make_overdue(world: World) -> None:
    """patient_a was seen 30 days ago, basically stable, due 14 days later: 16 days overdue now."""
    record(
        world.patient_a,
        world.doctor_a,
        reached_data(LAST_VISIT, risk_level=1, classification=2, next_date=LAST_VISIT + dt.timedelta(days=14)),
        [RISPERIDONE],
    )


def overdue_row(page: Any, world: World) -> Any:
    return page.locator(f'#overdue tr[data-patient="{world.patient_a.uuid}"]')


def fill_reached_visit(page: Any) -> None:
    """The answers of a calm home visit, tapped as a doctor would."""
    page.check("input[name=mode][value='2']")
    page.check("input[name=contacts][value='1']")
    page.check("input[name=outcome][value='REACHED']")
    for name, value in (
        ("risk_level", "0"),
        ("insight", "1"),
        ("sleep", "1"),
        ("diet", "1"),
        ("social_selfcare", "1"),
        ("social_housework", "1"),
        ("social_work", "9"),
        ("social_learning", "2"),
        ("social_contact", "1"),
        ("locking", "1"),
        ("hospitalisation", "0"),
        ("lab", "1"),
        ("adherence", "1"),
        ("adverse_reaction", "1"),
        ("treatment_effect", "2"),
        ("referral", "1"),
    ):
        page.check(f"input[name={name}][value='{value}']")
    page.check("input[name=family_support]")


@pytest.mark.django_db(transaction=True)
def test_doctor_records_an_overdue_follow_up_on_a_phone(world: World, live_server: Any, phone_page: Any) -> None:
    page = phone_page
    make_overdue(world)
    log_in(page, live_server, "doctor_a", PASSWORD)
    screenshot(page, "followup-01-logged-in")

    page.click("text=随访任务")
    page.wait_for_url(re.compile(r"/followup/worklist/$"))
    row = overdue_row(page, world)
    assert row.count() == 1
    assert world.patient_a.name in row.inner_text() and "逾期 16 天" in row.inner_text()
    screenshot(page, "followup-02-worklist-overdue")

    row.locator("a.button.primary").click()
    page.wait_for_url(re.compile(r"/new/$"))
    assert page.locator("[data-outcome=REACHED]").is_hidden()  # nothing clinical until the outcome is chosen
    screenshot(page, "followup-03-empty-form")

    fill_reached_visit(page)
    suggestion = page.locator("#suggestion")
    assert "稳定" in suggestion.inner_text()
    expected_next = add_months(TODAY, 3).isoformat()  # stable: 3 calendar months
    assert page.input_value("input[name=next_date]") == expected_next
    page.click("#suggestion [data-adopt]")
    assert page.is_checked("input[name=classification][value='3']")

    # The last regimen is prefilled; add a long-acting injection: the shape follows the drug.
    # The spare blank row waits behind "添加药物" (shown first, before a new row is made).
    assert page.input_value("input[name=med-0-drug]") == "利培酮"
    assert not page.is_visible("input[name=med-1-drug]")
    page.click("#add-med")
    page.fill("input[name=med-1-drug]", "棕榈酸帕利哌酮注射液")
    page.press("input[name=med-1-drug]", "Tab")
    assert page.input_value("select[name=med-1-shape]") == "depot"
    page.fill("input[name=med-1-depot_every_weeks]", "4")
    page.fill("input[name=med-1-depot_mg]", "150")
    screenshot(page, "followup-04-filled-form")

    page.click("#save-followup")
    page.wait_for_url(re.compile(r"/timeline/$"))
    assert "随访已保存" in page.inner_text(".messages")
    screenshot(page, "followup-05-saved-timeline")

    followup = FollowUp.objects.get(date=TODAY)
    assert (followup.outcome, followup.classification, followup.next_date) == ("REACHED", 3, add_months(TODAY, 3))
    assert sorted(row.drug for row in followup.medications.all()) == ["利培酮", "棕榈酸帕利哌酮注射液"]

    page.click("text=随访任务")
    page.wait_for_url(re.compile(r"/followup/worklist/$"))
    assert overdue_row(page, world).count() == 0
    screenshot(page, "followup-06-worklist-after")


@pytest.mark.django_db(transaction=True)
def test_the_form_applies_the_rules_live(world: World, live_server: Any, phone_page: Any) -> None:
    page = phone_page
    make_overdue(world)
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/followup/patients/{world.patient_a.uuid}/new/")

    # Not reached: the clinical part is hidden and disabled, so none of it is sent.
    page.check("input[name=outcome][value='NOT_REACHED']")
    assert page.locator("[data-outcome=REACHED]").is_hidden()
    assert page.locator("[data-outcome=REACHED]").evaluate("el => el.disabled")
    page.check("input[name=outcome][value='LOST']")
    assert page.locator("select[name=lost_reason]").is_visible()

    page.check("input[name=outcome][value='REACHED']")
    fill_reached_visit(page)
    # Risk 3 suggests unstable and a 14-day interval.
    page.check("input[name=risk_level][value='3']")
    assert "不稳定" in page.inner_text("#suggestion")
    assert page.input_value("input[name=next_date]") == (TODAY + dt.timedelta(days=14)).isoformat()

    # Self-harm with a risk below 4 asks for the confirmation.
    confirm = page.locator("[data-confirm-self-harm]")
    assert confirm.is_hidden()
    page.check("input[name=risk_level][value='2']")
    page.fill("input[name=self_harm]", "1")
    assert confirm.is_visible()
    page.check("input[name=risk_level][value='4']")
    assert confirm.is_hidden()

    # Hospitalisation 2 asks for the discharge date.
    discharge = page.locator("[data-field=last_discharge_date]")
    assert discharge.is_hidden()
    page.check("input[name=hospitalisation][value='2']")
    assert discharge.is_visible()

    # A later date than proposed asks for a reason; an earlier one does not.
    reason = page.locator("[data-later-reason]")
    page.check("input[name=classification][value='1']")
    page.fill("input[name=next_date]", (TODAY + dt.timedelta(days=30)).isoformat())
    page.press("input[name=next_date]", "Tab")
    assert reason.is_visible() and "请填写理由" in page.inner_text("#suggestion")
    page.fill("input[name=next_date]", (TODAY + dt.timedelta(days=7)).isoformat())
    page.press("input[name=next_date]", "Tab")
    assert reason.is_hidden()
    screenshot(page, "followup-07-live-rules")

    # The server is authoritative: without the confirmation it refuses, and nothing is saved.
    page.check("input[name=risk_level][value='2']")
    page.click("#save-followup")
    page.wait_for_load_state("networkidle")
    assert "请核实并勾选确认" in page.inner_text("#followup-form")
    assert FollowUp.objects.filter(date=TODAY).count() == 0
    screenshot(page, "followup-08-server-refuses")


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth"))


@pytest.mark.django_db(transaction=True)
def test_the_patient_pages_fit_a_phone_and_a_desktop(
    world: World, live_server: Any, phone_page: Any, desktop_page: Any
) -> None:
    make_overdue(world)
    base = f"{live_server.url}/followup/patients/{world.patient_a.uuid}"
    log_in(desktop_page, live_server, "doctor_a", PASSWORD)
    desktop_page.goto(f"{base}/new/")
    desktop_page.check("input[name=outcome][value='REACHED']")
    screenshot(desktop_page, "followup-09-form-desktop")
    assert no_sideways_scroll(desktop_page)

    log_in(phone_page, live_server, "doctor_a", PASSWORD)
    for path, text, name in (
        ("/new/", "随访服务记录表", "followup-10-form-phone"),
        ("/timeline/", "随访时间线", "followup-11-timeline-phone"),
        ("/medication/", "服药依从性", "followup-12-medication-phone"),
        ("/rehab/", "登记社区康复", "followup-13-rehab-phone"),
        ("/health-check/", "登记健康体检", "followup-14-health-check-phone"),
    ):
        phone_page.goto(f"{base}{path}")
        if path == "/new/":
            phone_page.check("input[name=outcome][value='REACHED']")
        assert text in phone_page.inner_text("main"), path
        assert no_sideways_scroll(phone_page), path
        screenshot(phone_page, name)
    phone_page.goto(f"{live_server.url}/patients/{world.patient_a.uuid}/")
    assert "逾期 16 天" in phone_page.inner_text(".followup-panel")
    assert no_sideways_scroll(phone_page)
    screenshot(phone_page, "followup-15-registry-panel-phone")
