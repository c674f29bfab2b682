"""The report slots of a state year and their periods, and the day a running period is computed up to.

May import ``metrics.indicators`` only.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from metrics.indicators.periods import SHANGHAI, Period, month_end

YTD_SLOTS = (2, 4, 5, 6, 7, 8, 9, 10, 11)  # YTD-1 = month 1, YTD-3 = Q1, YTD-12 = the year
SLOTS: tuple[tuple[str, int, int], ...] = (
    ("year", 1, 12),
    *(("quarter", 3 * q - 2, 3 * q) for q in range(1, 5)),
    *(("month", m, m) for m in range(1, 13)),
    *(("ytd", 1, m) for m in YTD_SLOTS),
)  # (kind, first month, last month)
OPTION_VARIANTS = (("x", "excluded"), ("i", "included"))


def today() -> dt.date:
    """The day whose end is the cut-off of a running period (as ``metrics.indicators.periods.parse_period``)."""
    return dt.datetime.now(SHANGHAI).date()


def slot_of(period: Period) -> int | None:
    """The slot holding *period*, or None for a period no slot describes."""
    first, last = period.start.month, period.end.month
    if period.start.year != period.end.year or period.start.day != 1 or period.end != month_end(period.year, last):
        return None
    for index, (_kind, slot_first, slot_last) in enumerate(SLOTS):
        if (slot_first, slot_last) == (first, last):
            return index
    return None


def answers(period: Period, day: dt.date | None = None) -> bool:
    """Whether the state holds *period*: a slot, and (when it is still running) computed up to today."""
    return slot_of(period) is not None and (not period.is_partial or period.cutoff_date == (day or today()))


def slot_period(year: int, slot: int, day: dt.date) -> Period:
    return slot_periods(year, day)[slot]


@lru_cache(maxsize=256)
def slot_periods(year: int, day: dt.date) -> tuple[Period, ...]:
    """The 26 slot periods of *year* as computed on *day* (cut-off = min(end, day))."""
    result = []
    for kind, first, last in SLOTS:
        start, end = dt.date(year, first, 1), month_end(year, last)
        result.append(Period(kind=kind, key="", start=start, end=end, cutoff_date=min(end, day)))
    return tuple(result)
