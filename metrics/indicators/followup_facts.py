"""The follow-up side of a chunk's facts: follow-ups, rehabilitation, health checks, cases, emergencies.

Kept apart from ``metrics.indicators.facts`` because it reads the followup app's tables, whose shape is its own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from casemgmt.readdb import read_alias
from metrics.indicators.definitions import FollowUpFact
from metrics.indicators.periods import Period

DateSpans = tuple[tuple[dt.date, dt.date | None], ...]


@dataclass
class SideFacts:
    followups: dict[int, tuple[FollowUpFact, ...]] = field(default_factory=dict)
    rehab: dict[int, DateSpans] = field(default_factory=dict)
    health_checks: dict[int, tuple[dt.date, ...]] = field(default_factory=dict)
    cases: dict[int, DateSpans] = field(default_factory=dict)
    emergencies: dict[int, tuple[dt.date, ...]] = field(default_factory=dict)


FOLLOWUP_COLUMNS = (
    "date", "outcome", "risk_level", "hospitalisation", "adherence", "mode", "classification", "family_support",
    "next_date", "minor_trouble", "trouble", "disaster",
)  # fmt: skip


def load(ids: list[int], period: Period) -> SideFacts:
    """The followup app's facts for the patients *ids*, up to the cut-off: five queries per chunk (follow-ups,
    rehabilitation, health checks, case spans, emergency dates)."""
    from followup.cases.services import case_spans
    from followup.emergencies.services import emergency_dates
    from followup.models import FollowUp, HealthCheck, RehabParticipation

    cutoff = period.cutoff_date
    alias = read_alias()
    followups: dict[int, list[FollowUpFact]] = defaultdict(list)
    rows = (
        FollowUp.objects.using(alias)
        .filter(patient_id__in=ids, date__lte=cutoff)
        .order_by("patient_id", "date", "id")
        .values_list("patient_id", *FOLLOWUP_COLUMNS)
    )
    for patient_id, *values in rows:
        fact = FollowUpFact(**dict(zip(FOLLOWUP_COLUMNS, values, strict=True)))
        followups[patient_id].append(fact)
    rehab: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for patient_id, start, end in (
        RehabParticipation.objects.using(alias)
        .filter(patient_id__in=ids, start_date__lte=cutoff)
        .values_list("patient_id", "start_date", "end_date")
    ):
        rehab[patient_id].append((start, end))
    checks: dict[int, list[dt.date]] = defaultdict(list)
    check_rows = HealthCheck.objects.using(alias).filter(patient_id__in=ids, date__lte=cutoff, consent=True)
    for patient_id, day in check_rows.values_list("patient_id", "date"):
        checks[patient_id].append(day)
    return SideFacts(
        followups={k: tuple(v) for k, v in followups.items()},
        rehab={k: tuple(v) for k, v in rehab.items()},
        health_checks={k: tuple(v) for k, v in checks.items()},
        cases=case_spans(ids, cutoff),
        emergencies=emergency_dates(ids, cutoff),
    )
