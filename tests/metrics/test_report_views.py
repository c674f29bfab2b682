"""The report page and the JSON endpoint: access matrix, bad input, audit, the §2 document."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from casemgmt.audit.models import Action, AuditEvent
from metrics.indicators.definitions import INDICATOR_NAMES
from metrics.indicators.labels import INDICATOR_LABELS
from metrics.indicators.periods import parse_period
from metrics.reports.engine import compute_indicators
from tests.base import World
from tests.metrics.sheets import level_table

pytestmark = pytest.mark.django_db
DEFAULTS = {"regular_management": "quarterly", "medication_denominator": "registered", "deaths_in_period": "excluded"}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_county_staff_sees_the_table_children_targets_and_footer(world: World) -> None:
    response = client_for(world.county_d).get("/reports/", {"area": "320508", "period": "2025"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "规范管理率" in text and "≥80%" in text and "甲街道" in text and "乙街道" in text
    assert "?area=320508001000&amp;period=2025&amp;" in text
    assert "指标口径：bphs-2017" in text
    event = AuditEvent.objects.filter(action=Action.LIST).latest("pk")
    assert event.detail == {"report": "indicators", "area": "320508000000", "period": "2025", "options": DEFAULTS}


def test_default_area_and_period(world: World) -> None:
    response = client_for(world.county_d).get("/reports/")
    assert response.status_code == 200
    assert "姑苏区" in response.content.decode()


@pytest.mark.parametrize("user", ["doctor_a", "police_c", "admin_e"])
def test_other_roles_are_refused(world: World, user: str) -> None:
    client = client_for(getattr(world, user))
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/api/indicators", {"area": "320508", "period": "2025"}).status_code == 403


def test_an_area_outside_the_scope_is_not_found(world: World) -> None:
    client = client_for(world.county_d)
    assert client.get("/reports/", {"area": "3205", "period": "2025"}).status_code == 404
    response = client.get("/reports/api/indicators", {"area": "32", "period": "2025"})
    assert response.status_code == 404 and "无权" in response.json()["error"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"area": "320508", "period": "2025-13"}, "月份"),
        ({"area": "320508", "period": "abc"}, "统计期格式不正确"),
        ({"area": "12x", "period": "2025"}, "区划代码"),
        ({"area": "320508\x00", "period": "2025"}, "无效字符"),
    ],
)
def test_bad_input_is_a_chinese_400(world: World, params: dict[str, str], fragment: str) -> None:
    client = client_for(world.county_d)
    page = client.get("/reports/", params)
    assert page.status_code == 400 and fragment in page.content.decode()
    api = client.get("/reports/api/indicators", params)
    assert api.status_code == 400 and fragment in api.json()["error"]


def test_login_is_required() -> None:
    assert Client().get("/reports/").status_code == 302
    assert Client().get("/reports/api/indicators").status_code == 302


def test_the_api_returns_the_exchange_document(world: World) -> None:
    response = client_for(world.county_d).get(
        "/reports/api/indicators", {"area": "320508", "period": "2025", "children": "1"}
    )
    assert response.status_code == 200
    body = response.json()
    expected = compute_indicators("320508", parse_period("2025"), children=True)
    for key in ("computed_at",):
        body.pop(key, None)
        expected.pop(key, None)
    assert body == expected
    assert AuditEvent.objects.filter(action=Action.LIST, detail__report="indicators_api").exists()


def test_the_spreadsheet_has_chinese_headers_child_rows_and_is_audited(world: World) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    response = client_for(world.county_d).get("/reports/xlsx", {"area": "320508", "period": "2025"})
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["指标报告", "乡镇"]  # the county, then its townships
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[1] == ("地区", "姑苏区 (320508000000)", None, None, None, None)
    assert rows[3] == ("指标", "分子", "分母", "率", "目标", "是否达标")
    assert any(row[0] == "规范管理率" and row[4] == "≥80%" for row in rows)
    assert any(row[0] == "新登记患者" and isinstance(row[1], int) for row in rows)  # the counts
    assert {"甲街道", "乙街道"} <= set(level_table(response.content, "乡镇"))
    event = AuditEvent.objects.filter(action=Action.EXPORT).latest("pk")
    assert event.detail == {"report": "indicators_xlsx", "area": "320508000000", "period": "2025", "options": DEFAULTS}
    assert client_for(world.doctor_a).get("/reports/xlsx").status_code == 403
    assert client_for(world.county_d).get("/reports/xlsx", {"area": "32"}).status_code == 404
    assert client_for(world.county_d).get("/reports/xlsx", {"period": "x"}).status_code == 400


def test_the_page_draws_the_monthly_trend_as_inline_svg(world: World) -> None:
    text = client_for(world.county_d).get("/reports/", {"area": "320508", "period": "2025-Q2"}).content.decode()
    assert "<svg" in text and text.count("<polyline") == 3 and "2025年逐月趋势" in text


def test_the_page_shows_every_count_of_the_period(world: World) -> None:
    text = client_for(world.county_d).get("/reports/", {"area": "320508", "period": "2025"}).content.decode()
    for label in (
        "新登记患者",
        "死亡",
        "有轻度滋事的患者",
        "有肇事的患者",
        "有肇祸的患者",
        "应急处置",
        "个案管理中",
        "截止日逾期未随访",
        "失访患者",
        "死亡：其他",
    ):
        assert f"<dt>{label}</dt>" in text, label


def test_missing_populations_are_named(world: World) -> None:
    from casemgmt.areas.models import AreaPopulation

    AreaPopulation.objects.filter(area__in=[world.village_a1, world.village_a2]).delete()
    text = client_for(world.county_d).get("/reports/", {"area": "320508"}).content.decode()
    assert "甲街道 (320508001000)" in text  # both its villages lack a figure: the township is named
    assert "320508001001" not in text


def test_a_city_spreadsheet_has_a_sheet_of_counties_and_one_of_townships(world: World) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    from tests.base import make_user

    city_staff = make_user("city_f", "area_staff", world.city)
    response = client_for(city_staff).get("/reports/xlsx", {"area": "3205", "period": "2025"})
    assert load_workbook(BytesIO(response.content)).sheetnames == ["指标报告", "县区", "乡镇"]
    assert list(level_table(response.content, "县区")) == ["姑苏区"]
    assert list(level_table(response.content, "乡镇")) == ["甲街道", "乙街道"]


def test_each_child_area_shows_every_indicator_and_every_count(world: World) -> None:
    """Issue 13 §7: the screen's child table had six of the twelve rates and no counts."""
    text = client_for(world.county_d).get("/reports/", {"area": "320508", "period": "2025"}).content.decode()
    rates = text[text.index('<table class="list children">') :]
    rates = rates[: rates.index("</table>")]
    for name in INDICATOR_NAMES:
        assert f"<th>{INDICATOR_LABELS[name]}</th>" in rates, name
    assert rates.count('data-label="报告患病率"') == 2  # 甲街道 and 乙街道
    if "未达标" in rates:
        assert 'class="unmet"' in rates
    counts = text[text.index('<table class="list children child-counts">') :]
    counts = counts[: counts.index("</table>")]
    for label in ("在册患者", "新登记患者", "有肇祸的患者", "应急处置", "截止日逾期未随访", "死亡：其他"):
        assert f"<th>{label}</th>" in counts, label
        assert counts.count(f'data-label="{label}"') == 2, label
