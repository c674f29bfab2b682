"""Slot masks of a date: the calendar side of the set-based rebuild (``metrics.state.setbased``). Pure: no database.

The set-based rebuild never expands a patient-year into its 26 slots. Every fact contributes a bitmask of the
slots it touches, and every rule of ``metrics.state.slots`` is an expression over such masks. The masks of a
date *x* for the slots of a year (computed as of *day*, so the cut-off of slot s is c_s = min(E_s, day)) are:

- ``ge``: slots whose cut-off is on or after x (x happened by the cut-off when x <= c_s);
- ``sle``: slots whose start is on or before x (S_s <= x);
- ``in``: ``ge & sle``, the slots whose period holds x (one lookup instead of two);
- ``win``: slots whose stable window holds x (add_months(c_s, -3) <= x);
- ``s3lt``: slots whose start plus 3 calendar months lies before x (the interval-3m rule's first gap);
- ``qfrom`` / ``qupto``: the year's quarters (bit q-1) starting on or after x / ending on or before x.

Only slots that have started by *day* carry bits. The masks of a year are tabulated for the days from 1 January of
the year before to 1 January of the year after (``SPAN`` entries); any date outside behaves like the nearest end,
so the SQL clamps the index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from casemgmt.dates import add_months
from metrics.indicators.periods import Quarter
from metrics.state.calendar import slot_periods

SPAN = 732  # days tabulated per year: 1 January of the year before, and 731 days on (covers two leap years)
KINDS = ("ge", "sle", "in", "win", "s3lt", "qfrom", "qupto")


@dataclass(frozen=True)
class YearMasks:
    year: int
    valid: int  # slots started by the day
    days: dict[str, tuple[int, ...]]  # kind -> SPAN masks, from 1 January of year - 1
    regq: tuple[int, ...]  # by 4-bit quarter mask m (see ``year_masks``)
    need: tuple[tuple[int, ...], ...]  # need[k - 1][m]


def first_day(year: int) -> dt.date:
    return dt.date(year - 1, 1, 1)


def _bits(flags: list[bool]) -> int:
    return sum(1 << index for index, flag in enumerate(flags) if flag)


@lru_cache(maxsize=128)
def year_masks(year: int, day: dt.date) -> YearMasks:
    """The masks of *year*'s slots as computed on *day* (see the module's docstring).

    ``regq[m]``: slots none of whose quarters lies in *m* — with m = the quarters the rule requires beyond those
    of the slot itself (from registration, up to a death) and lacking a complete follow-up, the slots where the
    quarterly rule holds. ``need[k - 1][m]``: slots where max(1, |quarters of the slot ∩ m|) = k.
    """
    periods = slot_periods(year, day)
    started = [p.start <= day for p in periods]
    quarters = [(Quarter(year, q).start, Quarter(year, q).end) for q in range(1, 5)]
    slot_quarters = [_bits([p.start <= qs and qe <= p.cutoff_date for qs, qe in quarters]) for p in periods]
    days: dict[str, list[int]] = {kind: [] for kind in KINDS}
    for offset in range(SPAN):
        x = first_day(year) + dt.timedelta(days=offset)
        days["ge"].append(_bits([s and p.cutoff_date >= x for s, p in zip(started, periods, strict=True)]))
        days["sle"].append(_bits([s and p.start <= x for s, p in zip(started, periods, strict=True)]))
        days["in"].append(days["ge"][-1] & days["sle"][-1])
        days["win"].append(
            _bits([s and add_months(p.cutoff_date, -3) <= x for s, p in zip(started, periods, strict=True)])
        )
        days["s3lt"].append(_bits([s and add_months(p.start, 3) < x for s, p in zip(started, periods, strict=True)]))
        days["qfrom"].append(_bits([qs >= x for qs, _qe in quarters]))
        days["qupto"].append(_bits([qe <= x for _qs, qe in quarters]))
    regq = tuple(_bits([s and not (q & m) for s, q in zip(started, slot_quarters, strict=True)]) for m in range(16))
    need = tuple(
        tuple(
            _bits([s and max(1, bin(q & m).count("1")) == k for s, q in zip(started, slot_quarters, strict=True)])
            for m in range(16)
        )
        for k in range(1, 5)
    )
    return YearMasks(year, _bits(started), {k: tuple(v) for k, v in days.items()}, regq, need)
