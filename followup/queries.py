"""Read paths: the doctor's work list, overdue counts, medication history and the patient timeline.

Every list starts from ``registry.access.visible_patients(user)`` and reads PatientCareState (one row per
patient), so the work list costs a constant number of queries however many patients a township holds.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from casemgmt.areas.models import Area
from followup import codes, rules
from followup.models import FollowUp, HealthCheck, MedicationRow, RehabParticipation
from registry import codes as registry_codes
from registry.access import visible_patients
from registry.models import Patient, StatusChange

WORK_LIST_LIMIT = 200  # per section; a township's overdue list longer than this is a supervision problem


@dataclass
class WorkItem:
    patient: Patient
    next_due: dt.date | None
    overdue_days: int
    risk_level: int | None
    classification: int | None
    not_reached: int


@dataclass
class WorkList:
    overdue: list[WorkItem] = field(default_factory=list)
    due_soon: list[WorkItem] = field(default_factory=list)
    unstable: list[WorkItem] = field(default_factory=list)
    not_reached: list[WorkItem] = field(default_factory=list)
    without_schedule: int = 0


def _followed(user: Any) -> QuerySet[Patient]:
    """Patients the user may see who are under active management (the schedule applies to them)."""
    return visible_patients(user).filter(status=registry_codes.Status.ACTIVE).select_related("village", "care_state")


def _item(patient: Patient, today: dt.date) -> WorkItem:
    state = getattr(patient, "care_state", None)
    due = state.next_due_date if state else None
    return WorkItem(
        patient=patient,
        next_due=due,
        overdue_days=rules.overdue_days(due, today),
        risk_level=state.risk_level if state else None,
        classification=state.classification if state else None,
        not_reached=state.consecutive_not_reached if state else 0,
    )


def work_list(user: Any, today: dt.date) -> WorkList:
    """Overdue (longest first, then highest risk), due within 7 days, unstable, three not-reached in a row."""
    base = _followed(user)
    soon = today + dt.timedelta(days=rules.DUE_SOON_DAYS)
    overdue = base.filter(care_state__next_due_date__lt=today).order_by(
        "care_state__next_due_date", F("care_state__risk_level").desc(nulls_last=True), "id"
    )[:WORK_LIST_LIMIT]
    due = base.filter(care_state__next_due_date__gte=today, care_state__next_due_date__lte=soon).order_by(
        "care_state__next_due_date", "id"
    )[:WORK_LIST_LIMIT]
    unstable = base.filter(care_state__classification=codes.Classification.UNSTABLE).order_by(
        F("care_state__risk_level").desc(nulls_last=True), "care_state__next_due_date", "id"
    )[:WORK_LIST_LIMIT]
    not_reached = base.filter(care_state__consecutive_not_reached__gte=rules.NOT_REACHED_BEFORE_LOST).order_by(
        "-care_state__consecutive_not_reached", "id"
    )[:WORK_LIST_LIMIT]
    return WorkList(
        overdue=[_item(p, today) for p in overdue],
        due_soon=[_item(p, today) for p in due],
        unstable=[_item(p, today) for p in unstable],
        not_reached=[_item(p, today) for p in not_reached],
        without_schedule=base.filter(Q(care_state__isnull=True) | Q(care_state__next_due_date__isnull=True)).count(),
    )


def overdue_counts_by_township(user: Any, today: dt.date) -> list[tuple[Area, int, int]]:
    """(township, overdue, under management) for every township the user sees: one grouped query."""
    rows = (
        _followed(user)
        .annotate(township=Substr("village_id", 1, 9))
        .values("township")
        .annotate(total=Count("id"), overdue=Count("id", filter=Q(care_state__next_due_date__lt=today)))
        .order_by("township")
    )
    counts = {r["township"] + "000": (r["overdue"], r["total"]) for r in rows}
    areas = {a.code: a for a in Area.objects.filter(code__in=counts)}
    return [(areas[code], *counts[code]) for code in sorted(counts) if code in areas]


def current_regimen(patient: Patient) -> list[MedicationRow]:
    """The medication rows of the latest reached follow-up."""
    latest = (
        FollowUp.objects.filter(patient=patient).filter(outcome=codes.Outcome.REACHED).order_by("-date", "-id").first()
    )
    return list(latest.medications.all()) if latest else []


def medication_history(patient: Patient) -> list[tuple[FollowUp, list[MedicationRow]]]:
    followups = list(
        FollowUp.objects.filter(patient=patient).filter(outcome=codes.Outcome.REACHED).order_by("-date", "-id")
    )
    rows: dict[int, list[MedicationRow]] = defaultdict(list)
    for row in MedicationRow.objects.filter(followup__in=followups):
        rows[row.followup_id].append(row)
    return [(f, rows[f.pk]) for f in followups]


def adherence_over_time(patient: Patient) -> list[tuple[dt.date, int | None]]:
    return list(
        FollowUp.objects.filter(patient=patient)
        .filter(outcome=codes.Outcome.REACHED)
        .order_by("date")
        .values_list("date", "adherence")
    )


@dataclass(frozen=True)
class TimelineEntry:
    date: dt.date
    kind: str  # followup, status, medication, rehab, health_check
    title: str
    detail: str = ""
    obj: Any = None


def timeline(patient: Patient) -> list[TimelineEntry]:
    """Follow-ups, status changes, medication changes, rehabilitation and checks, newest first."""
    entries: list[TimelineEntry] = []
    previous_regimen: tuple[object, ...] | None = None
    for followup, rows in reversed(medication_history(patient)):
        regimen = tuple(sorted(str(r.regimen_key()) for r in rows))
        if previous_regimen is not None and regimen != previous_regimen:
            entries.append(
                TimelineEntry(followup.date, "medication", str(_("用药调整")), "；".join(r.describe() for r in rows))
            )
        previous_regimen = regimen
    for followup in FollowUp.objects.filter(patient=patient).order_by("date", "id"):
        detail = ""
        if followup.is_reached:
            detail = f"{followup.get_classification_display() or ''} · {_('危险性')} {followup.risk_level}"
        entries.append(TimelineEntry(followup.date, "followup", str(followup.get_outcome_display()), detail, followup))
    for change in StatusChange.objects.filter(patient=patient).order_by("effective_date", "id"):
        entries.append(TimelineEntry(change.effective_date, "status", str(change.get_to_status_display())))
    for rehab in RehabParticipation.objects.filter(patient=patient):
        entries.append(
            TimelineEntry(rehab.start_date, "rehab", str(rehab.get_provider_type_display()), rehab.service_type)
        )
    for check in HealthCheck.objects.filter(patient=patient):
        entries.append(TimelineEntry(check.date, "health_check", str(_("健康体检"))))
    kinds = {"status": 0, "followup": 1, "medication": 2, "rehab": 3, "health_check": 4}
    return sorted(entries, key=lambda e: (e.date, kinds[e.kind]), reverse=True)
