"""The county overview of unstable patients (domain.md §8, §9, §4.4) for area staff, within their scope.

Aggregates and masked line lists only (张*三): open cases per township, overdue plan reviews, unstable
patients without a follow-up in 14 days, emergencies of the month (and those not completed within 24 hours),
and transfers pending for more than 14 days. The scope is the user's memberships (``jurisdiction_prefixes``),
the same areas the one visibility rule (``visible_to``) grants them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.areas.scope import within
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from followup.cases import services as case_services
from followup.emergencies import services as emergency_services
from followup.models import Emergency
from registry.models import Patient
from registry.patients import masking
from registry.transfers import services as transfers

if TYPE_CHECKING:
    from uuid import UUID

    from django.db.models import QuerySet

LINES_SHOWN = 50  # masked lines per section; the counts above each list are complete


def month_start(today: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime(today.year, today.month, 1))


def emergencies_of_month(prefixes: list[str], today: dt.date) -> QuerySet[Emergency]:
    return (
        Emergency.objects.filter(within(prefixes, "area__code"), occurred_at__gte=month_start(today))
        .select_related("patient", "area")
        .order_by("-occurred_at", "-id")
    )


def late_emergencies(prefixes: list[str], now: dt.datetime) -> QuerySet[Emergency]:
    """Open more than 24 hours after the event (any month: they still need completing)."""
    return (
        Emergency.objects.filter(within(prefixes, "area__code"))
        .filter(emergency_services.open_late_q(now))
        .select_related("patient", "area")
        .order_by("occurred_at", "id")
    )


@dataclass(frozen=True)
class QuietRow:
    """An unstable patient without a recent follow-up, masked."""

    patient_uuid: UUID
    name: str
    village: str
    last_followup: dt.date | None
    next_due_date: dt.date | None


def quiet_row(patient: Patient) -> QuietRow:
    state = patient.care_state
    return QuietRow(
        patient_uuid=patient.uuid,
        name=masking.mask_name(patient.name),
        village=patient.village.name,
        last_followup=state.last_followup_date,
        next_due_date=state.next_due_date,
    )


@login_required
@require_GET
def county_overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_area_staff:
        raise PermissionDenied
    prefixes = user.jurisdiction_prefixes()
    today = timezone.localdate()
    now = timezone.now()
    month = emergencies_of_month(prefixes, today)
    month_total = month.count()
    month_late = month.filter(emergency_services.late_q(now)).count()
    late = late_emergencies(prefixes, now)
    late_rows = emergency_services.rows(late[:LINES_SHOWN], masked=True, now=now)
    month_rows = emergency_services.rows(month[:LINES_SHOWN], masked=True, now=now)
    pending = transfers.long_pending(prefixes, today)
    pending_rows = transfers.rows(pending.select_related("requested_by")[:LINES_SHOWN], today)
    townships = case_services.open_cases_per_township(prefixes)
    reviews = case_services.overdue_reviews(prefixes, today)
    review_rows = case_services.case_rows(reviews[:LINES_SHOWN], masked=True, today=today)
    quiet = case_services.unstable_without_followup(prefixes, today)
    quiet_rows = [quiet_row(p) for p in quiet[:LINES_SHOWN]]
    context: dict[str, object] = {
        "today": today,
        "townships": townships,
        "open_total": sum(n for _area, n in townships),
        "review_rows": review_rows,
        "review_total": reviews.count(),
        "quiet_rows": quiet_rows,
        "quiet_total": quiet.count(),
        "quiet_days": case_services.UNSTABLE_GAP_DAYS,
        "month_total": month_total,
        "month_late": month_late,
        "month_rows": month_rows,
        "late_rows": late_rows,
        "late_total": late.count(),
        "pending_rows": pending_rows,
        "pending_total": pending.count(),
    }
    shown = {r.patient_uuid for r in (*late_rows, *month_rows) if r.patient_uuid}
    shown |= {r.patient_uuid for r in pending_rows}
    shown |= {r.patient_uuid for r in review_rows} | {r.patient_uuid for r in quiet_rows}
    record_event(actor=user, action=Action.LIST, patient_uuids=shown, detail={"page": "county_overview"})
    return render(request, "followup/overview.html", context)
