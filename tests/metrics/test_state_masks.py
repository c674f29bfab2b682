"""The slot masks of a date (``metrics.state.masks``), built from each slot's range of days, equal the definitions
of its docstring tested day by day and slot by slot."""

from __future__ import annotations

import datetime as dt

import pytest

from casemgmt.dates import add_months
from metrics.indicators.periods import Quarter
from metrics.state.calendar import slot_periods
from metrics.state.masks import KINDS, SPAN, first_day, year_masks


def _bits(flags: list[bool]) -> int:
    return sum(1 << index for index, flag in enumerate(flags) if flag)


def masks_day_by_day(year: int, day: dt.date) -> dict[str, list[int]]:
    """Every kind's mask of every tabulated date, each condition tested for each slot."""
    periods = slot_periods(year, day)
    started = [p.start <= day for p in periods]
    quarters = [(Quarter(year, q).start, Quarter(year, q).end) for q in range(1, 5)]
    conditions = {
        "ge": lambda p, x: p.cutoff_date >= x,
        "sle": lambda p, x: p.start <= x,
        "in": lambda p, x: p.start <= x <= p.cutoff_date,
        "win": lambda p, x: add_months(p.cutoff_date, -3) <= x,
        "s3lt": lambda p, x: add_months(p.start, 3) < x,
    }
    result: dict[str, list[int]] = {kind: [] for kind in KINDS}
    for offset in range(SPAN):
        x = first_day(year) + dt.timedelta(days=offset)
        for kind, holds in conditions.items():
            result[kind].append(_bits([s and holds(p, x) for s, p in zip(started, periods, strict=True)]))
        result["qfrom"].append(_bits([qs >= x for qs, _qe in quarters]))
        result["qupto"].append(_bits([qe <= x for _qs, qe in quarters]))
    return result


DAYS = [(2, 29), (1, 1), (3, 31), (5, 15), (6, 30), (8, 31), (11, 30), (12, 31)]


@pytest.mark.parametrize("year", [2000, 2019, 2023, 2024, 2025, 2026])
def test_masks_equal_the_day_by_day_definition(year: int) -> None:
    days = [dt.date(year, m, min(d, 28 if m == 2 and year % 4 else d)) for m, d in DAYS]
    days += [dt.date(year - 1, 12, 31), dt.date(year + 1, 1, 1), dt.date(year + 1, 7, 1), dt.date(year - 1, 6, 1)]
    for day in days:
        expected = masks_day_by_day(year, day)
        actual = year_masks.__wrapped__(year, day)
        assert {kind: list(actual.days[kind]) for kind in KINDS} == expected, day
