"""The indicator JSON of exchange.md §2: every key pinned."""

from __future__ import annotations

import datetime as dt
import json

from metrics.indicators.definitions import INDICATOR_NAMES, Options, Tally
from metrics.indicators.periods import SHANGHAI, parse_period
from metrics.reports.document import AreaRef, AreaResult, build_document

COMPUTED = dt.datetime(2026, 1, 5, 9, 30, tzinfo=SHANGHAI)


def result(code: str = "320508000000", population: int | None = 511000, missing: tuple[str, ...] = ()) -> AreaResult:
    tally = Tally()
    tally.counts.update(
        {
            "registered": 2301, "managed": 2190, "at_home": 2105, "new_registration": 140, "overdue": 37,
            "open_case": 21, "emergencies": 4, "minor_trouble": 3, "trouble": 2, "disaster": 1, "lost": 30,
        }
    )  # fmt: skip
    tally.deaths_by_cause.update({1: 10, 2: 2})
    return AreaResult(AreaRef(code, "姑苏区", 3), tally, population, missing)


def test_document_keys_and_values() -> None:
    period = parse_period("2025", today=dt.date(2026, 1, 5))
    document = build_document(result=result(), period=period, options=Options(), computed_at=COMPUTED)
    assert list(document) == [
        "area", "period", "rule_set", "options", "computed_at", "indicators", "counts", "children",
    ]  # fmt: skip
    assert document["area"] == {"code": "320508000000", "name": "姑苏区", "level": 3}
    assert document["period"] == {"start": "2025-01-01", "end": "2025-12-31"}
    assert document["rule_set"] == "bphs-2017"
    assert document["options"] == {
        "regular_management": "quarterly", "medication_denominator": "registered", "deaths_in_period": "excluded",
    }  # fmt: skip
    assert document["computed_at"] == "2026-01-05T09:30:00+08:00"
    assert list(document["indicators"]) == list(INDICATOR_NAMES)
    prevalence = document["indicators"]["reported_prevalence"]
    assert prevalence["numerator"] == 2301 and prevalence["denominator"] == 511000
    assert abs(prevalence["value"] - 4.5029) < 1e-4
    management = document["indicators"]["management_rate"]
    assert (management["numerator"], management["denominator"]) == (2190, 2301)
    assert abs(management["value"] - 95.1760) < 1e-4
    assert document["counts"] == {
        # the contract's keys ...
        "registered": 2301, "managed": 2190, "at_home": 2105, "new_registrations": 140, "deaths": 12,
        "overdue_at_cutoff": 37, "open_cases": 21, "emergencies": 4,
        # ... and the additive ones
        "deaths_by_cause": {"1": 10, "2": 2, "3": 0, "4": 0, "5": 0, "6": 0},
        "minor_trouble": 3, "trouble": 2, "disaster": 1, "lost": 30,
    }  # fmt: skip
    for name, entry in document["indicators"].items():
        assert list(entry) == ["numerator", "denominator", "value"], name
    assert document["children"] == []
    assert "missing_population" not in document
    json.dumps(document)  # serializable as is


def test_zero_denominator_is_null_and_missing_population_is_named() -> None:
    period = parse_period("2025", today=dt.date(2026, 1, 5))
    empty = AreaResult(AreaRef("320508000000", "姑苏区", 3), Tally(), None, ("320508019000",))
    document = build_document(result=empty, period=period, options=Options(), computed_at=COMPUTED)
    assert document["indicators"]["management_rate"] == {"numerator": 0, "denominator": 0, "value": None}
    assert document["indicators"]["reported_prevalence"]["value"] is None
    assert document["missing_population"] == ["320508019000"]
    assert list(document)[-1] == "missing_population"


def test_a_running_period_names_its_cutoff() -> None:
    period = parse_period("2025", today=dt.date(2025, 8, 15))
    document = build_document(result=result(), period=period, options=Options(), computed_at=COMPUTED)
    assert document["period"] == {"start": "2025-01-01", "end": "2025-12-31", "cutoff": "2025-08-15"}


def test_computed_at_is_given_in_beijing_time() -> None:
    period = parse_period("2025", today=dt.date(2026, 1, 5))
    utc = dt.datetime(2026, 1, 5, 1, 30, 15, 123456, tzinfo=dt.UTC)
    document = build_document(result=result(), period=period, options=Options(), computed_at=utc)
    assert document["computed_at"] == "2026-01-05T09:30:15+08:00"


def test_unknown_cause_of_death_appears_only_when_it_occurs() -> None:
    tally = Tally()
    tally.deaths_by_cause.update({0: 1})
    area = AreaResult(AreaRef("320508000000", "姑苏区", 3), tally, 1000)
    period = parse_period("2025", today=dt.date(2026, 1, 5))
    document = build_document(result=area, period=period, options=Options(), computed_at=COMPUTED)
    assert document["counts"]["deaths_by_cause"]["0"] == 1 and document["counts"]["deaths"] == 1


def test_children_carry_their_own_area_indicators_and_counts() -> None:
    period = parse_period("2025", today=dt.date(2026, 1, 5))
    child = result("320508001000")
    document = build_document(result=result(), period=period, options=Options(), children=[child], computed_at=COMPUTED)
    assert document["children"][0]["area"]["code"] == "320508001000"
    assert list(document["children"][0]) == ["area", "indicators", "counts"]
    unknown = AreaResult(AreaRef("320508002000", "二街道", 4), Tally(), None, ("320508002001",))
    document = build_document(
        result=result(), period=period, options=Options(), children=[unknown], computed_at=COMPUTED
    )
    assert document["children"][0]["missing_population"] == ["320508002001"]
