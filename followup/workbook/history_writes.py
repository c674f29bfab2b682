"""The writing pass for what version 2 of the registry workbook adds (exchange.md §1): a new patient's status
history, transfers in every state, cases and emergencies. Called from ``loading._Writer`` inside its transaction,
after the patients (and follow-ups) are written.

Matching, so that loading a workbook twice changes nothing: status history and transfers come with new patients
only (a patient already registered keeps the history the system has); cases by patient + workbook ref
(``Case.source_ref``); emergencies by patient + ref, or village + ref for a person not registered
(``Emergency.source_ref``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.accounts.models import User
from casemgmt.crypto.bulk import seal
from followup.models import Case, Emergency
from followup.workbook.refs import matching, stored_refs
from registry.models import CustodySpan, Patient, StatusChange, Transfer, TransferState

from . import rows
from .schema import CASES, EMERGENCIES, STATUS_HISTORY

if TYPE_CHECKING:
    from .loading import _Writer


def write_history(writer: _Writer) -> None:
    """Everything of version 2 that is written after the follow-ups."""
    count_status_history(writer)
    write_cases(writer)
    write_emergencies(writer)


def status_changes(
    patient: Patient, registered_on: dt.date, initial: str, changes: Sequence[rows.StatusRow], actor: User
) -> list[StatusChange]:
    """A new patient's history from the status_history sheet. A first row dated on the registration day is the
    status registration gave (e.g. REFUSED, later consenting); otherwise registration gave *initial* (from the
    consent) and every row is a later change."""
    first = changes[0]
    start = first.status if first.date == registered_on else initial
    history = [StatusChange(patient=patient, to_status=start, effective_date=registered_on, actor=actor)]
    later = changes[1:] if first.date == registered_on else changes
    previous = start
    for change in later:
        history.append(
            StatusChange(
                patient=patient,
                from_status=previous,
                to_status=change.status,
                effective_date=change.date,
                lost_reason=change.lost_reason,
                death_cause=change.death_cause,
                actor=actor,
                note=change.note or str(_("登记表导入")),
            )
        )
        previous = change.status
    return history


def transfer(patient: Patient, move: rows.TransferKey, actor: User) -> Transfer:
    """A transfer in the state the sheet gives: pending, accepted, rejected (with its reason) or withdrawn."""
    decided = move.state != TransferState.PENDING
    rejected = move.state == TransferState.REJECTED
    return Transfer(
        patient=patient,
        from_village_id=move.from_village,
        to_village_id=move.to_village,
        state=move.state,
        reason="" if rejected else move.reason,
        rejection_reason=move.reason if rejected else "",
        requested_by=actor,
        requested_on=move.requested_on,
        decided_by=actor if decided else None,
        decided_on=move.decided_on if decided else None,
        decided_at=timezone.now() if decided else None,
    )


def count_status_history(writer: _Writer) -> None:
    """Rows of the status_history sheet: written with new patients, unchanged for patients already registered."""
    if STATUS_HISTORY.name not in writer.plan.sheets:
        return
    counts = writer.report.count(STATUS_HISTORY.name)
    for ref, changes in writer.plan.status_history.items():
        if writer.pk_by_ref[ref] in writer.new_patients:
            counts.created += len(changes)
        else:
            counts.unchanged += len(changes)
    writer.advance(writer.plan.row_counts.get(STATUS_HISTORY.name, 0))


def write_cases(writer: _Writer) -> None:
    """The cases sheet's cases: the workbook's whole case register (no case is opened by the rule afterwards)."""
    if CASES.name not in writer.plan.sheets:
        return
    counts = writer.report.count(CASES.name)
    for parsed in writer.batches(CASES, rows.parse_case):
        pks = [writer.pk_by_ref[ref or ""] for ref, _case in parsed]
        stored = stored_refs(Case.objects.filter(patient_id__in=set(pks)), "patient_id")
        fresh = [
            Case(
                patient_id=pk,
                opened_on=case.opened_on,
                opened_reasons=list(case.reasons),
                opened_by=writer.actor,
                closed_on=case.closed_on,
                close_reason=case.close_reason,
                closed_by=writer.actor if case.closed_on else None,
                review_date=case.review_on,
                source_ref=case.ref,
            )
            for (_ref, case), pk in zip(parsed, pks, strict=True)
            if case is not None and (pk, case.ref) not in stored
        ]
        for case in fresh:
            seal(case)
            writer.touch(case.patient_id, case.opened_on)
        Case.objects.bulk_create(fresh)
        counts.created += len(fresh)
        counts.unchanged += len(parsed) - len(fresh)
        writer.advance(len(parsed))


def write_emergencies(writer: _Writer) -> None:
    if EMERGENCIES.name not in writer.plan.sheets:
        return
    counts = writer.report.count(EMERGENCIES.name)
    for parsed in writer.batches(EMERGENCIES, rows.parse_emergency):
        refs = {e.ref for _ref, e in parsed if e is not None}
        stored = Emergency.objects.filter(matching(refs))
        of_patients = stored_refs(stored.filter(patient_id__isnull=False), "patient_id")
        of_persons = stored_refs(stored.filter(patient_id__isnull=True), "area_id")
        fresh: list[Emergency] = []
        for patient_ref, emergency in parsed:
            if emergency is None:
                continue
            pk = writer.pk_by_ref[patient_ref] if patient_ref is not None else None
            day = timezone.localdate(emergency.occurred_at)
            area = emergency.village_code or (village_at(pk, day) if pk is not None else "")
            if (pk, emergency.ref) in of_patients or (pk is None and (area, emergency.ref) in of_persons):
                continue
            fresh.append(
                Emergency(
                    patient_id=pk,
                    person_name="" if pk is not None else str(_("不详")),  # as the form asks for a person unknown
                    area_id=area,
                    occurred_at=emergency.occurred_at,
                    place=emergency.place,
                    situations=list(emergency.situations),
                    risk_level=emergency.risk_level,
                    disposition=emergency.disposition,
                    completed_at=emergency.completed_at,
                    handler=writer.actor,
                    recorded_by=writer.actor,
                    source_ref=emergency.ref,
                )
            )
            if pk is not None:
                writer.touch(pk, day)
        for item in fresh:
            seal(item)
        Emergency.objects.bulk_create(fresh)
        counts.created += len(fresh)
        counts.unchanged += len(parsed) - len(fresh)
        writer.advance(len(parsed))


def village_at(patient_id: int, day: dt.date) -> str:
    """The village that held the patient's record on *day* (the first one for a day before registration)."""
    spans = CustodySpan.objects.filter(patient_id=patient_id)
    held = spans.filter(start_date__lte=day).filter(Q(end_date__isnull=True) | Q(end_date__gt=day))
    area = (
        held.values_list("area_id", flat=True).first()
        or spans.order_by("start_date").values_list("area_id", flat=True).first()
    )
    if area is None:
        area = Patient.objects.filter(pk=patient_id).values_list("village_id", flat=True).get()
    return str(area)
