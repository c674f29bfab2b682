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


def _ranges(spans: list[tuple[dt.date, dt.date] | None], year: int) -> tuple[int, ...]:
    """The mask of each tabulated day: bit i is set on the days of ``spans[i]`` (first and last day included;
    None: never). Each span toggles its bit on at its first day and off after its last, and a running XOR over the
    days turns the toggles into masks: a few operations per slot and per day instead of a test per slot and day."""
    toggles = [0] * (SPAN + 1)
    origin = first_day(year)
    for bit, span in enumerate(spans):
        if span is None:
            continue
        lo, hi = max((span[0] - origin).days, 0), min((span[1] - origin).days, SPAN - 1)
        if lo <= hi:
            toggles[lo] ^= 1 << bit
            toggles[hi + 1] ^= 1 << bit
    masks, mask = [], 0
    for toggle in toggles[:SPAN]:
        mask ^= toggle
        masks.append(mask)
    return tuple(masks)


def _by_day(spans: list[tuple[dt.date, dt.date] | None], started: list[bool], year: int) -> tuple[int, ...]:
    """``_ranges`` of the started slots' spans (a slot that has not started by the day carries no bit)."""
    return _ranges([span if s else None for s, span in zip(started, spans, strict=True)], year)


@lru_cache(maxsize=128)
def year_masks(year: int, day: dt.date) -> YearMasks:
    """The masks of *year*'s slots as computed on *day* (see the module's docstring).

    ``regq[m]``: slots none of whose quarters lies in *m* — with m = the quarters the rule requires beyond those
    of the slot itself (from registration, up to a death) and lacking a complete follow-up, the slots where the
    quarterly rule holds. ``need[k - 1][m]``: slots where max(1, |quarters of the slot ∩ m|) = k.

    Each kind is the set of days on which a slot's condition holds, a range of days per slot: x <= c_s (``ge``),
    S_s <= x (``sle``), add_months(c_s, -3) <= x (``win``), add_months(S_s, 3) < x (``s3lt``); per quarter
    Q_start >= x (``qfrom``) and Q_end <= x (``qupto``).
    """
    periods = slot_periods(year, day)
    started = [p.start <= day for p in periods]
    quarters = [(Quarter(year, q).start, Quarter(year, q).end) for q in range(1, 5)]
    slot_quarters = [_bits([p.start <= qs and qe <= p.cutoff_date for qs, qe in quarters]) for p in periods]
    before, after = first_day(year), first_day(year) + dt.timedelta(days=SPAN - 1)
    one = dt.timedelta(days=1)
    days = {
        "ge": _by_day([(before, p.cutoff_date) for p in periods], started, year),
        "sle": _by_day([(p.start, after) for p in periods], started, year),
        "win": _by_day([(add_months(p.cutoff_date, -3), after) for p in periods], started, year),
        "s3lt": _by_day([(add_months(p.start, 3) + one, after) for p in periods], started, year),
        "qfrom": _ranges([(before, qs) for qs, _qe in quarters], year),
        "qupto": _ranges([(qe, after) for _qs, qe in quarters], year),
    }
    days["in"] = tuple(ge & sle for ge, sle in zip(days["ge"], days["sle"], strict=True))
    regq = tuple(_bits([s and not (q & m) for s, q in zip(started, slot_quarters, strict=True)]) for m in range(16))
    need = tuple(
        tuple(
            _bits([s and max(1, bin(q & m).count("1")) == k for s, q in zip(started, slot_quarters, strict=True)])
            for m in range(16)
        )
        for k in range(1, 5)
    )
    return YearMasks(year, _bits(started), {kind: days[kind] for kind in KINDS}, regq, need)
