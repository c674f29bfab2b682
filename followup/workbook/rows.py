"""Parsing one row of each sheet into plain typed values; shared by the checking and the writing pass.

A patient row becomes the same ``registry.patients.values.Registration`` the registration form builds, with the
bounds of ``registry.patients.bounds``; a follow-up row the same ``followup.visits.values.FollowUpEntry`` the web
form builds, and a medication row a ``MedicationEntry``, with the bounds of ``followup.visits.bounds``.

Each ``parse_*`` reads every cell of a row through a :class:`RowCheck` (which records what is wrong) and checks
what one row alone can contradict: the ID number against sex and birth date, dates in order, clinical fields on
an attempt that did not reach the patient. Checks that need other rows (references, duplicates, the database)
are the validator's. A parsed row is returned even when some cell failed, so every problem of the row is found;
``RowCheck.failed`` tells whether it may be written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from casemgmt.areas import codes as area_codes
from followup import codes as fcodes
from followup.models import REACHED_ONLY_COLUMNS, WHOLE_NUMBER_FIELDS, DosingShape, dose_problems
from followup.visits import bounds
from followup.visits.drugs import dose_ceiling_problem
from followup.visits.values import FollowUpEntry, MedicationEntry
from registry import codes as rcodes
from registry.patients import bounds as patient_bounds
from registry.patients import idnumber
from registry.patients.values import PatientEntry, Registration, SupplementaryEntry

from .cells import RowCheck
from .schema import DANGER_COLUMNS, DOSE_COLUMNS, REF_MAX_LENGTH, SOCIAL_COLUMNS


def village_code(r: RowCheck, key: str, *, required: bool = True) -> str | None:
    code = r.text(key, max_length=12, required=required)
    if code is None:
        return None
    if not area_codes.is_valid_code(code) or area_codes.level_of(code) != area_codes.VILLAGE:
        r.add(key, _("区划代码“%(code)s”不是村(居)一级的12位代码。") % {"code": code})
        return None
    return code


def ref(r: RowCheck, key: str) -> str | None:
    return r.text(key, max_length=REF_MAX_LENGTH, required=True)


def national_id(r: RowCheck, today: dt.date) -> str | None:
    raw = r.text("national_id", max_length=patient_bounds.NATIONAL_ID_RAW_MAX_LENGTH, required=True)
    if raw is None:
        return None
    try:
        return idnumber.validate(raw, today)
    except idnumber.IdNumberError as exc:
        r.add("national_id", str(patient_bounds.ID_NUMBER_MESSAGES[str(exc)]))
        return None


def _text(r: RowCheck, key: str) -> str:
    return r.text(key, max_length=patient_bounds.TEXT_MAX_LENGTH[key]) or ""


def _coded(r: RowCheck, key: str) -> int | None:
    return _int_code(r.code(key, patient_bounds.SUPPLEMENTARY_CODED_FIELDS[key]))


def _int_code(value: object) -> int | None:
    return value if isinstance(value, int) else None


@dataclass(frozen=True, slots=True)
class ImportedStatus:
    """The patients row's status at the end of its history (the web changes a status on its own page)."""

    status: str
    date: dt.date | None = None
    lost_reason: int | None = None
    death_cause: int | None = None


@dataclass(frozen=True, slots=True)
class PatientRow:
    """A patients row: the typed registration the web form builds too (None when a cell it needs failed), the
    village it is held in and its status. ``national_id`` and ``registered_on`` are the keys of the checks
    across rows, read even when another cell of the row failed."""

    ref: str | None
    village_code: str | None
    national_id: str | None
    registered_on: dt.date | None
    registration: Registration | None
    status: ImportedStatus


def parse_patient(r: RowCheck) -> PatientRow:
    """A patients row as a ``Registration``: every cell within ``registry.patients.bounds``, sex and birth date
    taken from the ID number (and refused when their cells say otherwise), dates in order, status details only
    for their status."""
    today = r.reader.today
    row_ref = ref(r, "ref")
    number = national_id(r, today)
    name = r.text("name", max_length=patient_bounds.TEXT_MAX_LENGTH["name"], required=True)
    sex = _int_code(r.code("sex", patient_bounds.CODED_FIELDS["sex"]))
    birth_date = r.date("birth_date")
    phone = _text(r, "phone")
    village = village_code(r, "village_code")
    address, hukou_address = _text(r, "address"), _text(r, "hukou_address")
    household_type, employment = _coded(r, "household_type"), _coded(r, "employment")
    disorder = _int_code(r.code("disorder", patient_bounds.CODED_FIELDS["disorder"], required=True))
    diagnosis_date = r.date("diagnosis_date")
    diagnosis_hospital = _text(r, "diagnosis_hospital")
    onset_date = r.date("onset_date")
    registered_on = r.date("registered_on", required=True)
    consent = _coded(r, "consent")
    status_code = r.code("status", patient_bounds.STATUS)
    status = ImportedStatus(
        status=str(status_code) if status_code is not None else rcodes.Status.ACTIVE,
        date=r.date("status_date"),
        lost_reason=_int_code(r.code("lost_reason", patient_bounds.LOST_REASON)),
        death_cause=_int_code(r.code("death_cause", patient_bounds.DEATH_CAUSE)),
    )
    guardian_name, guardian_relation = _text(r, "guardian_name"), _text(r, "guardian_relation")
    guardian_phone = _text(r, "guardian_phone")
    economic_status = _coded(r, "economic_status")
    if number is not None:
        id_sex, id_birth = idnumber.sex_of(number), idnumber.birth_date_of(number)
        if sex is not None and sex != id_sex:
            r.add("sex", _("性别与身份证号不符（身份证号表示%(sex)s）。") % {"sex": rcodes.Sex(id_sex).label})
        if birth_date is not None and birth_date != id_birth:
            r.add("birth_date", _("出生日期与身份证号不符（身份证号表示%(day)s）。") % {"day": id_birth.isoformat()})
        sex, birth_date = id_sex, id_birth  # the ID number decides when the cells are empty
    for key, day in (("diagnosis_date", diagnosis_date), ("onset_date", onset_date), ("registered_on", registered_on)):
        if birth_date is not None and day is not None and day < birth_date:
            r.add(key, _("日期早于出生日期。"))
    if registered_on is not None and status.date is not None and status.date < registered_on:
        r.add("status_date", _("状态日期早于建档日期。"))
    if consent is None:  # unknown: a refusal is implied by the status, agreement otherwise
        consent = rcodes.Consent.REFUSE if status.status == rcodes.Status.REFUSED else rcodes.Consent.AGREE
    _check_status(r, status, consent)
    if number is None or name is None or sex is None or birth_date is None or disorder is None or not registered_on:
        return PatientRow(row_ref, village, number, registered_on, None, status)
    patient = PatientEntry(
        name=name,
        national_id=number,
        sex=sex,
        birth_date=birth_date,
        disorder=disorder,
        phone=phone,
        address=address,
        hukou_address=hukou_address,
        guardian_name=guardian_name,
        guardian_relation=guardian_relation,
        guardian_phone=guardian_phone,
        diagnosis_date=diagnosis_date,
        diagnosis_hospital=diagnosis_hospital,
    )
    supplementary = SupplementaryEntry(
        consent=consent,
        household_type=household_type,
        employment=employment,
        economic_status=economic_status,
        onset_date=onset_date,
        filled_on=registered_on,
    )
    registration = Registration(patient=patient, registered_on=registered_on, supplementary=supplementary)
    return PatientRow(row_ref, village, number, registered_on, registration, status)


def initial_status(consent: int | None) -> str:
    """The status at registration: REFUSED when consent was refused (registry.patients.services.initial_status)."""
    return rcodes.Status.REFUSED if consent == rcodes.Consent.REFUSE else rcodes.Status.ACTIVE


def _check_status(r: RowCheck, status: ImportedStatus, consent: int) -> None:
    if status.status != initial_status(consent) and status.date is None:
        r.add("status_date", _("状态为“%(status)s”时须填写状态日期。") % {"status": rcodes.Status(status.status).label})
    if status.lost_reason is not None and status.status != rcodes.Status.LOST:
        r.add("lost_reason", _("只有状态为失访（LOST）时才填写失访原因。"))
    if status.death_cause is not None and status.status != rcodes.Status.DEAD:
        r.add("death_cause", _("只有状态为死亡（DEAD）时才填写死亡原因。"))


@dataclass(frozen=True, slots=True)
class TransferKey:
    row: int
    from_village: str
    to_village: str
    requested_on: dt.date
    accepted_on: dt.date | None


def parse_transfer(r: RowCheck) -> tuple[str | None, TransferKey | None]:
    patient_ref = ref(r, "patient_ref")
    source = village_code(r, "from_village_code")
    target = village_code(r, "to_village_code")
    requested = r.date("requested_on", required=True)
    accepted = r.date("accepted_on")
    if source is not None and source == target:
        r.add("to_village_code", _("迁入与迁出为同一村(居)。"))
    if requested is not None and accepted is not None and accepted < requested:
        r.add("accepted_on", _("接收日期早于申请日期。"))
    if r.failed or source is None or target is None or requested is None:
        return patient_ref, None
    return patient_ref, TransferKey(r.number, source, target, requested, accepted)


# The coded columns of the followups sheet besides mode and outcome (exchange.md), their code lists from the bounds.
FOLLOWUP_CODED_COLUMNS = ("risk_level", "insight", "adherence", "hospitalisation", "classification", "referral")


@dataclass(frozen=True, slots=True)
class FollowUpRow:
    """A followups row: its refs and the typed follow-up (None when a required cell failed)."""

    ref: str | None
    patient_ref: str | None
    entry: FollowUpEntry | None

    @property
    def date(self) -> dt.date | None:
        return self.entry.date if self.entry is not None else None


def parse_followup(r: RowCheck) -> FollowUpRow:
    """A followups row as a ``FollowUpEntry``: every cell within ``followup.visits.bounds``; clinical cells on
    an attempt that did not reach the patient are refused (the sheet carries no details of other outcomes)."""
    row_ref, patient_ref = ref(r, "ref"), ref(r, "patient_ref")
    day = r.date("date", required=True)
    mode = r.code("mode", bounds.MODE, required=True)
    outcome = r.code("outcome", bounds.OUTCOME, required=True)
    values: dict[str, Any] = {
        "symptoms": tuple(r.code_list("symptoms", bounds.MULTI_FIELDS["symptoms"])),
        "family_support": bool(r.flag("family_support")),
    }
    for key in (*FOLLOWUP_CODED_COLUMNS, *SOCIAL_COLUMNS):
        values[key] = r.code(key, bounds.CODED_FIELDS[key])
    for key in DANGER_COLUMNS:
        values[key] = r.count(key)
    values["next_date"] = r.later_date("next_date", after=day)
    if outcome is not None and outcome != fcodes.Outcome.REACHED:
        for key in REACHED_ONLY_COLUMNS:
            if r.cells.get(key) is not None:
                r.add(key, _("未随访到（或失访、死亡）的记录不能填写此项。"))
    if day is None or mode is None or outcome is None:
        return FollowUpRow(row_ref, patient_ref, None)
    return FollowUpRow(row_ref, patient_ref, FollowUpEntry(date=day, mode=mode, outcome=outcome, **values))


def parse_medication(r: RowCheck) -> tuple[str | None, MedicationEntry | None]:
    """A medications row as a ``MedicationEntry``; the dosing shape follows from the filled columns, and the row
    must be complete for it with every dose within the bounds (None when it is not)."""
    followup_ref = ref(r, "followup_ref")
    values = {key: r.decimal(key) for key in DOSE_COLUMNS}
    drug = r.text("drug", max_length=bounds.DRUG_MAX_LENGTH, required=True)
    filled = {key for key, value in values.items() if value is not None}
    if filled & {"depot_every_weeks", "depot_mg"}:
        shape = DosingShape.DEPOT
    elif filled & {"times_per_day", "mg_per_dose"}:
        shape = DosingShape.FREQUENCY
    else:
        shape = DosingShape.SCHEDULE
    if not r.failed:
        for message in dose_problems(shape, values) or [dose_ceiling_problem(drug or "", shape, values)]:
            if message:
                r.add(None, message)
    if r.failed or drug is None:
        return followup_ref, None
    doses: dict[str, Any] = {
        key: None if value is None else int(value) if key in WHOLE_NUMBER_FIELDS else Decimal(value)
        for key, value in values.items()
    }
    return followup_ref, MedicationEntry(drug=drug, shape=shape, **doses)


@dataclass(frozen=True, slots=True)
class RehabRow:
    provider_type: str
    start_date: dt.date
    end_date: dt.date | None


def parse_rehab(r: RowCheck) -> tuple[str | None, RehabRow | None]:
    """A rehab row (None when its provider type or start date failed)."""
    patient_ref = ref(r, "patient_ref")
    provider = r.code("provider_type", fcodes.RehabProvider, required=True)
    start, end = r.date("start_date", required=True), r.date("end_date")
    if start is not None and end is not None and end < start:
        r.add("end_date", _("结束日期早于开始日期。"))
    if not isinstance(provider, str) or start is None:
        return patient_ref, None
    return patient_ref, RehabRow(provider, start, end)


def parse_health_check(r: RowCheck) -> tuple[str | None, dt.date | None]:
    return ref(r, "patient_ref"), r.date("date", required=True)
