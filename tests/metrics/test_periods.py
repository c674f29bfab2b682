from __future__ import annotations

import datetime as dt

import pytest

from casemgmt.dates import add_months
from metrics.indicators.periods import PeriodError, parse_period

TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2025", "year", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        ("2025-Q3", "quarter", dt.date(2025, 7, 1), dt.date(2025, 9, 30)),
        ("2025-q1", "quarter", dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
        ("2024-02", "month", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("2025-YTD-08", "ytd", dt.date(2025, 1, 1), dt.date(2025, 8, 31)),
    ],
)
def test_parse(text: str, kind: str, start: dt.date, end: dt.date) -> None:
    period = parse_period(text, today=TODAY)
    assert (period.kind, period.start, period.end, period.cutoff_date) == (kind, start, end, end)
    assert period.cutoff.utcoffset() == dt.timedelta(hours=8)
    assert period.cutoff.date() == end


@pytest.mark.parametrize("text", ["2025-Q5", "2025-13", "2025-YTD-00", "25", "2025-7", "1999", "2027", "2026-12"])
def test_malformed_or_future_periods_are_refused(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text, today=TODAY)


def test_a_running_period_is_computed_as_of_today() -> None:
    period = parse_period("2026", today=TODAY)
    assert period.end == dt.date(2026, 12, 31)
    assert period.cutoff_date == TODAY


@pytest.mark.parametrize(
    ("text", "registered", "quarters"),
    [
        ("2025", dt.date(2020, 1, 1), [1, 2, 3, 4]),
        ("2025", dt.date(2025, 2, 10), [2, 3, 4]),  # registered 10 Feb: Q2-Q4
        ("2025", dt.date(2025, 4, 1), [2, 3, 4]),  # registered on a quarter's first day: that quarter counts
        ("2025", dt.date(2025, 4, 2), [3, 4]),
        ("2025-YTD-08", dt.date(2020, 1, 1), [1, 2]),  # YTD to 31 Aug: Q1-Q2 only
        ("2025-Q3", dt.date(2020, 1, 1), [3]),
        ("2025-07", dt.date(2020, 1, 1), []),
    ],
)
def test_quarters_wholly_inside(text: str, registered: dt.date, quarters: list[int]) -> None:
    assert [q.number for q in parse_period(text, today=TODAY).quarters_within(registered)] == quarters


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2025, 1, 31), 1, dt.date(2025, 2, 28)),
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),
        (dt.date(2025, 11, 30), 3, dt.date(2026, 2, 28)),
        (dt.date(2025, 12, 31), -3, dt.date(2025, 9, 30)),
    ],
)
def test_calendar_months(day: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(day, months) == expected


def test_months_for_trends_stop_at_the_cutoff() -> None:
    assert [m.key for m in parse_period("2026", today=TODAY).months()][-1] == "2026-11"
    assert len(parse_period("2025", today=TODAY).months()) == 12


@pytest.mark.parametrize(
    ("text", "label"),
    [("2025", "2025年"), ("2025-Q3", "2025年第3季度"), ("2025-07", "2025年7月"), ("2025-YTD-08", "2025年1—8月")],
)
def test_labels(text: str, label: str) -> None:
    period = parse_period(text, today=TODAY)
    assert period.label == label
    assert period.full_label == label and not period.is_partial


def test_a_running_period_says_when_it_was_cut_off() -> None:
    period = parse_period("2026-Q4", today=TODAY)
    assert period.is_partial
    assert period.full_label == "2026年第4季度（截至2026年11月23日）"
    assert period.population_year == 2026
    assert [q.number for q in period.quarters_within(dt.date(2020, 1, 1))] == []  # Q4 is not over yet
