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
from metrics.models import AreaSlotState, IndicatorStateBuild, PatientYearState
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
    unpack_totals,
)
from metrics.state.tables import BATCH_SIZE, HORIZON, add_totals, insert_rows
from metrics.state.write import ensure_fresh, refresh_stale, stale_extent


@dataclass
class RebuildStats:
    patients: int = 0
    rows: int = 0
    seconds: float = 0.0
    # seconds: clearing, rows, totals (one connection); rows, totals, swap (two)
    phases: dict[str, float] = field(default_factory=dict)

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
    rebuild (*years* None) on one connection empties the tables with TRUNCATE and loads the rows without the
    secondary indexes and foreign key (re-created at the end): it holds both tables' ACCESS EXCLUSIVE lock, so
    reports wait for it instead of reading the old state; a rebuild of some *years* (the nightly refresh) deletes
    and inserts.

    A full set-based rebuild outside any transaction (*parallel* None: whenever that holds; False: never) computes
    the rows of the upper half of the patients concurrently on a second connection (see ``_other_half``), both
    halves into a new state table beside the old one, and the totals into a new totals table; given their indexes
    and keys there, both are put in place of the old ones in a short transaction (``_Replacement``), so that
    reports wait only while the names change. Inside a transaction the second connection could not see its
    uncommitted records, so the rebuild keeps to one connection there, and to the old tables.
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
        if own.other is not None:
            own.replace(stats)
        else:
            _rebuild_in_place(
                span,
                stats,
                years=years,
                first_year=first_year,
                batch_size=batch_size,
                day=day,
                workers=workers,
                progress=progress,
                set_based=set_based,
            )
    stats.seconds = time.monotonic() - started
    return stats


def _rebuild_in_place(
    span: Sequence[int],
    stats: RebuildStats,
    *,
    years: Sequence[int] | None,
    first_year: int,
    batch_size: int,
    day: dt.date,
    workers: int,
    progress: Callable[[str], None] | None,
    set_based: bool,
) -> None:
    """The rebuild on one connection, in one transaction: the old state cleared, the new one written in its place."""
    started = time.monotonic()
    with transaction.atomic():
        whole = set_based and years is None
        _clear(years, whole)
        stats.phases["clearing"] = time.monotonic() - started
        if set_based:
            with _bulk_loading(PatientYearState) if whole else contextlib.nullcontext():
                stats.rows = insert_state(span, day)
            stats.patients = _patients()
        else:
            with _computer(workers) as compute:
                for ids, rows in compute(_batches_of_facts(batch_size, day), span, day):
                    insert_rows(rows)
                    stats.patients += len(ids)
                    stats.rows += len(rows)
                    if progress:
                        rate = stats.patients / (time.monotonic() - started)
                        progress(f"{stats.patients} patients, {stats.rows} rows, {rate:.0f}/s")
        stats.phases["rows"] = time.monotonic() - started - stats.phases["clearing"]
        if set_based:
            insert_totals(span)
        else:
            add_totals(+1, None, first_year, years)
        stats.phases["totals"] = time.monotonic() - started - stats.phases["clearing"] - stats.phases["rows"]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Fresh statistics: the planner keeps to the indexes.
                for model in (PatientYearState, AreaSlotState):
                    cursor.execute(f"ANALYZE {_table(model)}")
        if years is None:
            IndicatorStateBuild.objects.create(patients=stats.patients)


@contextlib.contextmanager
def _staging(wanted: bool) -> Iterator[str | None]:
    """The new state table both connections write (named by the returned name; None when not *wanted*), the new
    totals table and the unlogged table of their packed sums, created before and dropped after the rebuild (those
    not put in place of the old ones): outside its transaction, so that either connection may write them, and
    readers never see them until they replace the old tables."""
    if not wanted:
        yield None
        return
    with connection.cursor() as cursor:
        _drop_orphaned_stages(cursor)
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
        name = f"{STAGE_PREFIX}{pid}_{uuid.uuid4().hex}"
        for replacement in _replacements(name):
            replacement.create(cursor)
        for statement in packed_table_definition(_packed(name)):
            cursor.execute(statement)
    try:
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {name}, {_packed(name)}, {_totals(name)}")


# A staging table's name: this prefix, the PostgreSQL process of the rebuild's connection, a random part.
STAGE_PREFIX = "jf_stage_"
_STAGE_NAME = re.compile(rf"\A{STAGE_PREFIX}(\d+)_[0-9a-f]{{32}}")


def _drop_orphaned_stages(cursor: CursorWrapper) -> None:
    """Drop the staging tables of rebuilds whose connection is gone (a killed rebuild cannot drop its own):
    they would otherwise hold their disk until someone drops them by hand."""
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
    """The table of the packed sums of the new state rows."""
    return f"{stage}_packed"


def _totals(stage: str) -> str:
    """The new totals table, filled a year at a time as their sums are made."""
    return f"{stage}_totals"


def _replacements(stage: str) -> tuple[_Replacement, _Replacement]:
    """The new state table and the new totals table of the rebuild staged as *stage*."""
    return _Replacement(PatientYearState, stage), _Replacement(AreaSlotState, _totals(stage))


@dataclass
class _Replacement:
    """A new table for *model*'s, loaded beside it outside the rebuild's transaction, then given the old table's
    indexes and keys under names of its own (``complete``), and put in its place inside the transaction
    (``put_in_place``): the rows are written once, indexed while the other connection sums them, and reports wait
    only while the names change, not while the rows are copied and indexed (at 500,000 patients the copy, its
    indexes and its key held the state locked for 8 s)."""

    model: type[models.Model]
    name: str
    renames: list[str] = field(default_factory=list)  # what gives the new indexes, keys and sequences the old names

    def create(self, cursor: CursorWrapper) -> None:
        """The empty table: the old one's columns, defaults, identity, checks and storage, without its indexes."""
        cursor.execute(f"CREATE TABLE {self.name} (LIKE {_table(self.model)} INCLUDING ALL EXCLUDING INDEXES)")

    def complete(self) -> None:
        """The old table's indexes, primary, unique and foreign keys (checked against the rows) and its identity's
        sequence, under names of the new table's own until ``put_in_place``; and fresh statistics."""
        old, db_table = _table(self.model), self.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")  # each index sorted in memory
            for n, (name, definition) in enumerate(_indexes(cursor, db_table)):
                own = f"{self.name}_i{n}"
                cursor.execute(_index_on(definition, own, self.name))
                self.renames.append(f"ALTER INDEX {own} RENAME TO {connection.ops.quote_name(name)}")
            for n, (name, definition) in enumerate(_constraints(cursor, db_table, "puxf")):
                own = f"{self.name}_k{n}"
                cursor.execute(f"ALTER TABLE {self.name} ADD CONSTRAINT {own} {definition}")
                self.renames.append(f"ALTER TABLE {old} RENAME CONSTRAINT {own} TO {connection.ops.quote_name(name)}")
            old_sequences, own_sequences = (_sequences(cursor, table) for table in (db_table, self.name))
            for column, name in old_sequences.items():
                own, old_name = (connection.ops.quote_name(n) for n in (own_sequences[column], name))
                self.renames.append(f"ALTER SEQUENCE {own} RENAME TO {old_name}")
            cursor.execute(f"ANALYZE {self.name}")  # statistics belong to the table and keep through its renaming

    def put_in_place(self) -> None:
        """Inside the rebuild's transaction, once it holds the old tables' lock: drop the old table; the new one
        takes its name and its indexes', keys' and sequences'."""
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {_table(self.model)}")
            cursor.execute(f"ALTER TABLE {self.name} RENAME TO {_table(self.model)}")
            for statement in self.renames:
                cursor.execute(statement)


def _indexes(cursor: CursorWrapper, table: str) -> list[tuple[str, str]]:
    """The indexes of *table* that no constraint owns: name and definition (``CREATE INDEX``)."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = current_schema() AND tablename = %s"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid ="
        " (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass) ORDER BY indexname",
        [table],
    )
    return [(str(name), str(definition)) for name, definition in cursor.fetchall()]


def _constraints(cursor: CursorWrapper, table: str, kinds: str) -> list[tuple[str, str]]:
    """The constraints of *table* of the *kinds* (``pg_constraint.contype`` letters): name and definition, the
    foreign keys last (the keys' own indexes first)."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass"
        " AND contype::text = ANY(%s) ORDER BY contype = 'f', conname",
        [table, list(kinds)],
    )
    return [(str(name), str(definition)) for name, definition in cursor.fetchall()]


def _sequences(cursor: CursorWrapper, table: str) -> dict[str, str]:
    """The sequences of the columns of *table* (identity or serial), by column."""
    cursor.execute(
        "SELECT a.attname, s.relname FROM pg_depend d"
        " JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'"
        " JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
        " WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass"
        " AND d.refobjid = %s::regclass AND d.deptype IN ('a', 'i')",
        [table],
    )
    return dict(cursor.fetchall())


_INDEX_DEFINITION = re.compile(r"\A(CREATE (?:UNIQUE )?INDEX) \S+ ON (?:ONLY )?\S+ (USING .*)\Z", re.DOTALL)


def _index_on(definition: str, name: str, table: str) -> str:
    """The index of *definition* (``pg_indexes.indexdef``) as index *name* of table *table*."""
    match = _INDEX_DEFINITION.match(definition)
    if match is None:
        raise ValueError(f"unexpected index definition: {definition}")
    return f"{match.group(1)} {name} ON {table} {match.group(2)}"


@dataclass
class _OwnHalf:
    """The rows this connection writes while *other* computes the rest on a second connection: those of *ids*, into
    the new state table of *stage* (``replace``); without *other*, the rebuild keeps to one connection
    (``_rebuild_in_place``)."""

    span: Sequence[int]
    day: dt.date
    ids: tuple[int, int] | None = None
    other: Future[int] | None = None
    stage: str | None = None
    pool: ThreadPoolExecutor | None = None

    written: int = 0
    packing: Packing | None = None
    unpacked: list[int] = field(default_factory=list)  # years whose packed sums no connection has begun, latest last
    lock: threading.Lock = field(default_factory=threading.Lock)

    def replace(self, stats: RebuildStats) -> None:
        """On two connections: this half's rows into the new state table, then, once the other half is in, the new
        table's indexes and keys here while the other connection sums the rows' totals into the new totals table a
        year at a time, and this one joins it; the totals' key; then, in a short transaction, both new tables in
        place of the old ones. Before any lock on the old tables: readers keep the old state until the end."""
        assert self.other is not None and self.stage is not None and self.pool is not None  # noqa: S101
        started = time.monotonic()
        rows, totals = _replacements(self.stage)
        with transaction.atomic():
            self.written = insert_state(self.span, self.day, id_range=self.ids, into=self.stage)
        self.written += self.other.result()
        stats.phases["rows"] = time.monotonic() - started
        self.packing = Packing.for_count(largest_township_year(self.span, [self.stage]))
        self.unpacked = sorted(self.span)
        packed = self.pool.submit(_on_own_connection, self.pack)
        with transaction.atomic():
            rows.complete()  # a transaction of its own: its foreign key's lock on the patients ends with it
        with transaction.atomic():
            self.pack()  # the years the other connection has not begun
        packed.result()
        with transaction.atomic():
            totals.complete()
        stats.phases["totals"] = time.monotonic() - started - stats.phases["rows"]
        stats.rows, stats.patients = self.written, _patients()
        with transaction.atomic():
            with connection.cursor() as cursor:  # both at once, in the order readers take them
                cursor.execute(
                    f"LOCK TABLE {_table(PatientYearState)}, {_table(AreaSlotState)} IN ACCESS EXCLUSIVE MODE"
                )
            rows.put_in_place()
            totals.put_in_place()
            IndicatorStateBuild.objects.create(patients=stats.patients)
        stats.phases["swap"] = time.monotonic() - started - stats.phases["rows"] - stats.phases["totals"]

    def pack(self) -> None:
        """The totals of the new state rows of the years no connection has begun (packed sums, then unpacked into
        the new totals table), on this thread's connection: the second connection starts on them while the first
        indexes the rows, and the first takes what is left after that. A year at a time, latest (largest) first,
        so that both connections end together (by halves, at 500,000 patients the first connection waited 5.8 s
        for the second's sums and the totals took 9.6 s of the rebuild's 64; unpacked at the end, 4.1 s of 57.5)."""
        assert self.packing is not None and self.stage is not None  # noqa: S101  (set by replace)
        while True:
            with self.lock:
                if not self.unpacked:
                    return
                year = self.unpacked.pop()
            packed_totals([year], self.packing, source=self.stage, into=_packed(self.stage))
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
        indexes = _indexes(cursor, model._meta.db_table)
        keys = _constraints(cursor, model._meta.db_table, "f")
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
