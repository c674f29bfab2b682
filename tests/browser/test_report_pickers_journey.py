"""County staff pick a township and a quarter with the report's pickers, then open the masked list behind a
figure — on a desktop and on a 360px phone (SMALL_PHONE)."""

from __future__ import annotations

from typing import Any

import pytest

from registry.patients.masking import mask_national_id
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import SMALL_PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)
QUARTER = (TODAY.month + 2) // 3


def pick_township_and_quarter(page: Any, live_server: Any) -> None:
    page.goto(f"{live_server.url}/reports/")
    assert page.locator("#id_period_quarter").is_hidden()  # a year report needs no quarter
    with page.expect_navigation():
        page.select_option("#id_area", "320508001000")  # submits on change
    assert "甲街道" in page.inner_text("h2")
    page.select_option("#id_period_kind", "quarter")
    assert page.locator("#id_period_quarter").is_visible() and page.locator("#id_period_month").is_hidden()
    page.select_option("#id_period_year", str(TODAY.year))
    page.select_option("#id_period_quarter", str(QUARTER))
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("table.list")
    assert f"{TODAY.year}年第{QUARTER}季度" in page.inner_text("h2")


def open_registered_list(page: Any) -> None:
    page.click("tr:has-text('在册患者管理率') td[data-label='分母'] a")
    page.wait_for_selector("text=在册 R")


def test_desktop_pickers_and_masked_list(world: World, live_server: Any, desktop_page: Any) -> None:
    page = desktop_page
    log_in(page, live_server, "county_d", PASSWORD)
    pick_township_and_quarter(page, live_server)
    options = page.locator("#id_area option").all_inner_texts()
    assert [o.strip() for o in options] == ["姑苏区", "甲街道", "甲一社区", "甲二社区"]
    screenshot(page, "report-pickers-desktop")
    open_registered_list(page)
    text = page.content()
    assert mask_national_id(world.patient_a.national_id) in text and world.patient_a.national_id not in text
    assert mask_national_id(world.patient_b.national_id) not in text  # township B is not in this list
    screenshot(page, "report-masked-list-desktop")


def test_phone_pickers_and_masked_list(world: World, live_server: Any, phone_page: Any) -> None:
    page = phone_page
    page.set_viewport_size(SMALL_PHONE)
    log_in(page, live_server, "county_d", PASSWORD)
    pick_township_and_quarter(page, live_server)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "report-pickers-phone")
    open_registered_list(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert mask_national_id(world.patient_a.national_id) in page.content()
    screenshot(page, "report-masked-list-phone")
