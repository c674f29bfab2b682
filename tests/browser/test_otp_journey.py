"""The second factor and lock lifting in real Chromium (issue 14 §5), with JavaScript on and off.

A county officer logs in, binds an authenticator (the test computes the codes from the secret the page shows, as
the app would), keeps the recovery codes, logs out, logs in again with a code; a wrong code and a recovery code
used twice are refused. A doctor locked by failed logins is unlocked by the officer and logs in. The database
(devices, recovery codes, audit rows) is checked after each step. Screenshots are kept in artifacts/screenshots/.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt.accounts import throttle
from casemgmt.accounts.models import Role
from casemgmt.audit.models import Action, AuditEvent
from tests.base import PASSWORD, World, make_user
from tests.browser.conftest import NO_SCRIPT_PAGES, check_page, field_error, flash, log_in, screenshot, submit
from tests.second_factor import enrolled_device


@pytest.fixture(autouse=True)
def clear_throttle() -> None:
    cache.clear()
    throttle._fallback.clear()


@pytest.fixture(params=["desktop_page", "phone_page_without_javascript"])
def any_page(request: Any) -> Any:
    return request.getfixturevalue(request.param)


def code_from_secret(secret: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app that was given this (base32) secret shows."""
    return f"{totp(base64.b32decode(secret.replace(' ', '')), drift=steps_ahead):06d}"


def wrong_code(secret: str) -> str:
    accepted = {code_from_secret(secret, steps_ahead=step) for step in (-1, 0, 1, 2)}
    return next(code for code in ("123456", "654321", "111111", "222222") if code not in accepted)


def count(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def log_out(page: Any) -> None:
    page.click("form[action='/logout/'] button")
    page.wait_for_load_state("networkidle")
    assert "/login/" in page.url


def enter_code(page: Any, code: str, button: str = "验证") -> None:
    page.fill("input[name=code]", code)
    submit(page, button)


@pytest.mark.django_db(transaction=True)
def test_an_officer_binds_an_authenticator_and_logs_in_with_codes(
    world: World, live_server: Any, any_page: Any
) -> None:
    page = any_page
    name = "otp-nojs" if page in NO_SCRIPT_PAGES else "otp-desktop"

    log_in(page, live_server, "county_d", PASSWORD, second_factor=False)
    assert "/login/enrol/" in page.url
    page.goto(f"{live_server.url}/patients/")  # nothing else opens before the second factor
    assert "/login/enrol/" in page.url
    assert page.locator("img[alt][src^='data:image/svg+xml']").count() == 1
    screenshot(page, f"{name}-01-enrol")
    secret = page.get_attribute("#otp-secret", "data-secret") or ""
    assert len(secret.replace(" ", "")) == 32

    enter_code(page, wrong_code(secret), "完成绑定")
    assert "动态口令不正确" in field_error(page, "code")
    check_page(page)
    assert not TOTPDevice.objects.get(user=world.county_d).confirmed

    enter_code(page, code_from_secret(secret), "完成绑定")
    assert "/login/recovery-codes/" in page.url
    shown = [text.strip() for text in page.locator("#recovery-codes code").all_inner_texts()]
    stored = set(StaticToken.objects.filter(device__user=world.county_d).values_list("token", flat=True))
    assert len(shown) == 10 and set(shown) == stored
    assert TOTPDevice.objects.get(user=world.county_d).confirmed
    assert count(Action.OTP_ENROLL) == 1 and count(Action.OTP_FAILED) == 1
    screenshot(page, f"{name}-02-recovery-codes")
    page.click("a:has-text('我已保存，继续')")
    page.wait_for_load_state("networkidle")
    assert "/patients/" in page.url
    log_out(page)
    assert count(Action.LOGOUT) == 1

    # Again, with the code the app shows (a later step: each step's code is accepted once).
    log_in(page, live_server, "county_d", PASSWORD, second_factor=False)
    assert "/login/code/" in page.url
    screenshot(page, f"{name}-03-code-page")
    enter_code(page, wrong_code(secret))
    assert "动态口令不正确" in field_error(page, "code")
    check_page(page)
    assert count(Action.OTP_FAILED) == 2
    enter_code(page, code_from_secret(secret, steps_ahead=1))
    assert "/patients/" in page.url
    log_out(page)

    # A recovery code instead of the phone: once.
    log_in(page, live_server, "county_d", PASSWORD, second_factor=False)
    enter_code(page, shown[0].upper())
    assert "/patients/" in page.url
    assert count(Action.OTP_RECOVERY_USED) == 1
    assert StaticToken.objects.filter(device__user=world.county_d).count() == 9
    log_out(page)
    log_in(page, live_server, "county_d", PASSWORD, second_factor=False)
    enter_code(page, shown[0])
    assert "/login/code/" in page.url and "动态口令不正确" in field_error(page, "code")
    assert count(Action.OTP_FAILED) == 3
    second_factors = [
        e.detail.get("second_factor") for e in AuditEvent.objects.filter(action=Action.LOGIN).order_by("id")
    ]
    assert second_factors == ["pending", "enrolment", "pending", "totp", "pending", "recovery", "pending"]


@pytest.mark.django_db(transaction=True)
def test_an_officer_lifts_a_doctors_lock(world: World, live_server: Any, any_page: Any, phone_page: Any) -> None:
    doctor = phone_page
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        log_in(doctor, live_server, "doctor_a", "wrong-password")
    log_in(doctor, live_server, "doctor_a", PASSWORD)
    assert "登录失败次数过多" in doctor.inner_text("main")
    assert count(Action.LOCKOUT) == 1

    colleague = make_user("county_d2", Role.AREA_STAFF, world.county)
    enrolled_device(colleague)
    officer = any_page
    log_in(officer, live_server, "county_d", PASSWORD)
    officer.click("nav a:has-text('登录安全')")
    officer.wait_for_load_state("networkidle")
    row = officer.locator("table.list tr:has-text('doctor_a')")
    assert row.count() == 1 and officer.locator("table.list tr:has-text('doctor_b')").count() == 0
    screenshot(officer, "locks-01-locked-accounts" + ("-nojs" if officer in NO_SCRIPT_PAGES else ""))
    row.locator("button:has-text('解除锁定')").click()
    officer.wait_for_load_state("networkidle")
    assert "已解除账号 doctor_a 的登录锁定" in flash(officer)
    assert "目前没有被锁定的账号" in officer.inner_text("main")
    check_page(officer)
    [event] = AuditEvent.objects.filter(action=Action.LOCK_LIFTED)
    assert event.actor == world.county_d and event.detail == {"username": "doctor_a"}

    log_in(doctor, live_server, "doctor_a", PASSWORD)
    assert "/login/" not in doctor.url

    # The colleague lost a phone: the officer resets the authenticator; the next login binds a new one.
    officer.locator("table.list tr:has-text('county_d2') button:has-text('重置动态口令')").click()
    officer.wait_for_load_state("networkidle")
    assert "已重置账号 county_d2 的动态口令" in flash(officer)
    assert "没有其他已绑定动态口令的账号" in officer.inner_text("main")
    check_page(officer)
    assert not TOTPDevice.objects.filter(user=colleague).exists()
    assert AuditEvent.objects.get(action=Action.OTP_RESET).detail == {"username": "county_d2"}
    log_out(doctor)
    log_in(doctor, live_server, "county_d2", PASSWORD, second_factor=False)
    assert "/login/enrol/" in doctor.url


@pytest.mark.django_db(transaction=True)
def test_an_administrator_resets_an_authenticator_on_the_account_page(
    world: World, live_server: Any, any_page: Any
) -> None:
    enrolled_device(world.county_d)
    admin = any_page
    log_in(admin, live_server, "admin_e", PASSWORD)
    admin.goto(f"{live_server.url}/manage/accounts/{world.county_d.uuid}/")
    check_page(admin)
    admin.click("button:has-text('重置动态口令')")
    admin.wait_for_load_state("networkidle")
    assert f"/manage/accounts/{world.county_d.uuid}/" in admin.url
    assert "已重置账号 county_d 的动态口令" in flash(admin)
    assert admin.locator("button:has-text('重置动态口令')").count() == 0
    check_page(admin)
    assert not TOTPDevice.objects.filter(user=world.county_d).exists()
    [reset] = AuditEvent.objects.filter(action=Action.OTP_RESET)
    assert reset.actor == world.admin_e and reset.detail == {"username": "county_d"}
