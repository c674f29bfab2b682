"""One row of each registry-workbook sheet from the stored records, as a mapping from the column keys of
``followup.workbook.schema`` (the single source of the keys) to typed cell values.

The values are what ``followup.workbook.rows`` parses back: codes as numbers, dates as dates, flags as 1/0,
symptom codes separated by commas. Text the product writes is made inert (``casemgmt.exports``), so no cell is
ever evaluated as a formula. The identity columns are filled only when the export may disclose identity.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from casemgmt.exports import ExportCell, inert_cell
from followup.models import FollowUp, HealthCheck, MedicationRow, RehabParticipation
from registry.models import Patient, StatusChange, SupplementaryForm, Transfer

from . import rows
from .schema import DANGER_COLUMNS, DOSE_COLUMNS, SOCIAL_COLUMNS

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
    row: dict[str, Any] = {
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


def transfer_row(transfer: Transfer, patient_ref: str) -> Row:
    return {
        "patient_ref": patient_ref,
        "from_village_code": transfer.from_village_id,
        "to_village_code": transfer.to_village_id,
        "requested_on": transfer.requested_on,
        "accepted_on": transfer.decided_on if transfer.state == "accepted" else None,
    }


def followup_ref(source_ref: str | None, followup_uuid: object, clashing_refs: frozenset[str]) -> str:
    """A follow-up's ref in the workbook: the ref it was imported with (so that loading the export where it
    came from matches it again), else — and when that ref is shared by follow-ups of several patients, since a
    ref is unique in a workbook — its UUID."""
    return source_ref if source_ref and source_ref not in clashing_refs else str(followup_uuid)


def followup_row(followup: FollowUp, ref: str, patient_ref: str) -> Row:
    row: dict[str, Any] = {
        "ref": ref,
        "patient_ref": patient_ref,
        "date": followup.date,
        "mode": followup.mode,
        "outcome": followup.outcome,
        "symptoms": ",".join(str(code) for code in followup.symptoms) or None,
        "family_support": 1 if followup.family_support else 0,
        "next_date": followup.next_date,
    }
    for key in (*rows.FOLLOWUP_CODED_COLUMNS, *SOCIAL_COLUMNS, *DANGER_COLUMNS):
        row[key] = getattr(followup, key)
    return {key: cell(value) for key, value in row.items()}


def medication_row(medication: MedicationRow, followup_ref: str) -> Row:
    row: dict[str, Any] = {"followup_ref": followup_ref, "drug": medication.drug}
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
