"""County staff on a desktop: pick the county and a year, see the table, build the PDF and download it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from casemgmt.celery import app
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_county_staff_builds_and_downloads_the_pdf(world: World, live_server: Any, desktop_page: Any) -> None:
    page = desktop_page
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        log_in(page, live_server, "county_d", PASSWORD)
        page.goto(f"{live_server.url}/reports/")
        assert page.locator("#id_area option:checked").inner_text().strip() == "姑苏区"  # the county by default
        page.select_option("#id_period_kind", "year")
        page.select_option("#id_period_year", str(TODAY.year))
        page.click("#report-form button[type=submit]")
        page.wait_for_selector("table.list")
        assert "规范管理率" in page.content()
        counts = page.locator(".count-grid").inner_text()
        assert "新登记患者" in counts and "有肇祸的患者" in counts and "截止日逾期未随访" in counts
        screenshot(page, "report-table")
        page.click("text=生成PDF报告")
        page.wait_for_selector("text=下载PDF", timeout=30000)
        screenshot(page, "report-pdf-ready")
        with page.expect_download() as info:
            page.click("text=下载PDF")
        path = Path(info.value.path())
    finally:
        app.conf.task_always_eager = previous
    text = subprocess.run(["/usr/bin/pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert "严重精神障碍患者管理指标报告" in text and "姑苏区" in text
    pages = text.split("\f")[:-1]
    assert all(f"第 {n} 页，共 {len(pages)} 页" in page_text for n, page_text in enumerate(pages, 1))
    assert "下级地区指标" in pages[0] and "甲街道" in pages[0]  # the summary's matrix
    out = Path("artifacts/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    command = ["/usr/bin/pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(out / "report-pdf")]
    subprocess.run(command, check=True)  # noqa: S603
