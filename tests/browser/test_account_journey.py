"""The account controls every page has: a doctor on a phone changes the password (refused once with a wrong
current password), logs out and in with the new one; the language switch turns the page to English and back."""

from __future__ import annotations

from typing import Any

import pytest

from casemgmt.accounts.models import User
from tests.base import PASSWORD, World
from tests.browser.conftest import log_in, no_sideways_scroll, screenshot, submit

pytestmark = pytest.mark.django_db(transaction=True)
NEW_PASSWORD = "Another-Synthetic-2026"


def change_password(page: Any, current: str) -> None:
    page.fill("input[name=old_password]", current)
    page.fill("input[name=new_password1]", NEW_PASSWORD)
    page.fill("input[name=new_password2]", NEW_PASSWORD)
    submit(page, "保存")


def test_doctor_changes_the_password(world: World, live_server: Any, phone_page: Any) -> None:
    page = phone_page
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.click("a:has-text('修改密码')")
    page.wait_for_load_state("networkidle")
    screenshot(page, "account-01-password-phone")
    change_password(page, "not-the-password")
    field = page.locator(".field.has-error:has([name=old_password]) .error")
    assert field.count() == 1, page.inner_text("main")
    assert page.evaluate("() => document.activeElement.name") == "old_password"
    screenshot(page, "account-02-password-refused-phone")
    assert User.objects.get(pk=world.doctor_a.pk).check_password(PASSWORD)

    change_password(page, PASSWORD)
    assert "密码已修改" in page.inner_text("main")
    assert no_sideways_scroll(page)
    screenshot(page, "account-03-password-changed-phone")
    assert User.objects.get(pk=world.doctor_a.pk).check_password(NEW_PASSWORD)

    page.click("text=退出")
    page.wait_for_load_state("networkidle")
    log_in(page, live_server, "doctor_a", NEW_PASSWORD)
    assert "随访任务" in page.inner_text("nav")


def test_language_switch(world: World, live_server: Any, desktop_page: Any) -> None:
    page = desktop_page
    log_in(page, live_server, "county_d", PASSWORD)
    page.goto(f"{live_server.url}/reports/")
    assert "指标报告" in page.inner_text("nav") and page.get_attribute("html", "lang") == "zh-hans"
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/reports/")  # back on the same page
    assert page.get_attribute("html", "lang") == "en"
    header = page.inner_text("header")
    assert "Log out" in header and "Change password" in header and "退出" not in header
    box = page.locator("header").bounding_box()  # the longer English links wrap in rows, not one under another
    assert box is not None and box["height"] < 200, box
    screenshot(page, "account-04-report-in-english")
    with page.expect_navigation():
        page.select_option("select[name=language]", "zh-hans")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("html", "lang") == "zh-hans"
    assert "退出" in page.inner_text("header") and "指标报告" in page.inner_text("nav")
