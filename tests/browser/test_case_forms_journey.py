"""Every form of the case page on a phone, with JavaScript and without, asserted in the database. The doctor writes
the plan (refused once: a review date in the past), has a contact refused (the message next to the date, scrolled
into view) and saved, adds a system user (refused once: no one chosen) and an outside person, removes both and
closes the case (refused once without a note); a team member adds a contact (refused once: before the case was
opened)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from followup.models import Case, CaseContact, CaseMember
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import assert_field_error_in_view, log_in, no_sideways_scroll, screenshot, submit
from tests.followup.case_base import add, open_case

pytestmark = pytest.mark.django_db(transaction=True)


def fill_contact(page: Any, day: dt.date, who: str, findings: str) -> None:
    page.fill("input[name=date]", day.isoformat())
    page.select_option("select[name=mode]", value="2")
    page.fill("input[name=who]", who)
    page.fill("textarea[name=findings]", findings)
    page.fill("textarea[name=actions]", "嘱按时服药")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_doctor_fills_every_case_form(
    world: World, live_server: Any, request: pytest.FixtureRequest, javascript: bool
) -> None:
    phone_page = request.getfixturevalue("phone_page" if javascript else "phone_page_without_javascript")
    case = open_case(world)
    page = phone_page
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/followup/cases/{case.uuid}/")

    page.click("text=编辑方案")
    page.fill("textarea[name=goals]", "病情稳定，按时服药")
    page.fill("textarea[name=risk_prevention]", "监护人看护，每周电话联系")
    page.fill("input[name=review_date]", (TODAY - dt.timedelta(days=1)).isoformat())
    submit(page, "保存方案")
    assert_field_error_in_view(page, "review_date", "方案评估日期不能早于今天")
    assert Case.objects.get(pk=case.pk).goals == ""
    page.fill("input[name=review_date]", (TODAY + dt.timedelta(days=60)).isoformat())
    screenshot(page, "case-forms-01-plan-phone")
    submit(page, "保存方案")
    assert "管理方案已保存" in page.inner_text("main")
    case.refresh_from_db()
    assert case.goals == "病情稳定，按时服药" and case.review_date == TODAY + dt.timedelta(days=60)

    fill_contact(page, TODAY + dt.timedelta(days=1), "监护人", "电话联系，患者在家")
    submit(page, "保存联系记录")
    assert_field_error_in_view(page, "date", "联系日期不能晚于今天")
    assert no_sideways_scroll(page)
    screenshot(page, "case-forms-02-contact-refused-phone")
    assert not CaseContact.objects.exists()
    page.fill("input[name=date]", TODAY.isoformat())  # the other answers were kept
    submit(page, "保存联系记录")
    assert "联系记录已保存" in page.inner_text("main")
    contact = CaseContact.objects.get(case=case)
    assert (contact.date, contact.who, contact.mode, contact.recorded_by) == (TODAY, "监护人", 2, world.doctor_a)

    page.select_option("select[name=role]", value="police")
    submit(page, "添加成员")  # neither an account nor a name
    assert "请选择系统用户，或填写外部人员的姓名和电话" in page.inner_text(".errorbox")
    assert page.evaluate("() => document.activeElement.className") == "errorbox"
    assert not CaseMember.objects.filter(case=case).exists()
    page.select_option("select[name=user]", value=str(world.police_c.pk))
    submit(page, "添加成员")
    assert "已将 police_c 加入团队" in page.inner_text("main")
    page.select_option("select[name=role]", value="family")
    page.fill("input[name=person_name]", "张某某")
    page.fill("input[name=person_phone]", "13900001111")
    submit(page, "添加成员")
    assert "已将 张某某 加入团队" in page.inner_text("main")
    screenshot(page, "case-forms-03-team-phone")
    active = CaseMember.objects.filter(case=case, removed_at__isnull=True)
    assert {(m.user_id, m.person_name, m.role) for m in active} == {
        (world.police_c.pk, "", "police"),
        (None, "张某某", "family"),
    }
    page.click("button[aria-label='移出 张某某']")
    page.wait_for_load_state("networkidle")
    assert "已将 张某某 移出团队" in page.inner_text("main")
    assert CaseMember.objects.get(case=case, user__isnull=True).removed_by == world.doctor_a
    page.click("button[aria-label='移出 police_c']")
    page.wait_for_load_state("networkidle")
    assert "已将 police_c 移出团队" in page.inner_text("main")
    assert CaseMember.objects.get(case=case, user=world.police_c).removed_by == world.doctor_a
    assert "团队尚无成员" in page.inner_text("main")

    page.select_option("select[name=reason]", value="other")
    page.click("#close-heading ~ form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert_field_error_in_view(page, "note", "请填写结案说明")
    screenshot(page, "case-forms-04-close-refused-phone")
    assert Case.objects.get(pk=case.pk).closed_on is None
    page.fill("input[name=note]", "患者长期外出务工")
    page.click("#close-heading ~ form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "个案已结案" in page.inner_text("main")
    screenshot(page, "case-forms-05-closed-phone")
    case.refresh_from_db()
    assert (case.closed_on, case.close_reason, case.close_note) == (TODAY, "other", "患者长期外出务工")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_team_member_adds_a_contact(
    world: World, live_server: Any, request: pytest.FixtureRequest, javascript: bool
) -> None:
    phone_page = request.getfixturevalue("phone_page" if javascript else "phone_page_without_javascript")
    case = open_case(world)
    add(world, case, world.police_c)
    page = phone_page
    log_in(page, live_server, "police_c", PASSWORD)
    page.goto(f"{live_server.url}/followup/cases/{case.uuid}/")
    fill_contact(page, case.opened_on - dt.timedelta(days=1), "邻居", "患者近日夜间吵闹")
    submit(page, "保存联系记录")
    assert_field_error_in_view(page, "date", "联系日期不能早于开案日期")
    screenshot(page, "case-forms-06-member-contact-refused-phone")
    page.fill("input[name=date]", TODAY.isoformat())
    submit(page, "保存联系记录")
    assert "联系记录已保存" in page.inner_text("main")
    assert no_sideways_scroll(page)
    contact = CaseContact.objects.get(case=case)
    assert (contact.who, contact.findings, contact.recorded_by) == ("邻居", "患者近日夜间吵闹", world.police_c)
