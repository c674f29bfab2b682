"""The per-patient indicator state that makes reports fast and fresh (design.md §7, issue 6).

Why: ``metrics.indicators.definitions`` is the direct definition of domain.md §11 and walks every patient of the area in
Python; at a city or a province that is far too slow. Here each patient's memberships are computed once per
report *slot* and kept in ``metrics_patientyearstate`` (``metrics.models``), and those rows are summed
per village, year and slot into ``metrics_areaslotstate``, so that a report for any area is one grouped SQL
query over at most a few thousand small rows (a province has ~20,000 villages; a county ~300).

Slots. Every report period lies inside one calendar year: the year, four quarters, twelve months and the
year-to-date periods. YTD-1 is month 1, YTD-3 is Q1 and YTD-12 the year, so a year has 26 distinct slots
(``SLOTS``); slot s of a year is bit s of every mask column.

Rows. One row per (patient, year, holder village, death cause): the bit of slot s is set on the row of the
village holding the record at the slot's cut-off, so a transfer in mid-year gives a second row and every
ancestor area is a range of 12-digit codes (``area_code BETWEEN prefix000… AND prefix999…``, indexed with
the year). Both readings of the deaths-in-period option get their own masks (``_x`` excluded, ``_i``
included), and so do both regular-management rules (``regular`` quarterly, ``regular3m`` interval-3m); the
medication denominator is only a choice of counts at query time. Emergency handlings are a count, not a set:
rows with ``layer`` k ≥ 1 carry the slots with more than k of them.

Totals. Summing bitmasks over a province's 500,000 patient rows costs about a second; summing per-village
totals costs milliseconds. The totals are kept *by delta*: a refresh takes away the old rows' contribution
(one INSERT … SELECT … ON CONFLICT DO UPDATE over the patients' rows × 26 slots), replaces the rows, and adds
the new contribution — two statements per batch, inside the same transaction. A rebuild recomputes them in
one statement. Concurrent writers in one village serialise on that village's total rows for the rest of
their transaction, which at ~20 patients per village is no contention.

Computing a row: ``metrics.state.slots`` evaluates the same rules for all 26 slots of a patient-year at
once (one sorted history, slices per slot) — ``definitions.membership`` called per slot and option is ~10×
slower. The property test (tests/metrics/test_state_equivalence.py) proves the incremental state, a full
rebuild and the direct definition give the same documents.

"Today". A period that has not ended is computed up to today, and some figures move with the calendar alone
(overdue once the next date passes, stable within 3 months of the last follow-up, a quarter that has become
whole, a new month's slot). Current-year rows are therefore computed as of the day they are written and carry
``valid_until``: the first later day on which any of their bits could change without a new fact (a month or
quarter boundary, a next follow-up date passing, 3 months after a complete follow-up, a fact dated ahead). A
report first recomputes the stale rows under its area (``ensure_fresh``), and the nightly task does it for all
(``refresh_stale``), so a report is never stale and rarely waits.

Freshness. Every writer of facts sends ``registry.signals.patient_facts_changed`` inside its transaction; the
receiver (``on_facts_changed``) recomputes those patients' rows from ``since``'s year on in the same
transaction, so a report read after the commit already shows the change (no nightly lag).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from django.db import connection, transaction

from casemgmt.dates import add_months
from metrics.indicators.definitions import (
    REACHED,
    SCHIZOPHRENIA,
    SEVERE_DISORDERS,
    Options,
    PatientFacts,
    Tally,
)
from metrics.indicators.facts import facts_of_patients
from metrics.indicators.periods import SHANGHAI, Period, Quarter, month_end
from metrics.models import (
    COUNT_COLUMNS,
    DEATH_CAUSE_CODES,
    EVENT_SETS,
    MASK_COLUMNS,
    AreaSlotState,
    IndicatorStateBuild,
    PatientYearState,
)
from metrics.state.slots import PatientYear

YTD_SLOTS = (2, 4, 5, 6, 7, 8, 9, 10, 11)  # YTD-1 = month 1, YTD-3 = Q1, YTD-12 = the year
SLOTS: tuple[tuple[str, int, int], ...] = (
    ("year", 1, 12),
    *(("quarter", 3 * q - 2, 3 * q) for q in range(1, 5)),
    *(("month", m, m) for m in range(1, 13)),
    *(("ytd", 1, m) for m in YTD_SLOTS),
)  # (kind, first month, last month)
BATCH_SIZE = 2000
OPTION_VARIANTS = (("x", "excluded"), ("i", "included"))
# Facts are read whole: anything dated ahead of today (a next follow-up date, a rehabilitation end) feeds
# ``valid_until``, and the memberships ignore what lies after each slot's cut-off anyway.
HORIZON = dt.date(9999, 12, 31)
_upkeep = threading.local()  # .suspended: this thread's bulk load defers the upkeep to a rebuild


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


def is_built() -> bool:
    """A complete build exists (``IndicatorStateBuild``); before the first rebuild reports go direct."""
    return IndicatorStateBuild.objects.exists()


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


# --- computing one patient's rows -------------------------------------------------------------------------


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
    for v, inside in member.registered.items():
        if inside:
            names.append(f"registered_{v}")
            names.extend([f"{name}_{v}" for name, value in member.sets.items() if value])
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


def _emit(rows: dict[RowKey, _Row], base: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for (holder, cause), row in rows.items():
        key = {**base, "area_code": holder, "death_cause": cause}
        yield {**key, "layer": 0, **row.masks, "emergency": _layer_mask(row.emergencies, 1)}
        for layer in range(1, max(row.emergencies)):
            yield {**key, "layer": layer, "emergency": _layer_mask(row.emergencies, layer + 1)}


def patient_rows(facts: PatientFacts, years: Sequence[int], day: dt.date) -> list[dict[str, Any]]:
    """The state rows of one patient for *years*, computed as of *day*, as column dicts."""
    result: list[dict[str, Any]] = []
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


def rows_for_facts(batch: list[PatientFacts], years: Sequence[int], day: dt.date) -> list[dict[str, Any]]:
    return [row for facts in batch for row in patient_rows(facts, years, day)]


# --- writing ---------------------------------------------------------------------------------------------


INSERT_COLUMNS = ("patient_id", "year", "area_code", "disorder", "death_cause", "layer", "valid_until", *MASK_COLUMNS)


def _insert(rows: list[dict[str, Any]]) -> None:
    """COPY on PostgreSQL (the rebuild writes millions of rows); bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        PatientYearState.objects.bulk_create([PatientYearState(**row) for row in rows], batch_size=2000)
        return
    columns = ", ".join(connection.ops.quote_name(c) for c in INSERT_COLUMNS)
    defaults = {c: 0 for c in MASK_COLUMNS}
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {_table()} ({columns}) FROM STDIN") as copy:
        for row in rows:
            values = {**defaults, **row}
            copy.write_row([values[c] for c in INSERT_COLUMNS])


def refresh(patient_ids: Sequence[int], *, since_year: int, day: dt.date | None = None) -> int:
    """Recompute the rows of *patient_ids* for the years from *since_year* on; returns the rows written.

    The patients' rows are locked first (in primary-key order) so two refreshes of one patient queue
    instead of both inserting; the caller's transaction, when there is one, makes it atomic with the write
    that changed the facts.
    """
    day = day or today()
    ids = sorted(set(patient_ids))
    written = 0
    with transaction.atomic():
        if connection.features.has_select_for_update:
            from registry.models import Patient

            list(Patient.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = ids[start : start + BATCH_SIZE]
            _add_totals(-1, chunk, since_year)
            PatientYearState.objects.filter(patient_id__in=chunk, year__gte=since_year).delete()
            rows = rows_for_facts(facts_of_patients(chunk, until=HORIZON), range(since_year, day.year + 1), day)
            _insert(rows)
            _add_totals(+1, chunk, since_year)
            written += len(rows)
    return written


def on_facts_changed(sender: object, *, patient_ids: Sequence[int], since: dt.date, **kwargs: object) -> None:
    """Receiver of ``registry.signals.patient_facts_changed``: keep the state current in the same transaction."""
    if not getattr(_upkeep, "suspended", False):
        refresh(patient_ids, since_year=since.year)


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """Skip incremental upkeep inside the block (a bulk load followed by ``rebuild``); never in the web."""
    previous = getattr(_upkeep, "suspended", False)
    _upkeep.suspended = True
    try:
        yield
    finally:
        _upkeep.suspended = previous


def _stale(day: dt.date, lo: str | None = None, hi: str | None = None) -> dict[int, int]:
    rows = PatientYearState.objects.filter(valid_until__lte=day)
    if lo is not None:
        rows = rows.filter(area_code__gte=lo, area_code__lte=hi)
    first: dict[int, int] = {}
    for patient_id, year in rows.values_list("patient_id", "year").distinct():
        first[patient_id] = min(year, first.get(patient_id, year))
    return first


def _refresh_grouped(stale: dict[int, int], day: dt.date) -> int:
    by_year: dict[int, list[int]] = defaultdict(list)
    for patient_id, year in stale.items():
        by_year[year].append(patient_id)
    for year, ids in by_year.items():
        refresh(ids, since_year=year, day=day)
    return len(stale)


def ensure_fresh(prefix: str, day: dt.date | None = None) -> int:
    """Recompute the rows under *prefix* that the calendar made stale; returns the patients recomputed."""
    day = day or today()
    lo, hi = code_range(prefix)
    return _refresh_grouped(_stale(day, lo, hi), day)


def refresh_stale(day: dt.date | None = None) -> int:
    """Recompute every stale row (the nightly task, so the first report of the day does not wait)."""
    day = day or today()
    return _refresh_grouped(_stale(day), day)


# --- the full rebuild ------------------------------------------------------------------------------------


@dataclass
class RebuildStats:
    patients: int = 0
    rows: int = 0
    seconds: float = 0.0

    @property
    def patients_per_second(self) -> float:
        return self.patients / self.seconds if self.seconds else 0.0


def _patient_batches(batch_size: int) -> Iterator[list[int]]:
    from registry.models import Patient

    candidates = (
        Patient.objects.filter(disorder__in=sorted(SEVERE_DISORDERS)).order_by("pk").values_list("pk", flat=True)
    )
    last = 0
    while True:
        ids = list(candidates.filter(pk__gt=last)[:batch_size])
        if not ids:
            return
        yield ids
        last = ids[-1]


def rebuild(
    *,
    years: Sequence[int] | None = None,
    batch_size: int = BATCH_SIZE,
    day: dt.date | None = None,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
) -> RebuildStats:
    """Rebuild the state from scratch (all years, or only *years*), patient batch by batch, in one transaction.

    Memory stays bounded by a few batches: facts are read per batch (``metrics.indicators.facts``), and with
    ``workers`` > 1 the pure computation of the rows runs in that many processes while this one reads the
    next batch and writes the previous one; at most ``workers`` + 1 batches are in flight.
    """
    day = day or today()
    stats = RebuildStats()
    started = time.monotonic()
    with transaction.atomic():
        existing = PatientYearState.objects.all()
        if years is not None:
            existing = existing.filter(year__in=list(years))
        existing.delete()
        totals = AreaSlotState.objects.all()
        (totals.filter(year__in=list(years)) if years is not None else totals).delete()
        first_year = min(years) if years else 2000
        span = [y for y in range(first_year, day.year + 1) if years is None or y in years]
        with _computer(workers) as compute:
            for ids, rows in compute(_batches_of_facts(batch_size, day), span, day):
                _insert(rows)
                stats.patients += len(ids)
                stats.rows += len(rows)
                stats.seconds = time.monotonic() - started
                if progress:
                    progress(f"{stats.patients} patients, {stats.rows} rows, {stats.patients_per_second:.0f}/s")
        _add_totals(+1, None, first_year, years)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (PatientYearState, AreaSlotState):  # fresh statistics: the planner keeps to the indexes
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        if years is None:
            IndicatorStateBuild.objects.create(patients=stats.patients)
    stats.seconds = time.monotonic() - started
    return stats


def _batches_of_facts(batch_size: int, day: dt.date) -> Iterator[list[PatientFacts]]:
    for ids in _patient_batches(batch_size):
        yield facts_of_patients(ids, until=HORIZON)


_Compute = Callable[
    [Iterator[list[PatientFacts]], Sequence[int], dt.date], Iterator[tuple[list[int], list[dict[str, Any]]]]
]


def _serial(
    batches: Iterator[list[PatientFacts]], span: Sequence[int], day: dt.date
) -> Iterator[tuple[list[int], list[dict[str, Any]]]]:
    for batch in batches:
        yield [int(f.key) for f in batch], rows_for_facts(batch, span, day)


@contextlib.contextmanager
def _computer(workers: int) -> Iterator[_Compute]:
    if workers <= 1:
        yield _serial
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:

        def parallel(
            batches: Iterator[list[PatientFacts]], span: Sequence[int], day: dt.date
        ) -> Iterator[tuple[list[int], list[dict[str, Any]]]]:
            pending: list[tuple[list[int], Any]] = []
            for batch in batches:
                pending.append(
                    ([int(f.key) for f in batch], pool.apply_async(rows_for_facts, (batch, list(span), day)))
                )
                while len(pending) > workers:
                    ids, job = pending.pop(0)
                    yield ids, job.get()
            for ids, job in pending:
                yield ids, job.get()

        yield parallel


# --- reading ---------------------------------------------------------------------------------------------


def code_range(prefix: str) -> tuple[str, str]:
    """Every 12-digit code starting with *prefix* lies in [lo, hi] (digits only, so any collation agrees)."""
    pad = 12 - len(prefix)
    return prefix + "0" * pad, prefix + "9" * pad


COUNT_COLUMNS_BY_NAME = {
    # Tally name: AreaSlotState column ({v} = the deaths-in-period reading)
    "registered": "registered_{v}",
    "managed": "managed_{v}",
    "at_home": "at_home_{v}",
    "medication": "medication_{v}",
    "regular_medication": "regular_medication_{v}",
    "face_to_face": "face_to_face_{v}",
    "stable": "stable_{v}",
    "rehabilitation": "rehabilitation_{v}",
    "lost": "lost_{v}",
    "family_support": "family_support_{v}",
    "health_check": "health_check_{v}",
    "overdue": "overdue_{v}",
    "open_case": "open_case_{v}",
    "schizophrenia": "schizophrenia_{v}",
    "schizophrenia_medication": "schizophrenia_medication_{v}",
    "schizophrenia_managed": "schizophrenia_managed_{v}",
    "new_registration": "new_registration",
    "minor_trouble": "minor_trouble",
    "trouble": "trouble",
    "disaster": "disaster",
    "emergencies": "emergency",
}


def _bit(column: str, slot: int | None) -> str:
    """Bit *slot* of a mask column (None: the ``slots.slot`` of the totals query)."""
    assert column in MASK_COLUMNS and (slot is None or 0 <= slot < len(SLOTS))  # noqa: S101  (module names only)
    return f'(("{column}" >> {"slots.slot" if slot is None else slot}) & 1)'


def _table() -> str:
    return connection.ops.quote_name(PatientYearState._meta.db_table)


# The SQL below is assembled from this module's column names and integer slots only; values are parameters.
def _total_expression(column: str) -> str:
    """How a column of ``AreaSlotState`` sums up the state rows of one slot (``slots.slot``)."""
    if column.startswith("died_"):
        cause = int(column.rsplit("_", 1)[1])
        return f"CASE WHEN COALESCE(death_cause, 0) = {cause} THEN {_bit('died', None)} ELSE 0 END"
    if column.startswith("schizophrenia"):
        kind, v = column[len("schizophrenia") :].rsplit("_", 1)
        base = {"": "registered", "_medication": "medication", "_managed": "managed"}[kind]
        return f"CASE WHEN disorder = {SCHIZOPHRENIA} THEN {_bit(f'{base}_{v}', None)} ELSE 0 END"
    return _bit(column, None)


def _add_totals(
    sign: int, patient_ids: Sequence[int] | None, since_year: int, years: Sequence[int] | None = None
) -> None:
    """Add (+1) or take away (-1) the contribution of state rows to the per-village totals: those of
    *patient_ids* from *since_year* on, or (None) every row of *years* (all from *since_year* when None)."""
    table = connection.ops.quote_name(AreaSlotState._meta.db_table)
    columns = [connection.ops.quote_name(c) for c in COUNT_COLUMNS]
    sums = ", ".join(f"{int(sign)} * SUM({_total_expression(c)})" for c in COUNT_COLUMNS)
    updates = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in columns)
    slots = ", ".join(f"({slot})" for slot in range(len(SLOTS)))
    where, params = "year >= %s", [since_year]
    if patient_ids is not None:
        where += f" AND patient_id IN ({', '.join(['%s'] * len(patient_ids))})"
        params += list(patient_ids)
    if years is not None:
        where += f" AND year IN ({', '.join(['%s'] * len(years))})"
        params += list(years)
    sql = (
        f"WITH slots(slot) AS (VALUES {slots}) "  # noqa: S608
        f"INSERT INTO {table} (year, area_code, slot, {', '.join(columns)}) "
        f"SELECT year, area_code, slots.slot, {sums} FROM {_table()} CROSS JOIN slots WHERE {where} "
        f"GROUP BY year, area_code, slots.slot "
        # Upserted in key order: concurrent writers (two saves in one village, parallel loaders) then take the
        # row locks in the same order and cannot deadlock on each other.
        f"ORDER BY year, area_code, slots.slot "
        f"ON CONFLICT (year, area_code, slot) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _count_columns(options: Options) -> dict[str, str]:
    """Tally name → ``AreaSlotState`` column under *options*."""
    v = "i" if options.deaths_in_period == "included" else "x"
    columns = {name: column.format(v=v) for name, column in COUNT_COLUMNS_BY_NAME.items()}
    columns["regular"] = f"regular3m_{v}" if options.regular_management == "interval-3m" else f"regular_{v}"
    return columns


def tallies(
    prefix: str, year: int, slots: Sequence[int], options: Options, *, child_length: int | None = None
) -> dict[str, dict[int, Tally]]:
    """Tallies under *prefix* for each slot of *year*: {group: {slot: Tally}}; the group is "" for the whole
    area, or the child prefix (the first *child_length* digits of the holder's code) when one is given."""
    lo, hi = code_range(prefix)
    group = f"SUBSTR(area_code, 1, {int(child_length)})" if child_length else "''"
    columns = _count_columns(options)
    died = [f"died_{cause}" for cause in DEATH_CAUSE_CODES]
    sums = ", ".join(f"SUM({connection.ops.quote_name(c)})" for c in [*columns.values(), *died])
    table = connection.ops.quote_name(AreaSlotState._meta.db_table)
    marks = ", ".join(["%s"] * len(slots))
    result: dict[str, dict[int, Tally]] = defaultdict(lambda: {slot: Tally() for slot in slots})
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {group}, slot, {sums} FROM {table} "  # noqa: S608
            f"WHERE year = %s AND slot IN ({marks}) AND area_code >= %s AND area_code <= %s GROUP BY 1, 2",
            [year, *slots, lo, hi],
        )
        for key, slot, *values in cursor.fetchall():
            tally = result[key][slot]
            for name, value in zip(columns, values, strict=False):
                if value:
                    tally.counts[name] += int(value)
            for cause, value in zip(DEATH_CAUSE_CODES, values[len(columns) :], strict=True):
                if value:
                    tally.deaths_by_cause[cause] += int(value)
    return dict(result)


def counts_of_rows(rows: Sequence[PatientYearState]) -> Counter[tuple[object, ...]]:
    """A comparable picture of state rows (tests: a rebuild after the incremental path changes nothing)."""
    return Counter(
        (
            r.patient_id,
            r.year,
            r.area_code,
            r.death_cause,
            r.layer,
            r.valid_until,
            *(getattr(r, c) for c in MASK_COLUMNS),
        )
        for r in rows
    )


__all__ = [
    "EVENT_SETS",
    "SLOTS",
    "RebuildStats",
    "answers",
    "ensure_fresh",
    "on_facts_changed",
    "rebuild",
    "refresh",
    "refresh_stale",
    "slot_of",
    "suspended",
    "tallies",
]


def counts_of_totals() -> set[tuple[object, ...]]:
    """The non-zero per-village totals (tests: kept incrementally, they equal a rebuild's)."""
    rows = AreaSlotState.objects.values_list("year", "area_code", "slot", *COUNT_COLUMNS)
    return {row for row in rows if any(row[3:])}
