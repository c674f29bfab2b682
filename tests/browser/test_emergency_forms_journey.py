"""The emergency forms on a doctor's phone, with JavaScript and without, asserted in the database: a record for a
registered patient saved unfinished, then completed (refused once: admitted without a hospital); a record for a
person not registered yet (refused once without a name), then linked to the patient once registered."""

from __future__ import annotations

from typing import Any

import pytest

from followup.models import Emergency
from tests.base import PASSWORD, World
from tests.browser.conftest import assert_field_error_in_view, log_in, no_sideways_scroll, screenshot, submit

pytestmark = pytest.mark.django_db(transaction=True)


def describe(page: Any) -> None:
    """What is known at first: place, one situation, the risk and who reported."""
    page.fill("input[name=place]", "家中")
    page.check("input[name=situations][value=relapse]")
    page.select_option("select[name=risk_level]", value="3")
    page.fill("input[name=reported_by]", "家属")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_record_complete_and_link(
    world: World, live_server: Any, request: pytest.FixtureRequest, javascript: bool
) -> None:
    phone_page = request.getfixturevalue("phone_page" if javascript else "phone_page_without_javascript")
    page = phone_page
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/patients/{world.patient_a.uuid}/")
    page.click("a:has-text('登记应急处置')")
    page.wait_for_load_state("networkidle")
    describe(page)
    screenshot(page, "emergency-forms-01-new-for-patient-phone")
    submit(page, "保存")
    assert "尚未完成" in page.inner_text("main")
    emergency = Emergency.objects.get(patient=world.patient_a)
    assert (emergency.place, emergency.situations, emergency.risk_level) == ("家中", ["relapse"], 3)
    assert emergency.completed_at is None and emergency.handler == world.doctor_a

    page.click("text=补全 / 完成记录")
    page.fill("input[name=participants]", "精防医生、民警")
    page.check("input[name=measures][value=crisis]")
    page.select_option("select[name=disposition]", value="admit")
    page.select_option("select[name=consent]", value="2")
    page.check("input[name=complete]")
    submit(page, "保存")
    assert_field_error_in_view(page, "hospital", "收治住院时请填写医院名称")
    screenshot(page, "emergency-forms-02-complete-refused-phone")
    assert Emergency.objects.get(pk=emergency.pk).completed_at is None
    page.fill("input[name=hospital]", "市精神卫生中心")
    submit(page, "保存")
    assert "应急处置记录已完成" in page.inner_text("main")
    screenshot(page, "emergency-forms-03-completed-phone")
    emergency.refresh_from_db()
    assert emergency.completed_at is not None
    assert (emergency.disposition, emergency.hospital, emergency.consent) == ("admit", "市精神卫生中心", 2)
    assert emergency.measures == ["crisis"] and emergency.participants == "精防医生、民警"

    page.goto(f"{live_server.url}/followup/emergencies/")
    page.click("text=登记未建档人员的应急处置")
    page.wait_for_load_state("networkidle")
    page.select_option("select[name=area]", value=world.village_a1.code)
    describe(page)
    submit(page, "保存")
    assert_field_error_in_view(page, "person_name", "未建档人员请填写姓名")
    assert Emergency.objects.count() == 1
    page.fill("input[name=person_name]", "不详")
    submit(page, "保存")
    assert "尚未完成" in page.inner_text("main")
    unregistered = Emergency.objects.get(patient__isnull=True)
    assert unregistered.area == world.village_a1 and unregistered.person_name == "不详"
    assert no_sideways_scroll(page)
    screenshot(page, "emergency-forms-04-unregistered-phone")

    page.fill("input[name=national_id]", world.patient_a.national_id)
    submit(page, "关联")
    assert "已关联到患者档案" in page.inner_text("main")
    screenshot(page, "emergency-forms-05-linked-phone")
    unregistered.refresh_from_db()
    assert unregistered.patient == world.patient_a
