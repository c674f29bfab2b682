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
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult

from django.db import connection, transaction

from metrics.indicators.definitions import SEVERE_DISORDERS, PatientFacts
from metrics.indicators.facts import facts_of_patients
from metrics.models import AreaSlotState, IndicatorStateBuild, PatientYearState
from metrics.state.calendar import today
from metrics.state.compute import rows_for_facts
from metrics.state.setbased import insert_state
from metrics.state.tables import BATCH_SIZE, HORIZON, add_totals, insert_rows
from metrics.state.write import refresh_stale, stale_patients


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
) -> RebuildStats:
    """Rebuild the state from scratch (all years, or only *years*), patient batch by batch, in one transaction.

    Memory stays bounded by a few batches: facts are read per batch (``metrics.indicators.facts``), and with
    ``workers`` > 1 the pure computation of the rows runs in that many processes while this one reads the
    next batch and writes the previous one; at most ``workers`` + 1 batches are in flight.

    On PostgreSQL the rows are computed by set-based SQL instead (``metrics.state.setbased``, issue 17 §1);
    ``set_based=False`` keeps the patient-by-patient path there too (the bench compares both).
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
        stats.phases["clearing"] = time.monotonic() - started
        first_year = min(years) if years else _first_year(day)
        span = [y for y in range(first_year, day.year + 1) if years is None or y in years]
        if set_based is None:
            set_based = connection.vendor == "postgresql"
        if set_based:
            stats.rows = insert_state(span, day)
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
        add_totals(+1, None, first_year, years)
        stats.phases["totals"] = time.monotonic() - started - stats.phases["clearing"] - stats.phases["rows"]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (PatientYearState, AreaSlotState):  # fresh statistics: the planner keeps to the indexes
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        if years is None:
            IndicatorStateBuild.objects.create(patients=stats.patients)
    stats.seconds = time.monotonic() - started
    return stats


BULK_REFRESH = 2000  # stale patients above which the nightly refresh recomputes their years set-based


def refresh_calendar(day: dt.date | None = None, *, bulk_above: int = BULK_REFRESH) -> int:
    """The nightly refresh of the rows the calendar made stale; returns the patients that were stale.

    On the first of a month every patient's current-year rows are stale together (issue 17 §2): patient by patient
    that is the whole registry in Python, so above *bulk_above* stale patients PostgreSQL recomputes the stale years
    for everyone with the set-based rebuild (the same rows, far faster); a few stale patients are refreshed alone.
    """
    day = day or today()
    stale = stale_patients(day)
    if connection.vendor != "postgresql" or len(stale) <= bulk_above:
        return refresh_stale(day)
    rebuild(years=list(range(min(stale.values()), day.year + 1)), day=day)
    return len(stale)


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
