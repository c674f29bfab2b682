"""County staff on a desktop: the report for each period kind (year, quarter, month, year-to-date) with the default
rules, then with each of the three configurable rules (domain.md §11) switched, downloaded as xlsx and as PDF; the
files are opened and the PDF job's stored options checked."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from casemgmt.celery import app
from metrics.models import PdfExport
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)
QUARTER = (TODAY.month + 2) // 3
SWITCHED = {"regular_management": "interval-3m", "medication_denominator": "managed", "deaths_in_period": "included"}
SWITCHED_FOOTER = ("相邻两次间隔不超过3个月", "分母：在管患者", "统计期内死亡的患者仍计入在册患者")
DEFAULT_FOOTER = ("每个完整自然季度均有至少1次完整随访", "分母：在册患者", "已死亡的患者不计入在册患者")


def show(page: Any, kind: str, **pickers: int) -> str:
    """Pick the period kind and its fields, press 查询; the report's heading."""
    page.select_option("#id_period_kind", kind)
    page.select_option("#id_period_year", str(TODAY.year))
    for name, value in pickers.items():
        page.select_option(f"#id_period_{name}", str(value))
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("table.list")
    return str(page.inner_text("main h2 >> nth=0"))


def footer(page: Any) -> str:
    return str(page.inner_text("main footer"))


def test_each_period_kind(world: World, live_server: Any, desktop_page: Any) -> None:
    page = desktop_page
    log_in(page, live_server, "county_d", PASSWORD)
    page.goto(f"{live_server.url}/reports/")
    year, month = TODAY.year, TODAY.month
    for kind, pickers, label in (
        ("year", {}, f"{year}年"),
        ("quarter", {"quarter": QUARTER}, f"{year}年第{QUARTER}季度"),
        ("month", {"month": month}, f"{year}年{month}月"),
        ("ytd", {"month": month}, f"{year}年1—{month}月"),
    ):
        heading = show(page, kind, **pickers)
        assert heading.startswith(f"姑苏区 · {label}"), heading
        assert f"period_kind={kind}" in page.url
        assert all(line in footer(page) for line in DEFAULT_FOOTER), footer(page)
        screenshot(page, f"report-options-01-{kind}")


def test_each_rule_switched_and_both_downloads(world: World, live_server: Any, desktop_page: Any) -> None:
    page = desktop_page
    log_in(page, live_server, "county_d", PASSWORD)
    page.goto(f"{live_server.url}/reports/")
    page.click("summary:has-text('统计口径')")
    for name, value in SWITCHED.items():
        page.select_option(f"#id_{name}", value)
    show(page, "quarter", quarter=QUARTER)
    assert all(line in footer(page) for line in SWITCHED_FOOTER), footer(page)
    assert all(f"{name}={value}" in page.url for name, value in SWITCHED.items())
    screenshot(page, "report-options-02-rules-switched")

    with page.expect_download() as xlsx:
        page.click("text=导出电子表格")
    book = openpyxl.load_workbook(io.BytesIO(Path(xlsx.value.path()).read_bytes()))
    cells = [str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert any("姑苏区" in c for c in cells)
    assert all(any(line in c for c in cells) for line in SWITCHED_FOOTER), cells[-8:]

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        page.click("text=生成PDF报告")
        page.wait_for_selector("text=下载PDF", timeout=30_000)
        screenshot(page, "report-options-03-pdf-ready")
        with page.expect_download() as pdf:
            page.click("text=下载PDF")
    finally:
        app.conf.task_always_eager = previous
    assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF")
    export = PdfExport.objects.get()
    assert (export.status, export.requested_by, export.area_code) == ("done", world.county_d, world.county.code)
    assert export.period == f"{TODAY.year}-Q{QUARTER}" and export.options == SWITCHED
