"""One patient's state rows: the memberships of every slot of a year set as bits on the row of the village
holding the record at the slot's cut-off, and the day the rows expire (``valid_until``). Pure: no database.

May import ``metrics.indicators``, ``metrics.state.calendar`` and ``metrics.state.slots``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from casemgmt.dates import add_months
from metrics.indicators.definitions import REACHED, PatientFacts
from metrics.indicators.periods import Period, Quarter, month_end
from metrics.state.calendar import SLOTS, slot_periods
from metrics.state.slots import PatientYear


def _year_facts(facts: PatientFacts, year: int) -> PatientFacts:
    """The facts that matter for *year*: follow-ups of the year and from the last reached one before it (the
    overdue rule looks back to it); nothing else is cut. Same memberships, far fewer follow-ups to scan."""
    first = dt.date(year, 1, 1)
    reached_before = [f.date for f in facts.followups if f.date < first and f.outcome == REACHED]
    since = max(reached_before) if reached_before else first
    last = dt.date(year, 12, 31)
    return replace(facts, followups=tuple(f for f in facts.followups if since <= f.date <= last))


def _fact_days(facts: PatientFacts) -> Iterator[dt.date]:
    for f in facts.followups:
        yield f.date
        if f.next_date is not None:
            yield f.next_date + dt.timedelta(days=1)  # overdue from the day after the next date
        if f.is_complete:
            yield add_months(f.date, 3)  # stable window and the interval-3m gap
            yield add_months(f.date, 3) + dt.timedelta(days=1)
    for status in facts.statuses:
        yield status.effective_date
    for span in facts.custody:
        yield span.start
        if span.end is not None:
            yield span.end
    for start, end in (*facts.rehab, *facts.cases):
        yield start
        if end is not None:
            yield end
            yield end + dt.timedelta(days=1)
    yield from facts.health_checks
    yield from facts.emergencies


def valid_until(facts: PatientFacts, year: int, day: dt.date) -> dt.date | None:
    """The first day after *day* on which a row of *year* computed on *day* may be wrong; None = never."""
    if year < day.year:
        return None
    following = month_end(day.year, day.month) + dt.timedelta(days=1)  # a new month: new slots, new cut-offs
    candidates = [following]
    if day.month % 3 == 0:
        candidates.append(Quarter(day.year, day.month // 3).end)  # the quarter becomes whole on its last day
    candidates.extend(d for d in _fact_days(facts) if d > day)
    return min(d for d in candidates if d > day)


@dataclass
class _Row:
    masks: dict[str, int]
    emergencies: list[int]  # per slot


RowKey = tuple[str, int | None]  # holder village, death cause


def _add_slot(rows: dict[RowKey, _Row], year: PatientYear, period: Period, slot: int) -> None:
    """Set the bits of *slot* on the row of the village holding the record at its cut-off."""
    member = year.slot(period)
    if member is None:
        return
    names = [name for name, value in member.events.items() if value]
    if member.registered:  # deaths in the period included; the stored rows derive the excluded reading
        names.append("registered_i")
        names.extend([f"{name}_i" for name, value in member.sets.items() if value])
    if member.death_cause is not None:
        names.append("died")
    if not names and not member.emergencies:
        return
    key = (member.holder, member.death_cause)
    row = rows.get(key)
    if row is None:
        row = rows[key] = _Row({}, [0] * len(SLOTS))
    masks, bit = row.masks, 1 << slot
    for name in names:
        masks[name] = masks.get(name, 0) | bit
    row.emergencies[slot] = member.emergencies


def _emit(rows: dict[RowKey, _Row], base: dict[str, object]) -> Iterator[dict[str, object]]:
    for (holder, cause), row in rows.items():
        key = {**base, "area_code": holder, "death_cause": cause}
        yield {**key, "layer": 0, **row.masks, "emergency": _layer_mask(row.emergencies, 1)}
        for layer in range(1, max(row.emergencies)):
            yield {**key, "layer": layer, "emergency": _layer_mask(row.emergencies, layer + 1)}


def patient_rows(facts: PatientFacts, years: Sequence[int], day: dt.date) -> list[dict[str, object]]:
    """The state rows of one patient for *years*, computed as of *day*, as column dicts."""
    result: list[dict[str, object]] = []
    for year in years:
        if year < facts.registered_on.year or year > day.year:
            continue
        yf = _year_facts(facts, year)
        prepared = PatientYear(yf)
        rows: dict[RowKey, _Row] = {}
        for slot, period in enumerate(slot_periods(year, day)):
            if period.start <= day:
                _add_slot(rows, prepared, period, slot)
        if not rows:  # a marker row, so the year is known to be computed and refreshed when it expires
            holder = yf.holder_on(min(dt.date(year, 12, 31), day)) or (yf.custody[0].area_code if yf.custody else "")
            rows[(holder, None)] = _Row({}, [0] * len(SLOTS))
        base = {"patient_id": int(facts.key), "year": year, "disorder": facts.disorder}
        result.extend(_emit(rows, {**base, "valid_until": valid_until(yf, year, day)}))
    return result


def _layer_mask(counts: list[int], at_least: int) -> int:
    return sum(1 << slot for slot, count in enumerate(counts) if count >= at_least)


def rows_for_facts(batch: list[PatientFacts], years: Sequence[int], day: dt.date) -> list[dict[str, object]]:
    return [row for facts in batch for row in patient_rows(facts, years, day)]
