"""One row of each registry-workbook sheet from the stored records, as a mapping from the column keys of
``followup.workbook.schema`` (the single source of the keys) to typed cell values.

The values are what ``followup.workbook.rows`` parses back: codes as numbers, dates as dates, flags as 1/0,
symptom codes separated by commas. Text the product writes is made inert (``casemgmt.exports``), so no cell is
ever evaluated as a formula. The identity columns are filled only when the export may disclose identity.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from casemgmt.exports import ExportCell, inert_cell
from followup.models import Case, CaseOpenReason, Emergency, FollowUp, HealthCheck, MedicationRow, RehabParticipation
from registry.models import Patient, StatusChange, SupplementaryForm, Transfer, TransferState

from . import rows
from .schema import CASE_OPEN_REASON, DANGER_COLUMNS, DOSE_COLUMNS, SOCIAL_COLUMNS, TRANSFER_STATE

Row = dict[str, ExportCell]

# The patients-sheet columns that identify a person (domain.md §8): left empty unless identity may be disclosed.
IDENTITY_COLUMNS = (
    "national_id",
    "name",
    "birth_date",
    "phone",
    "address",
    "hukou_address",
    "guardian_name",
    "guardian_phone",
)


def cell(value: object) -> ExportCell:
    """A stored value as a cell: Decimals as numbers (whole ones as integers), text inert, empty text empty."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if value == "":
        return None
    return inert_cell(value)


def patient_row(
    patient: Patient,
    form: SupplementaryForm | None,
    last_change: StatusChange | None,
    *,
    identity: bool,
) -> Row:
    """The patients row of *patient*: its ref is the record's UUID (stable, and no identity)."""
    row: dict[str, object] = {
        "ref": str(patient.uuid),
        "sex": patient.sex,
        "village_code": patient.village_id,
        "disorder": patient.disorder,
        "diagnosis_date": patient.diagnosis_date,
        "diagnosis_hospital": patient.diagnosis_hospital,
        "registered_on": patient.registered_on,
        "status": patient.status,
        "guardian_relation": patient.guardian_relation,
    }
    if identity:
        row.update({key: getattr(patient, key) for key in IDENTITY_COLUMNS})
    if form is not None:
        row.update(
            household_type=form.household_type,
            employment=form.employment,
            economic_status=form.economic_status,
            onset_date=form.onset_date,
            consent=form.consent,
        )
    consent = form.consent if form is not None else None
    if patient.status != rows.initial_status(consent) or patient.status_since != patient.registered_on:
        row["status_date"] = patient.status_since
    if last_change is not None and last_change.to_status == patient.status:
        row["lost_reason"] = last_change.lost_reason
        row["death_cause"] = last_change.death_cause
    return {key: cell(value) for key, value in row.items()}


TRANSFER_OUTCOME = {state: outcome for outcome, state in TRANSFER_STATE.items()}


def transfer_row(transfer: Transfer, patient_ref: str, *, identity: bool) -> Row:
    """A transfer in any state (version 2): accepted with its acceptance date, rejected or withdrawn with the
    date decided, pending with neither. Its reason is free text, which may name people: with identity only."""
    state = TransferState(transfer.state)
    accepted = state == TransferState.ACCEPTED
    outcome = TRANSFER_OUTCOME.get(state)
    reason = transfer.rejection_reason if state == TransferState.REJECTED else transfer.reason
    return {
        "patient_ref": patient_ref,
        "from_village_code": transfer.from_village_id,
        "to_village_code": transfer.to_village_id,
        "requested_on": transfer.requested_on,
        "accepted_on": transfer.decided_on if accepted else None,
        "outcome": str(outcome) if outcome is not None else None,
        "decided_on": transfer.decided_on if state in (TransferState.REJECTED, TransferState.WITHDRAWN) else None,
        "reason": cell(reason) if identity else None,
    }


def status_row(change: StatusChange, patient_ref: str, *, identity: bool) -> Row:
    """One change of status (the first is the status registration gave, on the registration day); its note is
    free text: with identity only."""
    return {
        "patient_ref": patient_ref,
        "date": change.effective_date,
        "status": change.to_status,
        "lost_reason": change.lost_reason,
        "death_cause": change.death_cause,
        "reason": cell(change.note) if identity else None,
    }


def followup_ref(source_ref: str | None, followup_uuid: object, clashing_refs: frozenset[str]) -> str:
    """A follow-up's ref in the workbook: the ref it was imported with (so that loading the export where it
    came from matches it again), else — and when that ref is shared by follow-ups of several patients, since a
    ref is unique in a workbook — its UUID."""
    return source_ref if source_ref and source_ref not in clashing_refs else str(followup_uuid)


def followup_row(followup: FollowUp, ref: str, patient_ref: str) -> Row:
    row: dict[str, object] = {
        "ref": ref,
        "patient_ref": patient_ref,
        "date": followup.date,
        "mode": followup.mode,
        "outcome": followup.outcome,
        "symptoms": ",".join(str(code) for code in followup.symptoms) or None,
        "family_support": 1 if followup.family_support else 0,
        "next_date": followup.next_date,
    }
    for key in (*rows.FOLLOWUP_CODED_COLUMNS, *SOCIAL_COLUMNS, *DANGER_COLUMNS, *OUTCOME_DETAILS):
        row[key] = getattr(followup, key)
    return {key: cell(value) for key, value in row.items()}


OUTCOME_DETAILS = ("lost_reason", "death_date", "death_cause")  # version 2: of a LOST or DEAD outcome


def medication_row(medication: MedicationRow, followup_ref: str) -> Row:
    row: dict[str, object] = {"followup_ref": followup_ref, "drug": medication.drug}
    for key in DOSE_COLUMNS:
        row[key] = getattr(medication, key)
    return {key: cell(value) for key, value in row.items()}


def rehab_row(participation: RehabParticipation, patient_ref: str) -> Row:
    return {
        "patient_ref": patient_ref,
        "provider_type": participation.provider_type,
        "start_date": participation.start_date,
        "end_date": participation.end_date,
    }


def health_check_row(check: HealthCheck, patient_ref: str) -> Row:
    day: dt.date = check.date
    return {"patient_ref": patient_ref, "date": day}


CASE_OPENING = {reason: opening for opening, reason in CASE_OPEN_REASON.items()}


def case_row(case: Case, patient_ref: str) -> Row:
    """A case-management episode; its ref is the one it was imported with, else its UUID (unique per patient)."""
    opened = [str(CASE_OPENING[CaseOpenReason(reason)]) for reason in case.opened_reasons]
    return {
        "ref": case.source_ref or str(case.uuid),
        "patient_ref": patient_ref,
        "opened_on": case.opened_on,
        "opened_because": ",".join(opened) or None,
        "closed_on": case.closed_on,
        "close_reason": case.close_reason or None,
        "review_on": case.review_date,
    }


def local_moment(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored moment as the local (Asia/Shanghai) date and time a cell holds (cells carry no time zone)."""
    return None if moment is None else timezone.localtime(moment).replace(tzinfo=None, microsecond=0)


def emergency_row(emergency: Emergency, patient_ref: str | None, *, identity: bool) -> Row:
    """An emergency handling, of a patient or (``patient_ref`` None) of a person not registered, whose identity
    is never exported; the place is free text that may be an address: with identity only."""
    return {
        "ref": emergency.source_ref or str(emergency.uuid),
        "patient_ref": patient_ref,
        "occurred_at": local_moment(emergency.occurred_at),
        "place": cell(emergency.place) if identity else None,
        "situations": ",".join(emergency.situations) or None,
        "risk_level": emergency.risk_level,
        "disposition": emergency.disposition or None,
        "completed_at": local_moment(emergency.completed_at),
        "village_code": emergency.area_id,
    }
