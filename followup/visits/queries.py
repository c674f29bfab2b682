"""Read paths: the doctor's work list, overdue counts, medication history and the patient timeline.

Every list of patients starts from ``registry.access.visibility.visible_patients(user)`` (=
``Patient.objects.visible_to``) and reads PatientCareState (one row per patient), so the work list costs a constant
number of queries however many patients a township holds. The per-patient functions take a patient the caller already
reached through ``registry.access.visibility.get_patient_for_user``. Nothing here writes an audit event: the page that
shows the result records the view.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.db.models.functions import Substr
from django.http import Http404
from django.utils.translation import gettext as _

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import User
from casemgmt.areas.models import Area
from casemgmt.listing import clauses
from followup import codes
from followup.models import FollowUp, HealthCheck, MedicationRow, RehabParticipation
from followup.visits import rules
from registry import codes as registry_codes
from registry.access.visibility import can_write, refuse, visible_patients
from registry.models import Patient, StatusChange, live_break_glass

WORK_LIST_LIMIT = 200  # rows per section; a township's overdue list longer than this is a supervision problem
TOWNSHIP_DIGITS = 9  # the first 9 digits of a village code name its township (domain.md §3)


# --- the work list -------------------------------------------------------------------------------------------------


@dataclass
class WorkItem:
    patient: Patient  # with .village and .care_state loaded
    next_due: dt.date | None
    overdue_days: int
    risk_level: int | None
    classification: int | None
    not_reached: int  # not-reached attempts in a row


@dataclass
class WorkList:
    """The doctor's day (domain.md §7). A patient may appear in several sections (overdue and unstable)."""

    overdue: list[WorkItem] = field(default_factory=list)  # longest overdue first, then highest risk
    due_soon: list[WorkItem] = field(default_factory=list)  # due today .. today + DUE_SOON_DAYS, soonest first
    unstable: list[WorkItem] = field(default_factory=list)  # current class 不稳定, highest risk first
    not_reached: list[WorkItem] = field(default_factory=list)  # ≥ NOT_REACHED_BEFORE_LOST attempts in a row failed
    without_schedule: int = 0  # active patients with no next date yet (never reached)
    # How many patients each section holds in all; the lists stop at WORK_LIST_LIMIT.
    totals: dict[str, int] = field(default_factory=dict)


def followups_visible_to(user: User) -> QuerySet[FollowUp]:
    """Follow-ups of the patients of the user's own areas among those the user sees: the clinical history, which a
    case-team grant never opens (domain.md §8); and those of a patient the user opened by break-glass
    (``registry.breakglass``: the full record, read-only). Every follow-up lookup starts here."""
    own = visible_patients(user).in_jurisdiction_of(user).values("pk")
    opened = live_break_glass(user).values("patient_id")
    return FollowUp.objects.filter(Q(patient__in=own) | Q(patient__in=opened))


def get_followup_for_user(
    request: AuthenticatedHttpRequest, followup_uuid: uuid.UUID | str, *, patient: Patient, write: bool = False
) -> FollowUp:
    """One follow-up of ``patient`` (reached through the views' clinical check), if the user may read it.

    404 for a follow-up that does not exist, belongs to another patient or is not in ``followups_visible_to``;
    with ``write``, 403 for users who may not write the patient (404 through a break-glass access).
    """
    followup = (
        followups_visible_to(request.user).filter(patient=patient, uuid=followup_uuid).select_related("doctor").first()
    )
    if followup is None:
        raise Http404
    if write and not can_write(request.user, patient):
        refuse(request.user, patient)  # 403 in the user's jurisdiction, 404 through a break-glass access
    return followup


def _followed(user: User) -> QuerySet[Patient]:
    """Patients the user may see who are under active management (the schedule applies to them).

    LOST, REFUSED, DEAD and CLOSED patients are not on the schedule; a LOST patient returns to it when reached.
    Only the user's own areas: a doctor who sees another township's patient as a member of its case team does not
    follow that patient up (the grant shows the limited view, never the follow-up form).
    """
    return visible_patients(user).in_jurisdiction_of(user).filter(status=registry_codes.Status.ACTIVE)


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


def _section_filters(today: dt.date) -> dict[str, Q]:
    soon = today + dt.timedelta(days=rules.DUE_SOON_DAYS)
    return {
        "overdue": Q(care_state__next_due_date__lt=today),
        "due_soon": Q(care_state__next_due_date__gte=today, care_state__next_due_date__lte=soon),
        "unstable": Q(care_state__classification=codes.Classification.UNSTABLE),
        "not_reached": Q(care_state__consecutive_not_reached__gte=rules.NOT_REACHED_BEFORE_LOST),
        "without_schedule": Q(care_state__isnull=True) | Q(care_state__next_due_date__isnull=True),
    }


SECTION_ORDER: dict[str, tuple[str | OrderBy, ...]] = {
    "overdue": ("care_state__next_due_date", F("care_state__risk_level").desc(nulls_last=True), "id"),
    "due_soon": ("care_state__next_due_date", F("care_state__risk_level").desc(nulls_last=True), "id"),
    "unstable": (F("care_state__risk_level").desc(nulls_last=True), "care_state__next_due_date", "id"),
    "not_reached": ("-care_state__consecutive_not_reached", "care_state__next_due_date", "id"),
}


def work_list(
    user: User, today: dt.date, *, shown: int = WORK_LIST_LIMIT, expanded: str = "", within: str = ""
) -> WorkList:
    """Overdue (longest first, then highest risk), due within DUE_SOON_DAYS, unstable, and not reached in a row.

    Each section holds its first *shown* patients, the *expanded* one up to WORK_LIST_LIMIT (the page fetches
    only what it shows: every row is a decrypted name). Seven queries whatever the number of patients: the
    user's areas (cached on the user after the first call) and grants, one per section, one for the totals.
    *within* (an area code's significant prefix) narrows the list to the villages of that area.
    """
    base = _followed(user).select_related("village", "care_state")
    if within:
        base = base.filter(village__code__startswith=within)
    filters = _section_filters(today)
    sections = {
        name: [
            _item(p, today)
            for p in base.filter(filters[name]).order_by(*order)[
                : WORK_LIST_LIMIT if name == expanded else min(shown, WORK_LIST_LIMIT)
            ]
        ]
        for name, order in SECTION_ORDER.items()
    }
    totals = base.aggregate(**{name: Count("id", filter=condition) for name, condition in filters.items()})
    return WorkList(**sections, without_schedule=totals["without_schedule"], totals=totals)


class TownshipOverdue(NamedTuple):
    township: Area
    overdue: int
    managed: int  # active patients of the township the user sees


def overdue_counts_by_township(user: User, today: dt.date) -> list[TownshipOverdue]:
    """(township, overdue, under management) for every township where the user sees active patients, in code
    order: one grouped query (plus the user's areas and grants, and the townships' names)."""
    rows = (
        _followed(user)
        .annotate(township=Substr("village_id", 1, TOWNSHIP_DIGITS))
        .values("township")
        .annotate(total=Count("id"), overdue=Count("id", filter=Q(care_state__next_due_date__lt=today)))
        .order_by("township")
    )
    padding = "0" * (12 - TOWNSHIP_DIGITS)
    counts = {r["township"] + padding: (r["overdue"], r["total"]) for r in rows}
    areas = {a.code: a for a in Area.objects.filter(code__in=counts)}
    return [TownshipOverdue(areas[code], *counts[code]) for code in sorted(counts) if code in areas]


# --- medication ------------------------------------------------------------------------------------------------


def _reached(patient: Patient) -> QuerySet[FollowUp]:
    return FollowUp.objects.filter(patient=patient).reached()


def current_regimen(patient: Patient) -> list[MedicationRow]:
    """The medication rows of the latest reached follow-up (what the patient should be taking now)."""
    latest = _reached(patient).order_by("-date", "-id").first()
    return list(latest.medications.all()) if latest else []


def medication_history(patient: Patient) -> list[tuple[FollowUp, list[MedicationRow]]]:
    """Every reached follow-up, newest first, with its medication rows (two queries)."""
    followups = _reached(patient).order_by("-date", "-id").prefetch_related("medications")
    return [(f, list(f.medications.all())) for f in followups]


def adherence_over_time(patient: Patient) -> list[tuple[dt.date, int | None]]:
    """(date, adherence code) of every reached follow-up, oldest first, for a chart."""
    return list(_reached(patient).order_by("date", "id").values_list("date", "adherence"))


def regimen_key(rows: list[MedicationRow]) -> tuple[tuple[object, ...], ...]:
    """Equal keys mean the same prescription, whatever the order the rows were entered in."""
    return tuple(sorted((row.regimen_key() for row in rows), key=repr))


# --- the timeline ----------------------------------------------------------------------------------------------

FOLLOWUP, STATUS, MEDICATION, REHAB, HEALTH_CHECK = "followup", "status", "medication", "rehab", "health_check"
# On one day: the status change first, then the follow-up that caused it, the regimen it set, and the rest.
KIND_ORDER = {STATUS: 0, FOLLOWUP: 1, MEDICATION: 2, REHAB: 3, HEALTH_CHECK: 4}


@dataclass(frozen=True)
class TimelineEntry:
    date: dt.date
    kind: str  # FOLLOWUP, STATUS, MEDICATION, REHAB or HEALTH_CHECK
    title: str
    detail: str = ""
    obj: FollowUp | StatusChange | RehabParticipation | HealthCheck | None = None  # the record behind the entry


def _followup_entries(followups: list[FollowUp]) -> list[TimelineEntry]:
    """One entry per follow-up, and one per change of regimen (oldest first while comparing).

    The first recorded regimen is a starting point, not a change. Follow-ups in hospital are skipped in the
    comparison: the ward prescribes there, and an empty list would read as "stopped everything".
    """
    entries: list[TimelineEntry] = []
    previous: tuple[tuple[object, ...], ...] | None = None
    for followup in followups:
        detail = ""
        if followup.is_reached:
            risk = "" if followup.risk_level is None else f" · {_('危险性')} {followup.risk_level}"
            detail = f"{followup.get_classification_display() or ''}{risk}"
        entries.append(TimelineEntry(followup.date, FOLLOWUP, str(followup.get_outcome_display()), detail, followup))
        if not followup.is_reached or followup.hospitalisation == codes.Hospitalisation.NOW:
            continue
        rows = list(followup.medications.all())
        regimen = regimen_key(rows)
        if previous is not None and regimen != previous:
            described = clauses(row.describe() for row in rows) or str(_("停用全部药物"))
            entries.append(TimelineEntry(followup.date, MEDICATION, str(_("用药调整")), described, followup))
        previous = regimen
    return entries


def timeline(patient: Patient, *, newest_first: bool = True) -> list[TimelineEntry]:
    """Follow-ups, status changes, medication changes, rehabilitation and health checks in date order (newest
    first unless asked otherwise). Five queries whatever the length of the history."""
    followups = list(
        FollowUp.objects.filter(patient=patient)
        .order_by("date", "id")
        .prefetch_related(Prefetch("medications", queryset=MedicationRow.objects.order_by("id")))
    )
    entries = _followup_entries(followups)
    for change in StatusChange.objects.filter(patient=patient).order_by("effective_date", "id"):
        entries.append(TimelineEntry(change.effective_date, STATUS, str(change.get_to_status_display()), obj=change))
    for rehab in RehabParticipation.objects.filter(patient=patient).order_by("start_date", "id"):
        title = str(rehab.get_provider_type_display())
        entries.append(TimelineEntry(rehab.start_date, REHAB, title, rehab.service_type, rehab))
    for check in HealthCheck.objects.filter(patient=patient).order_by("date", "id"):
        detail = "" if check.consent else str(_("患者未同意体检"))
        entries.append(TimelineEntry(check.date, HEALTH_CHECK, str(_("健康体检")), detail, check))
    entries.sort(key=lambda e: (e.date, KIND_ORDER[e.kind]), reverse=newest_first)
    return entries
