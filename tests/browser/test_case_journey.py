"""The case-team journey in real Chromium: a doctor adds a police officer to a case; the officer logs in, sees
only that case and records a contact; the doctor removes the officer, whose next request gets 404.
Screenshots are kept in artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from followup.models import CaseContact
from tests.base import PASSWORD, World
from tests.browser.conftest import log_in, no_sideways_scroll, screenshot
from tests.followup.case_base import open_case


@pytest.mark.django_db(transaction=True)
def test_doctor_adds_and_removes_a_police_officer(
    world: World, live_server: Any, desktop_page: Any, phone_page: Any
) -> None:
    case = open_case(world)
    open_case(world, world.patient_b)  # another open case, in township B, which the officer must not see
    case_url = f"{live_server.url}/followup/cases/{case.uuid}/"

    doctor = desktop_page
    log_in(doctor, live_server, "doctor_a", PASSWORD)
    doctor.goto(case_url)
    assert "团队尚无成员" in doctor.inner_text("main")
    doctor.select_option("select[name=role]", value="police")
    doctor.select_option("select[name=user]", value=str(world.police_c.pk))
    doctor.click("button:has-text('添加成员')")
    doctor.wait_for_load_state("networkidle")
    assert "已将 police_c 加入团队" in doctor.inner_text("main")
    screenshot(doctor, "case-01-doctor-adds-police")

    officer = phone_page
    log_in(officer, live_server, "police_c", PASSWORD)
    officer.goto(f"{live_server.url}/followup/cases/")
    rows = officer.locator("table.list tbody tr")
    assert rows.count() == 1
    assert world.patient_a.name in rows.first.inner_text()
    assert world.patient_b.name not in officer.inner_text("main")
    assert no_sideways_scroll(officer)
    screenshot(officer, "case-02-officer-my-cases-phone")
    rows.first.locator("a").click()
    officer.wait_for_load_state("networkidle")
    main = officer.inner_text("main")
    assert "登记联系记录" in main and "添加成员" not in main and "随访时间线" not in main
    officer.select_option("select[name=mode]", value="1")
    officer.fill("input[name=who]", "监护人")
    officer.fill("textarea[name=findings]", "患者在家，情绪平稳，按时服药")
    officer.fill("textarea[name=actions]", "嘱监护人继续看护")
    officer.click("button:has-text('保存联系记录')")
    officer.wait_for_load_state("networkidle")
    assert "联系记录已保存" in officer.inner_text("main")
    assert no_sideways_scroll(officer)
    screenshot(officer, "case-03-officer-contact-phone")
    assert CaseContact.objects.filter(case=case, recorded_by=world.police_c).count() == 1

    doctor.goto(case_url)
    assert "患者在家，情绪平稳，按时服药" in doctor.inner_text("main")
    doctor.click("button:has-text('移出')")
    doctor.wait_for_load_state("networkidle")
    assert "其查看权限已收回" in doctor.inner_text("main")
    screenshot(doctor, "case-04-doctor-removes-police")

    response = officer.goto(case_url)
    assert response is not None and response.status == 404
    screenshot(officer, "case-05-officer-404-phone")
    officer.goto(f"{live_server.url}/followup/cases/")
    assert officer.locator("table.list tbody tr").count() == 0

    officer.click("text=退出")
    log_in(officer, live_server, "county_d", PASSWORD)
    officer.goto(f"{live_server.url}/followup/overview/")
    main = officer.inner_text("main")
    assert "进行中的个案（2）" in main and "甲街道" in main and "乙街道" in main
    assert world.patient_a.name not in main  # masked lines only
    assert no_sideways_scroll(officer)
    screenshot(officer, "case-06-county-overview-phone")
