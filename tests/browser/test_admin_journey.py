"""The administration journey in real Chromium (desktop): an administrator asks for a doctor with the area
picker; the county officer approves it and is shown the temporary password (issue 14 §3); the doctor logs in
with it and must change it first; the administrator deactivates the account and the doctor can no longer log in.
The database is checked at each step.
Screenshots are kept in artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from casemgmt.accounts.models import Role, User
from casemgmt.audit.models import Action, AuditEvent
from tests.base import PASSWORD, World
from tests.browser.conftest import log_in, screenshot

NEW_PASSWORD = "Township-Doctor-2027"


def pick(page: Any, depth: int, code: str) -> None:
    select = page.locator(f"#area-pick-{depth}")
    select.wait_for()
    page.wait_for_selector(f"#area-pick-{depth} option[value='{code}']", state="attached")
    select.select_option(value=code)


@pytest.mark.django_db(transaction=True)
def test_admin_creates_a_doctor_who_changes_the_password_then_is_deactivated(
    world: World, live_server: Any, desktop_page: Any, browser: Any
) -> None:
    admin = desktop_page
    log_in(admin, live_server, "admin_e", PASSWORD)
    admin.click("nav >> text=账号管理")
    admin.wait_for_load_state("networkidle")
    assert "doctor_a" in admin.inner_text("main")
    screenshot(admin, "admin-01-account-list")

    admin.click("text=新建账号")
    admin.wait_for_load_state("networkidle")
    admin.fill("input[name=username]", "doctor_new")
    admin.fill("input[name=display_name]", "新来的医生")
    admin.select_option("select[name=role]", value=Role.DOCTOR)
    pick(admin, 1, world.province.code)
    pick(admin, 2, world.city.code)
    pick(admin, 3, world.county.code)
    assert admin.locator("#area-add").is_hidden()  # a doctor cannot hold a county
    assert admin.locator("#area-level-hint").is_visible()
    pick(admin, 4, world.township_b.code)
    admin.click("#area-add")
    assert admin.locator(f"#chosen-areas input[value='{world.township_b.code}']").is_checked()
    screenshot(admin, "admin-02-create-with-area-picker")
    admin.click("form button[type=submit]:has-text('保存')")
    admin.wait_for_load_state("networkidle")
    assert admin.locator("#temporary-password").count() == 0  # the requester never sees it
    assert not User.objects.filter(username="doctor_new").exists()

    officer_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        officer = officer_context.new_page()
        log_in(officer, live_server, "county_d", PASSWORD)
        officer.goto(live_server.url + reverse("manage:approval_list"))
        officer.click("#pending-requests a:has-text('doctor_new')")
        officer.wait_for_load_state("networkidle")
        officer.click("button:has-text('批准')")
        officer.wait_for_load_state("networkidle")
        temporary = officer.inner_text("#temporary-password").strip()
        assert len(temporary) == 20
        screenshot(officer, "admin-03-temporary-password")
    finally:
        officer_context.close()
    user = User.objects.get(username="doctor_new")
    assert user.role == Role.DOCTOR and user.is_active and user.must_change_password
    assert list(user.memberships.values_list("area_id", flat=True)) == [world.township_b.code]
    assert AuditEvent.objects.filter(action=Action.ACCOUNT_CREATE, detail__username="doctor_new").count() == 1

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    doctor = context.new_page()
    try:
        log_in(doctor, live_server, "doctor_new", temporary)
        assert doctor.url.endswith("/password/")
        assert "临时密码" in doctor.inner_text("main")
        screenshot(doctor, "admin-04-doctor-forced-password-change")
        doctor.goto(live_server.url + reverse("followup:worklist"))
        assert doctor.url.endswith("/password/")
        doctor.fill("input[name=old_password]", temporary)
        doctor.fill("input[name=new_password1]", NEW_PASSWORD)
        doctor.fill("input[name=new_password2]", NEW_PASSWORD)
        doctor.click("form button[type=submit]:has-text('保存')")
        doctor.wait_for_load_state("networkidle")
        user.refresh_from_db()
        assert not user.must_change_password and user.check_password(NEW_PASSWORD)
        doctor.goto(f"{live_server.url}/")
        doctor.wait_for_load_state("networkidle")
        assert "/password/" not in doctor.url
        assert "随访任务" in doctor.inner_text("body")

        admin.goto(live_server.url + reverse("manage:account_edit", kwargs={"account_uuid": user.uuid}))
        admin.wait_for_load_state("networkidle")
        admin.click("button:has-text('停用账号')")
        admin.wait_for_load_state("networkidle")
        assert "已停用" in admin.inner_text("main")
        screenshot(admin, "admin-05-account-deactivated")
        user.refresh_from_db()
        assert not user.is_active
        assert AuditEvent.objects.filter(action=Action.ACCOUNT_DEACTIVATE, detail__username="doctor_new").exists()

        doctor.goto(live_server.url + reverse("followup:worklist"))
        doctor.wait_for_load_state("networkidle")
        assert "/login/" in doctor.url  # the open session stopped working
        log_in(doctor, live_server, "doctor_new", NEW_PASSWORD)
        assert "/login/" in doctor.url
        assert "用户名或密码不正确" in doctor.inner_text("main")
    finally:
        context.close()
