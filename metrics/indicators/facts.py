"""Load the plain facts of ``metrics.indicators.definitions`` from the database, in chunks of patients.

Who is loaded: patients with a severe disorder (1–6), registered by C, whose record was held at C by an area
under the report's prefix — read from the custody history, not from the current village, because a patient
transferred out after C still counts for the old area (domain.md §4.4, §11).

How: candidate patients are walked in primary-key order, ``chunk_size`` at a time (keyset pagination, so the
cost of a chunk does not grow with its position). For each chunk a fixed number of queries fetch the status
history, the custody spans and the follow-up side (see ``metrics.indicators.followup_facts``); nothing is fetched per
patient, and only one chunk's rows are in memory at a time, so a province streams in constant memory.

Only clear columns are read (codes, dates, area codes): never an encrypted identity field. The facts carry
the patient's primary key as an opaque key for aggregation, never a name or number. Selecting by area rather
than through ``Patient.objects.visible_to(user)`` is deliberate: the engine returns aggregates only, and
attribution follows the custody history, which the current-village visibility rule cannot express. Callers
that serve a person check that the area lies in their jurisdiction (``metrics.reports.access.may_view_area``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from casemgmt.readdb import read_alias
from metrics.indicators import followup_facts
from metrics.indicators.definitions import SEVERE_DISORDERS, CustodyFact, PatientFacts, StatusFact
from metrics.indicators.periods import Period
from registry.models import CustodySpan, Patient, StatusChange

if TYPE_CHECKING:
    from collections.abc import Iterable

CHUNK_SIZE = 2000


def held_at(prefix: str, day: dt.date) -> QuerySet[CustodySpan]:
    """Custody spans under *prefix* covering *day* (start inclusive, end exclusive: the accepting day)."""
    return (
        CustodySpan.objects.using(read_alias())
        .filter(area__code__startswith=prefix, start_date__lte=day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=day))
    )


def _grouped(rows: Iterable[tuple[Any, ...]]) -> dict[int, list[list[Any]]]:
    grouped: dict[int, list[list[Any]]] = defaultdict(list)
    for patient_id, *values in rows:
        grouped[patient_id].append(values)
    return grouped


def iter_facts(prefix: str, period: Period, *, chunk_size: int = CHUNK_SIZE) -> Iterator[PatientFacts]:
    """Every candidate patient's facts for *period*, chunk by chunk."""
    cutoff = period.cutoff_date
    candidates = (
        Patient.objects.using(read_alias())
        .filter(
            pk__in=held_at(prefix, cutoff).values("patient_id"),
            disorder__in=sorted(SEVERE_DISORDERS),
            registered_on__lte=cutoff,
        )
        .order_by("pk")
        .values_list("pk", "disorder", "registered_on")
    )
    last_pk = 0
    while True:
        rows = list(candidates.filter(pk__gt=last_pk)[:chunk_size])
        if not rows:
            return
        yield from _chunk_facts(rows, period)
        last_pk = rows[-1][0]


def facts_of_patients(ids: list[int], *, until: dt.date) -> list[PatientFacts]:
    """The whole history up to *until* of the patients *ids* with a severe disorder (the state's rebuild)."""
    rows = list(
        Patient.objects.using(read_alias())
        .filter(pk__in=ids, disorder__in=sorted(SEVERE_DISORDERS))
        .order_by("pk")
        .values_list("pk", "disorder", "registered_on")
    )
    if not rows:
        return []
    return list(_chunk_facts(rows, Period("year", "", dt.date(until.year, 1, 1), until, until)))


def _chunk_facts(rows: list[tuple[int, int, dt.date]], period: Period) -> Iterator[PatientFacts]:
    ids = [row[0] for row in rows]
    statuses = _grouped(
        StatusChange.objects.using(read_alias())
        .filter(patient_id__in=ids, effective_date__lte=period.cutoff_date)
        .order_by("patient_id", "effective_date", "id")
        .values_list("patient_id", "effective_date", "to_status", "death_cause")
    )
    custody = _grouped(
        CustodySpan.objects.using(read_alias())
        .filter(patient_id__in=ids, start_date__lte=period.cutoff_date)
        .order_by("patient_id", "start_date", "id")
        .values_list("patient_id", "area_id", "start_date", "end_date")
    )
    side = followup_facts.load(ids, period)
    for pk, disorder, registered_on in rows:
        yield PatientFacts(
            key=str(pk),
            disorder=disorder,
            registered_on=registered_on,
            statuses=tuple(StatusFact(day, status, cause) for day, status, cause in statuses[pk]),
            custody=tuple(CustodyFact(area, start, end) for area, start, end in custody[pk]),
            followups=side.followups.get(pk, ()),
            rehab=side.rehab.get(pk, ()),
            health_checks=side.health_checks.get(pk, ()),
            cases=side.cases.get(pk, ()),
            emergencies=side.emergencies.get(pk, ()),
        )
