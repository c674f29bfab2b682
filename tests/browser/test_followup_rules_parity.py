"""static/js/followup.js repeats the §7 rules in the browser; these tests run it in Chromium against
followup/rules.py over every combination of the inputs, so the live suggestion can never drift from the
server's (which stays authoritative)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from followup.visits import rules
from tests.base import PASSWORD, World
from tests.browser.conftest import log_in

RISKS = (None, 0, 1, 2, 3, 4, 5)
INSIGHTS = (None, 1, 2, 3)
FLAGS = (False, True)


def open_form(page: Any, live_server: Any, world: World) -> None:
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/followup/patients/{world.patient_a.uuid}/new/")
    page.wait_for_function("() => window.followupRules !== undefined")


@pytest.mark.django_db(transaction=True)
def test_the_suggestion_matches_the_server_rules(world: World, live_server: Any, desktop_page: Any) -> None:
    open_form(desktop_page, live_server, world)
    cases: list[dict[str, Any]] = [
        {
            "risk": risk,
            "insight": insight,
            "symptoms": ["1"] if symptoms else [],
            "psychotic": psychotic,
            "social": [1, 3 if poor else 2, 9],
            "severeAdverse": adverse,
            "severePhysical": physical,
            "unanswered": ["diet", "social_work"] if blank else [],
        }
        for risk, insight, symptoms, psychotic, poor, adverse, physical, blank in itertools.product(
            RISKS, INSIGHTS, FLAGS, FLAGS, FLAGS, FLAGS, FLAGS, FLAGS
        )
    ]
    browser = desktop_page.evaluate("cases => cases.map(c => window.followupRules.suggest(c))", cases)
    assert len(browser) == len(cases) == 1792
    for case, got in zip(cases, browser, strict=True):
        expected = rules.suggest_classification(
            rules.Assessment(
                risk_level=case["risk"],
                symptoms=tuple(int(s) for s in case["symptoms"]),
                obvious_psychotic_symptoms=case["psychotic"],
                insight=case["insight"],
                social=case["social"],
                severe_adverse_reaction=case["severeAdverse"],
                severe_physical_illness=case["severePhysical"],
                unanswered=tuple(case["unanswered"]),
            )
        )
        assert (got["classification"], tuple(got["reasons"]), got["doctorDecides"], tuple(got["needs"])) == (
            expected.classification,
            expected.reasons,
            expected.doctor_decides,
            expected.needs,
        ), case


@pytest.mark.django_db(transaction=True)
def test_the_next_date_matches_the_server_rules(world: World, live_server: Any, desktop_page: Any) -> None:
    open_form(desktop_page, live_server, world)
    days = [
        dt.date(2023, 1, 31),  # + 1 month = Feb 28
        dt.date(2024, 1, 31),  # leap year: Feb 29
        dt.date(2024, 11, 30),  # + 3 months crosses the year
        dt.date(2024, 12, 31),
        dt.date(2025, 3, 31),  # + 3 months = Jun 30
        dt.date(2025, 10, 26),  # daylight-saving weekends elsewhere must not shift a day
        dt.date(2026, 2, 28),
    ]
    cases = [
        (klass, day.isoformat(), previous)
        for klass, day, previous in itertools.product((1, 2, 3), days, (None, 1, 2, 3))
    ]
    browser = desktop_page.evaluate("cases => cases.map(([k, d, p]) => window.followupRules.nextDate(k, d, p))", cases)
    for (klass, day, previous), got in zip(cases, browser, strict=True):
        expected = rules.next_followup_date(klass, dt.date.fromisoformat(day), previous)
        assert got == expected.isoformat(), (klass, day, previous)
