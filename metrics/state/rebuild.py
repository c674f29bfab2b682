"""The full rebuild of the state from the records in one transaction: set-based on PostgreSQL
(``metrics.state.setbased``), elsewhere batch by batch in Python, optionally computing the rows in worker
processes; and the nightly refresh of what the calendar made stale.

May import ``metrics.indicators``, ``metrics.models``, ``registry`` and the state modules ``calendar``,
``compute``, ``setbased``, ``tables`` and ``write``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult
from typing import TypeVar

from django.db import connection, models, transaction
from django.db.backends.utils import CursorWrapper

from metrics.indicators.definitions import SEVERE_DISORDERS, PatientFacts
from metrics.indicators.facts import facts_of_patients
from metrics.models import ROW_COLUMNS, AreaSlotState, IndicatorStateBuild, PatientYearState
from metrics.state.calendar import today
from metrics.state.compute import rows_for_facts
from metrics.state.read import code_range
from metrics.state.setbased import (
    Packing,
    insert_state,
    insert_totals,
    largest_township_year,
    packed_table_definition,
    packed_totals,
    totals_columns,
    unpack_totals,
)
from metrics.state.tables import BATCH_SIZE, HORIZON, add_totals, insert_rows
from metrics.state.write import ensure_fresh, refresh_stale, stale_extent


@dataclass
class RebuildStats:
    patients: int = 0
    rows: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds: clearing, rows, totals

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
    set_based: bool | None = None,
    parallel: bool | None = None,
) -> RebuildStats:
    """Rebuild the state from scratch (all years, or only *years*), patient batch by batch, in one transaction.

    Memory stays bounded by a few batches: facts are read per batch (``metrics.indicators.facts``), and with
    ``workers`` > 1 the pure computation of the rows runs in that many processes while this one reads the
    next batch and writes the previous one; at most ``workers`` + 1 batches are in flight.

    On PostgreSQL the rows are computed by set-based SQL instead (``metrics.state.setbased``, issue 17 §1);
    ``set_based=False`` keeps the patient-by-patient path there too (the bench compares both). A full set-based
    rebuild (*years* None) empties the tables with TRUNCATE and loads the rows without the secondary indexes and
    foreign key (re-created at the end): it holds both tables' ACCESS EXCLUSIVE lock, so reports wait for it
    instead of reading the old state; a rebuild of some *years* (the nightly refresh) deletes and inserts.

    A full set-based rebuild outside any transaction (*parallel* None: whenever that holds; False: never) computes
    the rows of the upper half of the patients concurrently on a second connection, into an unlogged staging
    table that this transaction copies in (see ``_other_half``); inside a transaction the second connection could
    not see its uncommitted records, so the rebuild keeps to one connection there.
    """
    day = day or today()
    stats = RebuildStats()
    started = time.monotonic()
    if set_based is None:
        set_based = connection.vendor == "postgresql"
    possible = set_based and years is None and connection.vendor == "postgresql" and not connection.in_atomic_block
    if parallel and not possible:
        raise ValueError("a parallel rebuild is a full set-based rebuild on PostgreSQL outside a transaction")
    first_year = min(years) if years else _first_year(day)
    span = [y for y in range(first_year, day.year + 1) if years is None or y in years]
    two = possible if parallel is None else parallel
    with _staging(two) as stage, _other_half(stage, span, day) as own:
        # Two connections: both halves computed, each committed to a staging table, before the rebuild's
        # transaction locks anything.
        own.compute()
        with transaction.atomic():
            whole = set_based and years is None
            cleared = time.monotonic()
            _clear(years, whole)
            stats.phases["clearing"] = time.monotonic() - cleared
            if set_based:
                with _bulk_loading(PatientYearState) if whole else contextlib.nullcontext():
                    stats.rows = own.insert_rows()
                stats.patients = _patients()
            else:
                with _computer(workers) as compute:
                    for ids, rows in compute(_batches_of_facts(batch_size, day), span, day):
                        insert_rows(rows)
                        stats.patients += len(ids)
                        stats.rows += len(rows)
                        stats.seconds = time.monotonic() - started
                        if progress:
                            progress(f"{stats.patients} patients, {stats.rows} rows, {stats.patients_per_second:.0f}/s")
            stats.phases["rows"] = time.monotonic() - started - stats.phases["clearing"]
            if set_based:
                own.insert_totals()
            else:
                add_totals(+1, None, first_year, years)
            stats.phases["totals"] = time.monotonic() - started - stats.phases["clearing"] - stats.phases["rows"]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # Fresh statistics: the planner keeps to the indexes.
                    for model in (PatientYearState, AreaSlotState):
                        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
            if years is None:
                IndicatorStateBuild.objects.create(patients=stats.patients)
    stats.seconds = time.monotonic() - started
    return stats


def _row_columns() -> str:
    return ", ".join(connection.ops.quote_name(c) for c in ROW_COLUMNS)


@contextlib.contextmanager
def _staging(wanted: bool) -> Iterator[str | None]:
    """Unlogged staging tables for each connection's rows, and for the packed sums and the totals of both (named
    after the first; None when not *wanted*), created before and dropped after the rebuild's transaction: outside
    it, so that the other connection may write them while this one holds the state tables' lock, and readers never
    see them."""
    if not wanted:
        yield None
        return
    state = connection.ops.quote_name(PatientYearState._meta.db_table)
    with connection.cursor() as cursor:
        _drop_orphaned_stages(cursor)
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
        name = f"{STAGE_PREFIX}{pid}_{uuid.uuid4().hex}"
        for rows in (name, _own(name)):
            cursor.execute(f"CREATE UNLOGGED TABLE {rows} AS SELECT {_row_columns()} FROM {state} WITH NO DATA")  # noqa: S608
        for statement in packed_table_definition(_packed(name)):
            cursor.execute(statement)
        totals = _table(AreaSlotState)
        cursor.execute(f"CREATE UNLOGGED TABLE {_totals(name)} AS SELECT {totals_columns()} FROM {totals} WITH NO DATA")  # noqa: S608
    try:
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {name}, {_packed(name)}, {_totals(name)}, {_own(name)}")


# A staging table's name: this prefix, the PostgreSQL process of the rebuild's connection, a random part.
STAGE_PREFIX = "jf_stage_"
_STAGE_NAME = re.compile(rf"\A{STAGE_PREFIX}(\d+)_[0-9a-f]{{32}}")


def _drop_orphaned_stages(cursor: CursorWrapper) -> None:
    """Drop the staging tables of rebuilds whose connection is gone (a killed rebuild cannot drop its own):
    unlogged, they would otherwise hold their disk until someone drops them by hand."""
    cursor.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace"
        " AND c.relname LIKE %s",
        [STAGE_PREFIX.replace("_", "\\_") + "%"],
    )
    names = [name for (name,) in cursor.fetchall()]
    cursor.execute("SELECT pid FROM pg_stat_activity")
    alive = {pid for (pid,) in cursor.fetchall()}
    for name in names:
        match = _STAGE_NAME.match(name)
        if match and int(match.group(1)) not in alive:
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(name)}")


def _packed(stage: str) -> str:
    """The table of the packed sums of both connections' rows."""
    return f"{stage}_packed"


def _totals(stage: str) -> str:
    """The table of the totals of both connections' rows, unpacked a year at a time as their sums are made."""
    return f"{stage}_totals"


def _own(stage: str) -> str:
    """The staging table of the rows the rebuild's own connection computes."""
    return f"{stage}_own"


@dataclass
class _OwnHalf:
    """The rows this connection writes: every patient's, or those of *ids* while *other* computes the rest; then
    the totals, whose packed sums the second connection begins while this one copies the rows in and re-creates
    the indexes (``pack``)."""

    span: Sequence[int]
    day: dt.date
    ids: tuple[int, int] | None = None
    other: Future[int] | None = None
    stage: str | None = None
    pool: ThreadPoolExecutor | None = None

    written: int = 0
    packing: Packing | None = None
    packed: Future[None] | None = None
    unpacked: list[int] = field(default_factory=list)  # years whose packed sums no connection has begun, latest last
    lock: threading.Lock = field(default_factory=threading.Lock)

    def compute(self) -> None:
        """With two connections: this half's rows into its staging table (committed, so that the other connection
        may sum them), then wait for the other half, and let the other connection go on to the halves' packed
        sums. Before the rebuild clears the state: dropping its foreign key would lock the patient table against
        the other connection until the rebuild commits."""
        if self.other is None or self.stage is None or self.pool is None:
            return
        with transaction.atomic():
            self.written = insert_state(self.span, self.day, id_range=self.ids, into=_own(self.stage))
        self.written += self.other.result()
        self.packing = Packing.for_count(largest_township_year(self.span, [_own(self.stage), self.stage]))
        self.unpacked = sorted(self.span)
        self.packed = self.pool.submit(_on_own_connection, self.pack)

    def insert_rows(self) -> int:
        if self.other is None or self.stage is None:
            return insert_state(self.span, self.day)
        columns, state = _row_columns(), _table(PatientYearState)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {state} ({columns}) SELECT {columns} FROM {_own(self.stage)}"  # noqa: S608
                f" UNION ALL SELECT {columns} FROM {self.stage}"
            )
        return self.written

    def insert_totals(self) -> None:
        if self.packed is None or self.stage is None or self.packing is None:
            insert_totals(self.span)
            return
        self.pack()  # the years the other connection has not begun
        self.packed.result()
        columns = totals_columns()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {_table(AreaSlotState)} ({columns}) SELECT {columns} FROM {_totals(self.stage)}"  # noqa: S608
                " ORDER BY year, slot, township"
            )

    def pack(self) -> None:
        """The totals of both halves' rows of the years no connection has begun (packed sums, then unpacked into
        the staging table of totals), on this thread's connection: the second connection starts on them while the
        first copies the rows in and re-creates the indexes, and the first takes what is left after that. A year at
        a time, latest (largest) first, so that both connections end together; both halves at once, so that a
        township-year's sums are whole (by halves, at 500,000 patients the first connection waited 5.8 s for the
        second's sums and the totals took 9.6 s of the rebuild's 64; unpacked at the end, 4.1 s of 57.5)."""
        assert self.packing is not None and self.stage is not None  # noqa: S101  (set by compute)
        both = f"(SELECT * FROM {_own(self.stage)} UNION ALL SELECT * FROM {self.stage}) halves"  # noqa: S608
        while True:
            with self.lock:
                if not self.unpacked:
                    return
                year = self.unpacked.pop()
            packed_totals([year], self.packing, source=both, into=_packed(self.stage))
            unpack_totals(self.packing, _packed(self.stage), _totals(self.stage), year)


@contextlib.contextmanager
def _other_half(stage: str | None, span: Sequence[int], day: dt.date) -> Iterator[_OwnHalf]:
    """With a *stage*, start computing the rows of the upper half of the patients (by id) on a second connection.
    Leaving waits for it."""
    if stage is None:
        yield _OwnHalf(span, day)
        return
    from registry.models import Patient

    with connection.cursor() as cursor:  # the median id: two halves of the patients
        cursor.execute(
            f"SELECT min(id), percentile_disc(0.5) WITHIN GROUP (ORDER BY id), max(id) FROM {_table(Patient)}"  # noqa: S608
            " WHERE disorder = ANY(%s)",
            [sorted(SEVERE_DISORDERS)],
        )
        low, split, high = cursor.fetchone()
    if low is None or split == high:
        yield _OwnHalf(span, day)
        return
    with ThreadPoolExecutor(1, thread_name_prefix="state-rebuild") as pool:
        other = pool.submit(_on_own_connection, insert_state, span, day, id_range=(split + 1, high), into=stage)
        yield _OwnHalf(span, day, (low, split), other, stage, pool)


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


T = TypeVar("T")


def _on_own_connection(work: Callable[..., T], *args: object, **kwargs: object) -> T:
    """*work* in a transaction of this worker thread's own connection, closed afterwards (committed: what it
    writes goes to the staging tables, scratch dropped by the rebuild whatever the outcome)."""
    assert threading.current_thread() is not threading.main_thread()  # noqa: S101  (a connection of its own)
    try:
        with transaction.atomic():
            return work(*args, **kwargs)
    finally:
        connection.close()


def _clear(years: Sequence[int] | None, whole: bool) -> None:
    """Delete the state rows and totals of *years* (None: all); *whole*: empty both tables with TRUNCATE."""
    if whole:
        _truncate(PatientYearState, AreaSlotState)
        return
    for model in (PatientYearState, AreaSlotState):
        existing = model.objects.all()
        (existing.filter(year__in=list(years)) if years is not None else existing).delete()


def _truncate(*models: type[models.Model]) -> None:
    """Empty the tables at once (a full rebuild; not MVCC-safe: readers wait for the rebuild's end instead)."""
    connection.check_constraints()  # TRUNCATE and ALTER TABLE refuse a table with deferred checks pending
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables}")


@contextlib.contextmanager
def _bulk_loading(model: type[models.Model]) -> Iterator[None]:
    """Load an emptied table without its secondary indexes and foreign keys, then re-create them from their own
    definitions: one sort per index and one anti-join per key instead of upkeep and a deferred check per row."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = current_schema() AND tablename = %s"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid ="
            " (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)",
            [model._meta.db_table],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass"
            " AND contype = 'f'",
            [model._meta.db_table],
        )
        keys = cursor.fetchall()
        for name, _definition in keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")  # each index sorted in memory
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")


BULK_REFRESH = 2000  # stale patients above which the nightly refresh recomputes their years set-based


def refresh_calendar(day: dt.date | None = None, *, bulk_above: int = BULK_REFRESH) -> int:
    """The nightly refresh of the rows the calendar made stale; returns the patients that were stale.

    On the first of a month every patient's current-year rows are stale together (issue 17 §2): patient by patient
    that is the whole registry in Python, so above *bulk_above* stale patients PostgreSQL recomputes the stale years
    for everyone with the set-based rebuild (the same rows, far faster); a few stale patients are refreshed alone.
    """
    day = day or today()
    patients, first_year = stale_extent(day)  # counted, never listed: a country's would take gigabytes
    if connection.vendor != "postgresql" or patients <= bulk_above or first_year is None:
        return refresh_stale(day)
    rebuild(years=list(range(first_year, day.year + 1)), day=day)
    return patients


# An area whose stale patients are at least 1/AREA_SHARE_FOR_ALL of the registry's patients (a province instance's
# province on the first of a month) is refreshed as the nightly refresh does: the stale years rebuilt set-based for
# everyone cost less than the area's patients picked out by id (100,000 patients, 2026-12-07: 17 s for all of them
# against 61 s by id; a city of 30,520: 23 s by id against 20 s for all). The cost of one grows with the registry,
# of the other with the area's stale patients.
AREA_SHARE_FOR_ALL = 3


def refresh_area(prefix: str, day: dt.date | None = None, *, bulk_above: int = BULK_REFRESH) -> int:
    """Recompute the rows under the area code *prefix* that the calendar made stale (an area's background refresh,
    queued by a report that did not wait for them); returns the patients recomputed. Stale patients that are many
    and a large share of the registry are refreshed with all others as the nightly refresh does; otherwise the
    area's own, a bounded page at a time (``metrics.state.write.ensure_fresh``)."""
    day = day or today()
    lo, hi = code_range(prefix)
    patients, _ = stale_extent(day, lo, hi)
    if connection.vendor == "postgresql" and patients > bulk_above and patients * AREA_SHARE_FOR_ALL >= _patients():
        return refresh_calendar(day, bulk_above=bulk_above)
    return ensure_fresh(prefix, day) if patients else 0


def _first_year(day: dt.date) -> int:
    """The first year any patient was registered (2000 is the first year a report may ask for)."""
    from registry.models import Patient

    first = Patient.objects.filter(disorder__in=sorted(SEVERE_DISORDERS)).order_by("registered_on").first()
    return max(2000, min(first.registered_on.year, day.year)) if first else day.year


def _patients() -> int:
    from registry.models import Patient

    return Patient.objects.filter(disorder__in=sorted(SEVERE_DISORDERS)).count()


def _batches_of_facts(batch_size: int, day: dt.date) -> Iterator[list[PatientFacts]]:
    for ids in _patient_batches(batch_size):
        yield facts_of_patients(ids, until=HORIZON)


_Compute = Callable[
    [Iterator[list[PatientFacts]], Sequence[int], dt.date], Iterator[tuple[list[int], list[dict[str, object]]]]
]


def _serial(
    batches: Iterator[list[PatientFacts]], span: Sequence[int], day: dt.date
) -> Iterator[tuple[list[int], list[dict[str, object]]]]:
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
        ) -> Iterator[tuple[list[int], list[dict[str, object]]]]:
            pending: list[tuple[list[int], AsyncResult[list[dict[str, object]]]]] = []
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
