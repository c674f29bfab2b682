"""Community rehabilitation and the annual health check on a phone: refused submits name their fields and save
nothing; a participation is started and ended; a health check is recorded (with JavaScript on and off). The rows
are checked in the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from followup.models import HealthCheck, RehabParticipation
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import field_error, flash, log_in, screenshot, submit_form

START = TODAY - dt.timedelta(days=30)


@pytest.mark.django_db(transaction=True)
def test_rehabilitation_is_started_and_ended(world: World, live_server: Any, phone_page: Any) -> None:
    page, patient = phone_page, world.patient_a
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/followup/patients/{patient.uuid}/rehab/")
    page.fill("input[name=start_date]", START.isoformat())
    page.fill("input[name=end_date]", (START - dt.timedelta(days=1)).isoformat())
    submit_form(page)
    assert "请选择康复机构类型" in field_error(page, "provider_type")
    assert "结束日期不能早于开始日期" in field_error(page, "end_date")
    screenshot(page, "rehab-01-refused")
    assert not RehabParticipation.objects.filter(patient=patient).exists()

    page.select_option("select[name=provider_type]", index=1)
    page.fill("input[name=provider_name]", "阳光家园")
    page.fill("input[name=end_date]", "")
    submit_form(page)
    assert "康复记录已保存" in flash(page)
    screenshot(page, "rehab-02-started")
    participation = RehabParticipation.objects.get(patient=patient)
    assert (participation.provider_name, participation.start_date, participation.end_date) == ("阳光家园", START, None)
    # The add form's "结束日期" label must name its own input, not the row's end date.
    assert page.locator("[id=id_end_date]").count() == 1

    submit_form(page, "form[action$='/end/'] button")
    assert "康复记录已结束" in flash(page)
    screenshot(page, "rehab-03-ended")
    participation.refresh_from_db()
    assert participation.end_date == TODAY


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_health_check_refused_then_recorded(
    world: World, live_server: Any, request: pytest.FixtureRequest, javascript: bool
) -> None:
    page = request.getfixturevalue("phone_page" if javascript else "phone_page_without_javascript")
    mode, patient = ("js" if javascript else "nojs"), world.patient_a
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/followup/patients/{patient.uuid}/health-check/")
    page.uncheck("input[name=consent]")
    page.fill("input[name=blood_pressure]", "120/80")
    page.fill("input[name=weight_kg]", "12345")  # grams typed as kilograms
    submit_form(page)
    assert "体重数值过大" in field_error(page, "weight_kg")
    screenshot(page, f"health-check-01-refused-{mode}")
    page.fill("input[name=weight_kg]", "60.5")
    submit_form(page)
    assert "患者未同意体检时不能填写体检结果" in field_error(page, "consent")
    assert not HealthCheck.objects.filter(patient=patient).exists()

    page.check("input[name=consent]")
    submit_form(page)
    assert "体检记录已保存" in flash(page)
    screenshot(page, f"health-check-02-saved-{mode}")
    check = HealthCheck.objects.get(patient=patient)
    assert (check.date, check.consent, check.blood_pressure, check.weight_kg) == (
        TODAY,
        True,
        "120/80",
        Decimal("60.5"),
    )
