"""Separation of duties in real Chromium on a desktop (issue 14 §3), with JavaScript on and off; the database is
checked at every step.

With JavaScript: an administrator adds a township to a doctor with the area picker — the change waits; the county
officer approves it on the approvals pages and only then does the doctor see the township's patients. The
administrator asks for a case-team account affiliated with the county; a second administrator approves it and is
the only one shown its temporary password; the account sees no patient of the county.

Without JavaScript: an administrator asks for a password reset and a reactivation; the county officer rejects the
reset (the reason field stops at 200 characters; the server refuses more, see tests/casemgmt), approves the
reactivation; the administrator reads the decisions on its own approvals page.
Screenshots are kept in artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from casemgmt.accounts.models import AccountChangeRequest, ChangeKind, ChangeState, Role, User
from casemgmt.audit.models import Action, AuditEvent
from registry.models import Patient
from tests.base import PASSWORD, World, make_user
from tests.browser.conftest import NO_SCRIPT_PAGES, flash, log_in, screenshot, submit
from tests.browser.test_admin_journey import pick

pytestmark = pytest.mark.django_db(transaction=True)
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def desktop_page_without_javascript(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    NO_SCRIPT_PAGES.add(page)
    yield page
    context.close()


def second_page(browser: Any, *, javascript: bool = True) -> Any:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(15_000)
    if not javascript:
        NO_SCRIPT_PAGES.add(page)
    return page


def sees(user: User, patient: Patient) -> bool:
    return Patient.objects.visible_to(User.objects.get(pk=user.pk)).filter(pk=patient.pk).exists()


def open_request(page: Any, live_server: Any, username: str) -> None:
    page.goto(live_server.url + reverse("manage:approval_list"))
    page.click(f"#pending-requests a:has-text('{username}')")
    page.wait_for_load_state("networkidle")


def test_a_township_added_with_the_picker_waits_for_the_county_officer(
    world: World, live_server: Any, desktop_page: Any, browser: Any
) -> None:
    second_admin = make_user("admin_f", Role.ADMIN)
    admin = desktop_page
    log_in(admin, live_server, "admin_e", PASSWORD)
    admin.goto(live_server.url + reverse("manage:account_edit", kwargs={"account_uuid": world.doctor_b.uuid}))
    pick(admin, 1, world.province.code)
    pick(admin, 2, world.city.code)
    pick(admin, 3, world.county.code)
    pick(admin, 4, world.township_a.code)
    admin.click("#area-add")
    submit(admin, "保存")
    assert "经审批人批准后生效" in flash(admin)
    assert admin.locator("#pending-change").is_visible()
    screenshot(admin, "approval-01-change-waiting")
    change = AccountChangeRequest.objects.get(account=world.doctor_b)
    assert change.state == ChangeState.PENDING and sorted(change.area_codes) == sorted(
        [world.township_a.code, world.township_b.code]
    )
    assert not sees(world.doctor_b, world.patient_a)
    # The requester's approvals page lists the request as its own, with nothing to decide.
    admin.click("nav >> text=账号审批")
    admin.wait_for_load_state("networkidle")
    assert admin.locator("#no-pending-requests").is_visible() and "doctor_b" in admin.inner_text("#my-requests")

    officer = second_page(browser)
    try:
        log_in(officer, live_server, "county_d", PASSWORD)
        officer.click("nav >> text=账号审批")
        officer.wait_for_load_state("networkidle")
        screenshot(officer, "approval-02-officer-list")
        open_request(officer, live_server, "doctor_b")
        assert "甲街道" in officer.inner_text("#added-areas") and "乙街道" not in officer.inner_text("#added-areas")
        screenshot(officer, "approval-03-officer-detail")
        submit(officer, "批准")
        assert "已批准" in flash(officer)
        screenshot(officer, "approval-04-officer-approved")
    finally:
        officer.context.close()
    change.refresh_from_db()
    assert change.state == ChangeState.APPROVED and change.decided_by == world.county_d
    assert sees(world.doctor_b, world.patient_a)

    # A case-team account affiliated with the county: a second administrator approves and sees the password.
    admin.goto(live_server.url + reverse("manage:account_create"))
    admin.fill("input[name=username]", "police_new")
    admin.fill("input[name=display_name]", "新民警")
    admin.select_option("select[name=role]", value=Role.CASE_MEMBER)
    pick(admin, 1, world.province.code)
    pick(admin, 2, world.city.code)
    pick(admin, 3, world.county.code)
    admin.click("#area-add")
    screenshot(admin, "approval-05-case-member-with-county")
    submit(admin, "保存")
    assert "账号才会生成" in flash(admin)
    assert not User.objects.filter(username="police_new").exists()
    assert admin.locator("#temporary-password").count() == 0

    other = second_page(browser)
    try:
        log_in(other, live_server, second_admin.username, PASSWORD)
        open_request(other, live_server, "police_new")
        submit(other, "批准")
        temporary = other.inner_text("#temporary-password").strip()
        screenshot(other, "approval-06-password-to-the-approver")
    finally:
        other.context.close()
    police = User.objects.get(username="police_new")
    assert police.role == Role.CASE_MEMBER and police.check_password(temporary) and police.must_change_password
    assert list(police.memberships.values_list("area_id", flat=True)) == [world.county.code]
    assert police.jurisdiction_prefixes() == [] and not Patient.objects.visible_to(police).exists()
    assert AuditEvent.objects.filter(action=Action.ACCOUNT_CHANGE_APPROVE, actor=second_admin).count() == 1


def test_without_javascript_the_officer_rejects_a_reset_and_approves_a_reactivation(
    world: World, live_server: Any, desktop_page_without_javascript: Any, browser: Any
) -> None:
    admin = desktop_page_without_javascript
    log_in(admin, live_server, "admin_e", PASSWORD)
    admin.goto(live_server.url + reverse("manage:account_edit", kwargs={"account_uuid": world.doctor_a.uuid}))
    submit(admin, "申请重置密码")
    assert "只显示给审批人" in flash(admin)
    screenshot(admin, "approval-07-reset-requested-no-js")
    world.doctor_a.refresh_from_db()
    assert world.doctor_a.check_password(PASSWORD) and not world.doctor_a.must_change_password
    admin.goto(live_server.url + reverse("manage:account_edit", kwargs={"account_uuid": world.doctor_b.uuid}))
    submit(admin, "停用账号")
    world.doctor_b.refresh_from_db()
    assert not world.doctor_b.is_active  # removing access is at once
    submit(admin, "申请启用账号")
    world.doctor_b.refresh_from_db()
    assert not world.doctor_b.is_active
    assert AccountChangeRequest.objects.filter(kind=ChangeKind.REACTIVATE, state=ChangeState.PENDING).count() == 1

    officer = second_page(browser, javascript=False)
    try:
        log_in(officer, live_server, "county_d", PASSWORD)
        open_request(officer, live_server, "doctor_a")
        officer.fill("textarea[name=note]", "长" * 201)
        assert len(officer.input_value("textarea[name=note]")) == 200  # the field stops a longer reason
        screenshot(officer, "approval-08-reject-reason-no-js")
        assert AccountChangeRequest.objects.get(account=world.doctor_a).state == ChangeState.PENDING
        officer.fill("textarea[name=note]", "本人未提出重置")
        submit(officer, "驳回")
        assert "已驳回" in flash(officer)
        open_request(officer, live_server, "doctor_b")
        submit(officer, "批准")
        screenshot(officer, "approval-09-officer-decided-no-js")
    finally:
        officer.context.close()
    reset = AccountChangeRequest.objects.get(account=world.doctor_a)
    assert reset.state == ChangeState.REJECTED and reset.decision_note == "本人未提出重置"
    world.doctor_a.refresh_from_db()
    assert world.doctor_a.check_password(PASSWORD)
    world.doctor_b.refresh_from_db()
    assert world.doctor_b.is_active

    admin.goto(live_server.url + reverse("manage:approval_list"))
    mine = admin.inner_text("#my-requests")
    assert "已驳回" in mine and "本人未提出重置" in mine and "已批准" in mine
    screenshot(admin, "approval-10-my-requests-no-js")


def test_hostile_users_cannot_reach_a_request(world: World, live_server: Any, desktop_page: Any, browser: Any) -> None:
    """Another township's doctor, a case-team member, the requester itself and anonymous visitors get the site's
    404 (or the login page) on the request's pages."""
    make_user("doctor_ab", Role.DOCTOR, world.township_b)
    change = AccountChangeRequest.objects.create(
        kind=ChangeKind.UPDATE,
        requested_by=world.admin_e,
        account=world.doctor_b,
        username="doctor_b",
        role=Role.DOCTOR,
        area_codes=[world.township_a.code, world.township_b.code],
    )
    url = live_server.url + reverse("manage:approval_detail", kwargs={"request_uuid": change.uuid})
    page = desktop_page
    page.goto(url)
    assert "/login/" in page.url
    for who in ("doctor_a", "doctor_ab", "police_c", "admin_e"):
        log_in(page, live_server, who, PASSWORD)
        response = page.goto(url)
        assert response is not None and response.status == 404, who
        page.context.clear_cookies()
    change.refresh_from_db()
    assert change.state == ChangeState.PENDING
