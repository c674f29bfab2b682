"""Keeping the state current: the incremental refresh of some patients' rows, the receiver of
``registry.signals.patient_facts_changed``, the switch that defers it during a bulk load, and the refresh of
rows the calendar made stale (before a report, and nightly).

May import ``metrics.indicators``, ``metrics.models``, ``registry`` and the state modules ``calendar``,
``compute``, ``tables``, ``read`` and ``setbased``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models import Count, Min, QuerySet

from casemgmt.readdb import reading_from
from metrics.indicators.facts import facts_of_patients
from metrics.models import PatientYearState
from metrics.state.calendar import today
from metrics.state.compute import rows_for_facts
from metrics.state.read import code_range
from metrics.state.setbased import insert_state
from metrics.state.tables import BATCH_SIZE, HORIZON, add_totals, insert_rows

ID_BATCH = 10_000  # patients per list of query parameters (PostgreSQL takes at most 65,535)

_upkeep = threading.local()  # .suspended: this thread's bulk load defers the upkeep to a rebuild


# Patients above which PostgreSQL recomputes them with the set-based SQL (``setbased``): it reads whole tables, so
# it only wins for many patients (3,198 patients' current year: 2.1 s set-based, 1.6 s in Python).
SET_BASED_ABOVE = 10_000


def refresh(
    patient_ids: Sequence[int],
    *,
    since_year: int,
    day: dt.date | None = None,
    set_based_above: int | None = None,
) -> int:
    """Recompute the rows of *patient_ids* for the years from *since_year* on; returns the rows written.

    The patients' rows are locked first (in primary-key order) so two refreshes of one patient queue
    instead of both inserting; the caller's transaction, when there is one, makes it atomic with the write
    that changed the facts. Very many patients at once (a city's or a province's rows made stale by a new
    month, a workbook import) are recomputed on PostgreSQL by the set-based SQL, more than *set_based_above*
    (default ``SET_BASED_ABOVE``), fewer (a follow-up save, a batch) in Python.
    """
    day = day or today()
    set_based_above = SET_BASED_ABOVE if set_based_above is None else set_based_above
    ids = sorted(set(patient_ids))
    written = 0
    # The facts written from are the primary's, even when a report reading from a replica got here.
    with reading_from(DEFAULT_DB_ALIAS), transaction.atomic():
        if connection.features.has_select_for_update:
            from registry.models import Patient

            for start in range(0, len(ids), ID_BATCH):  # in key order, batch after batch
                locked = Patient.objects.select_for_update().filter(pk__in=ids[start : start + ID_BATCH])
                list(locked.order_by("pk").values_list("pk"))
        set_based = connection.vendor == "postgresql" and len(ids) > set_based_above
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = ids[start : start + BATCH_SIZE]
            stored = PatientYearState.objects.filter(patient_id__in=chunk, year__gte=since_year)
            if stored.exists():  # none for patients a bulk load has just registered
                add_totals(-1, chunk, since_year)
                stored.delete()
            if not set_based:
                rows = rows_for_facts(facts_of_patients(chunk, until=HORIZON), range(since_year, day.year + 1), day)
                insert_rows(rows)
                written += len(rows)
        every = set_based and _every_patient(ids)  # a first load: nothing to pick out, the whole-registry plan
        if set_based:
            written = insert_state(list(range(since_year, day.year + 1)), day, None if every else ids)
        # The new rows' totals: summed once for all the batches (a bulk load refreshes many), each (year, area,
        # slot) upserted once instead of once per batch.
        step = max(len(ids), 1) if connection.vendor == "postgresql" else ID_BATCH  # there: one array parameter
        for start in range(0, len(ids), step):
            add_totals(+1, None if every else ids[start : start + step], since_year)
    return written


def _every_patient(ids: Sequence[int]) -> bool:
    """Whether *ids* (distinct) are the whole registry, as after a workbook loaded into an empty system (PostgreSQL).

    Their rows are then every row from the first year refreshed on, computed and summed as a rebuild does (100,000
    new patients: 24.7 s against 21.0 s, docs/performance.md), instead of picked out of the tables by id.
    """
    from registry.models import Patient

    table = connection.ops.quote_name(Patient._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT count(*) FROM {table} WHERE id = ANY(%s)) = %s AND (SELECT count(*) FROM {table}) = %s",  # noqa: S608
            [list(ids), len(ids), len(ids)],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


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


# Stale patients recomputed together: the most ids a refresh of the calendar's stale rows holds at once, however
# many an area (a province on the first of a month: every patient) or the registry has (issue 17 §6).
STALE_PAGE = 50_000


def _stale_rows(day: dt.date, lo: str | None, hi: str | None) -> QuerySet[PatientYearState]:
    """The rows the calendar made stale by *day*, under the area codes [lo, hi] (every area when *lo* is None)."""
    rows = PatientYearState.objects.filter(valid_until__lte=day)
    return rows if lo is None else rows.filter(area_code__gte=lo, area_code__lte=hi)


def stale_pages(
    day: dt.date, lo: str | None = None, hi: str | None = None, *, size: int | None = None
) -> Iterator[dict[int, list[int]]]:
    """The patients with rows the calendar made stale by *day* (under the area codes [lo, hi]), at most *size* at a
    time (default ``STALE_PAGE``) in id order, each page as first stale year → patients. The database lists one page
    at a time, after the last id of the one before: a page is refreshed before the next is read."""
    size = size or STALE_PAGE
    rows = _stale_rows(day, lo, hi)
    last = 0
    while True:
        first_years = rows.filter(patient_id__gt=last).values_list("patient_id").annotate(first=Min("year"))
        page: dict[int, list[int]] = defaultdict(list)
        for patient_id, year in first_years.order_by("patient_id")[:size]:
            page[year].append(patient_id)
            last = patient_id
        if not page:
            return
        yield page


def stale_extent(day: dt.date, lo: str | None = None, hi: str | None = None) -> tuple[int, int | None]:
    """How many patients have rows the calendar made stale by *day* (under the area codes [lo, hi]), and the first
    stale year: counted by the database, so that the refresh of a whole country's rows holds no list of them
    (issue 17 §6)."""
    extent = _stale_rows(day, lo, hi).aggregate(patients=Count("patient_id", distinct=True), first=Min("year"))
    return extent["patients"], extent["first"]


def _refresh_pages(pages: Iterator[dict[int, list[int]]], day: dt.date) -> int:
    refreshed = 0
    for page in pages:
        for year, ids in page.items():
            refresh(ids, since_year=year, day=day)
            refreshed += len(ids)
    return refreshed


def ensure_fresh(prefix: str, day: dt.date | None = None) -> int:
    """Recompute the rows under *prefix* that the calendar made stale; returns the patients recomputed."""
    day = day or today()
    lo, hi = code_range(prefix)
    return _refresh_pages(stale_pages(day, lo, hi), day)


@dataclass(frozen=True)
class Freshness:
    """What ``freshen`` did: the patients it recomputed, or the day the area's state answers as of."""

    refreshed: int = 0
    as_of: dt.date | None = None  # None: the state answers up to the cut-off asked for


def freshen(prefix: str, year: int, cutoff: dt.date, *, limit: int) -> Freshness:
    """Make the state under *prefix* answer *year*'s slots up to *cutoff*, without waiting on the calendar.

    A row computed on day c with ``valid_until`` V holds the bits of every day in [c, V): it answers a slot cut
    off before V exactly (a period that ended before the row expired never moves again without a new fact), and
    a later cut-off only as of V - 1. So only the rows of *year* with V <= *cutoff* matter. At most *limit*
    such patients are recomputed here (a few next follow-up dates passing); more (a month, quarter or year
    boundary) are left as they are, and the state answers as of the day before the earliest of their V:
    every patient's figures hold the records as of that day or later (``as_of``). The caller queues their
    refresh (``metrics.state.tasks.refresh_in_background``).
    """
    lo, hi = code_range(prefix)
    stale = PatientYearState.objects.filter(year=year, valid_until__lte=cutoff, area_code__gte=lo, area_code__lte=hi)
    ids = list(stale.order_by().values_list("patient_id", flat=True).distinct()[: limit + 1])
    if not ids:
        return Freshness()
    if len(ids) <= limit:
        refresh(ids, since_year=year)
        return Freshness(refreshed=len(ids))
    oldest = stale.aggregate(oldest=Min("valid_until"))["oldest"]
    return Freshness(as_of=oldest - dt.timedelta(days=1))


def refresh_stale(day: dt.date | None = None) -> int:
    """Recompute every stale row (the nightly task, so the first report of the day does not wait)."""
    day = day or today()
    return _refresh_pages(stale_pages(day), day)
