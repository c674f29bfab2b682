"""The configurable options chosen on the page reach the JSON, the spreadsheet and the PDF job, and are named in
each footer; exports that leave the county suppress small counts (domain.md §11, §12)."""

from __future__ import annotations

import subprocess
from io import BytesIO
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from metrics.models import PdfExport
from metrics.reports.pdf import content_for_export, render_pdf
from tests.base import TODAY, World, make_user
from tests.metrics.sheets import level_table

pytestmark = pytest.mark.django_db
CHOSEN = {"regular_management": "interval-3m", "medication_denominator": "managed", "deaths_in_period": "included"}
PERIOD = str(TODAY.year)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pdf_text(pdf: bytes) -> str:
    command = ["/usr/bin/pdftotext", "-", "-"]
    return subprocess.run(command, input=pdf, capture_output=True, check=True).stdout.decode()  # noqa: S603


def sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    book = load_workbook(BytesIO(content), read_only=True)
    return [row for row in book.worksheets[0].iter_rows(values_only=True) if row]


def test_the_page_shows_the_chosen_options_and_names_them_in_the_footer(world: World) -> None:
    text = client_for(world.county_d).get("/reports/", {"area": "320508", **CHOSEN}).content.decode()
    assert '<option value="interval-3m" selected>' in text and '<option value="managed" selected>' in text
    assert "相邻两次间隔不超过3个月" in text and "分母：在管患者" in text and "仍计入在册患者" in text
    assert '<details class="options" open>' in text
    assert "regular_management=interval-3m&amp;medication_denominator=managed&amp;deaths_in_period=included" in text


def test_the_defaults_come_from_settings(world: World, settings: Any) -> None:
    settings.METRICS_MEDICATION_DENOMINATOR = "managed"
    text = client_for(world.county_d).get("/reports/").content.decode()
    assert '<option value="managed" selected>' in text and '<details class="options">' in text


def test_the_json_carries_the_options(world: World) -> None:
    body = client_for(world.county_d).get("/reports/api/indicators", {"area": "320508", **CHOSEN}).json()
    assert body["options"] == CHOSEN and "suppression" not in body
    bad = client_for(world.county_d).get("/reports/api/indicators", {"area": "320508", "deaths_in_period": "x"})
    assert bad.status_code == 400 and "口径选项无效" in bad.json()["error"]


def test_the_spreadsheet_footer_names_the_options(world: World) -> None:
    response = client_for(world.county_d).get("/reports/xlsx", {"area": "320508", "period": PERIOD, **CHOSEN})
    lines = [row[0] for row in sheet_rows(response.content)]
    assert any("不超过3个月" in str(line) for line in lines) and any("在管患者" in str(line) for line in lines)
    assert not any("小数保护" in str(line) for line in lines)  # the county's own staff: nothing suppressed


def test_the_pdf_job_stores_and_uses_the_options(world: World) -> None:
    client = client_for(world.county_d)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("metrics.reports.tasks.build_report_pdf.delay", lambda export_id: None)
        base = f"/reports/pdf?area=320508&period={PERIOD}"
        assert client.post(f"{base}&medication_denominator=managed").status_code == 302
        assert client.post(base).status_code == 302
    first, second = PdfExport.objects.order_by("pk")
    assert first.options["medication_denominator"] == "managed" and first.pk != second.pk
    assert second.options["medication_denominator"] == "registered"
    content, _code = content_for_export(first)
    assert any("在管患者" in line for line in content.footer)


@pytest.fixture
def city_staff(world: World) -> Any:
    return make_user("city_f", "area_staff", world.city)


def test_a_city_member_exporting_a_county_gets_small_counts_suppressed(world: World, city_staff: Any) -> None:
    # township A holds patient_a, township B patient_b: one registered patient each.
    client = client_for(city_staff)
    workbook = client.get("/reports/xlsx", {"area": "320508", "period": PERIOD}).content
    rows = sheet_rows(workbook)
    township = level_table(workbook, "乡镇")["甲街道"]
    assert township["在册患者管理率/分母"] == "<5" and township["在册患者管理率/率"] == "—"
    assert township["报告患病率/分子"] == "<5" and township["报告患病率/分母"] == 7000  # the population is shown
    assert township["在册患者"] == "<5"  # counts too
    assert any("小数保护" in str(row[0]) for row in rows)

    body = client.get("/reports/api/indicators", {"area": "320508", "period": PERIOD, "children": "1"}).json()
    assert body["suppression"] == {"below": 5, "min_level": 3}
    assert body["counts"]["registered"] is None and "registered" in body["suppressed_counts"]
    child = body["children"][0]["indicators"]["management_rate"]
    assert child["suppressed"] is True and child["denominator"] is None

    export = PdfExport.objects.create(requested_by=city_staff, area_code="320508000000", period=PERIOD)
    content, _code = content_for_export(export)
    assert any("小数保护" in line for line in content.footer)
    assert any(row.numerator == "<5" for section in (content.own, *content.children) for row in section.rows)
    assert any(count.value == "<5" for count in content.own.counts)
    assert content.trend == []  # two patients: the monthly rates would reveal the hidden counts
    text = pdf_text(render_pdf(content))
    assert "趋势图因小数保护未显示" in text and "<5" in text


def test_suppression_can_be_turned_off_and_the_screen_is_never_suppressed(
    world: World, city_staff: Any, settings: Any
) -> None:
    client = client_for(city_staff)
    text = client.get("/reports/", {"area": "320508", "period": PERIOD}).content.decode()
    assert "导出时：小数保护" in text
    assert ">&lt;5<" not in text and "&lt;5/" not in text and ">0/1</span>" in text  # the townships' figures
    settings.METRICS_SUPPRESS_BELOW = 0
    body = client.get("/reports/api/indicators", {"area": "320508", "period": PERIOD}).json()
    assert body["counts"]["registered"] == 2 and "suppression" not in body
