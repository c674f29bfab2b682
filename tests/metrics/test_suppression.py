"""Small-count suppression (domain.md §12): when it applies, and what it hides — pure, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from casemgmt.areas.codes import CITY, COUNTY, PROVINCE, TOWNSHIP, VILLAGE
from metrics.indicators.suppression import (
    NONE,
    Suppression,
    leaves_county,
    policy_for,
    suppress_document,
    suppress_figure,
)


@pytest.mark.parametrize(
    ("report_level", "scope_levels", "leaves"),
    [
        (COUNTY, [COUNTY], False),  # a county's staff, their own county: stays inside
        (TOWNSHIP, [COUNTY], False),
        (VILLAGE, [TOWNSHIP], False),
        (CITY, [CITY], True),  # a city report
        (PROVINCE, [PROVINCE], True),
        (COUNTY, [CITY], True),  # a city member pulling one county's figures
        (TOWNSHIP, [PROVINCE], True),
        (COUNTY, [COUNTY, CITY], True),  # any membership above county
        (COUNTY, [], False),
    ],
)
def test_when_a_report_leaves_the_county(report_level: int, scope_levels: list[int], leaves: bool) -> None:
    assert leaves_county(report_level, scope_levels) is leaves


@pytest.mark.parametrize(
    ("below", "report_level", "scope", "expected"),
    [
        (5, CITY, [CITY], Suppression(5)),
        (5, COUNTY, [COUNTY], NONE),
        (0, CITY, [CITY], NONE),  # 0 disables
        (-1, CITY, [CITY], NONE),
        (10, COUNTY, [PROVINCE], Suppression(10)),
    ],
)
def test_the_policy(below: int, report_level: int, scope: list[int], expected: Suppression) -> None:
    assert policy_for(below=below, report_level=report_level, scope_levels=scope) == expected


@pytest.mark.parametrize(
    ("count", "level", "hidden"),
    [
        (0, TOWNSHIP, False),  # nobody identifies no one
        (1, TOWNSHIP, True),
        (4, TOWNSHIP, True),
        (5, TOWNSHIP, False),
        (3, VILLAGE, True),
        (3, COUNTY, True),
        (3, CITY, False),  # above county level: shown
        (3, PROVINCE, False),
        (None, TOWNSHIP, False),  # unknown stays unknown
    ],
)
def test_which_counts_are_hidden(count: int | None, level: int, hidden: bool) -> None:
    assert Suppression(5).hides(count, level) is hidden
    assert NONE.hides(count, level) is False


@pytest.mark.parametrize(
    ("name", "figure", "expected"),
    [
        (
            "management_rate",
            {"numerator": 3, "denominator": 40, "value": 7.5},
            {"numerator": None, "denominator": 40, "value": None, "suppressed": True},
        ),
        (
            "stable_rate",
            {"numerator": 2, "denominator": 3, "value": 66.7},
            {"numerator": None, "denominator": None, "value": None, "suppressed": True},
        ),
        (
            "lost_rate",
            {"numerator": 0, "denominator": 4, "value": 0.0},
            {"numerator": 0, "denominator": None, "value": None, "suppressed": True},
        ),
        ("lost_rate", {"numerator": 0, "denominator": 40, "value": 0.0}, None),  # unchanged
        (
            "reported_prevalence",  # the population is not a patient count
            {"numerator": 2, "denominator": 3000, "value": 0.67},
            {"numerator": None, "denominator": 3000, "value": None, "suppressed": True},
        ),
    ],
)
def test_a_figure_of_a_township(name: str, figure: dict[str, Any], expected: dict[str, Any] | None) -> None:
    assert suppress_figure(figure, name, TOWNSHIP, Suppression(5)) == (expected or figure)


def _area(code: str, level: int, registered: int, managed: int) -> dict[str, Any]:
    return {
        "area": {"code": code, "name": code, "level": level},
        "indicators": {"management_rate": {"numerator": managed, "denominator": registered, "value": 1.0}},
        "counts": {"registered": registered, "deaths": 1, "deaths_by_cause": {"1": 0, "2": 1}},
    }


def test_a_city_document_hides_small_township_cells_only() -> None:
    document = {
        **_area("320500000000", CITY, 3, 2),
        "children": [_area("320508000000", COUNTY, 30, 20), _area("320509000000", COUNTY, 4, 0)],
    }
    result = suppress_document(document, Suppression(5))
    assert result["indicators"] == document["indicators"]  # the city itself is shown
    assert result["suppression"] == {"below": 5, "min_level": COUNTY}
    big, small = result["children"]
    assert big["indicators"]["management_rate"]["numerator"] == 20
    assert big["counts"]["deaths"] is None and big["suppressed_counts"] == ["deaths", "deaths_by_cause.2"]
    assert small["indicators"]["management_rate"] == {
        "numerator": 0,
        "denominator": None,
        "value": None,
        "suppressed": True,
    }
    assert small["counts"]["registered"] is None
    assert document["children"][1]["counts"]["registered"] == 4  # the input is untouched
    assert suppress_document(document, NONE) is document


def test_the_footer_names_an_applied_suppression() -> None:
    from metrics.indicators.definitions import Options
    from metrics.indicators.options import footer_lines

    assert len(footer_lines(Options())) == 4
    lines = footer_lines(Options(), Suppression(5))
    assert len(lines) == 5 and "1至4例" in lines[4] and "“<5”" in lines[4]


@pytest.mark.parametrize(("value", "errors"), [(5, []), (0, []), (-1, ["metrics.E002"]), ("5", ["metrics.E002"])])
def test_the_threshold_setting_is_checked_at_start(settings: Any, value: Any, errors: list[str]) -> None:
    from metrics.indicators.options import check_metrics_settings

    settings.METRICS_SUPPRESS_BELOW = value
    assert [error.id for error in check_metrics_settings()] == errors
