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
from followup.models import (
    REACHED_ONLY_COLUMNS,
    WHOLE_NUMBER_FIELDS,
    CaseCloseReason,
    DosingShape,
    EmergencyDisposition,
    EmergencySituation,
    dose_problems,
)
from followup.visits import bounds
from followup.visits.drugs import dose_ceiling_problem
from followup.visits.values import FollowUpEntry, MedicationEntry
from registry import codes as rcodes
from registry.models import TransferState
from registry.patients import bounds as patient_bounds
from registry.patients import idnumber
from registry.patients.values import PatientEntry, Registration, SupplementaryEntry

from .cells import RowCheck
from .schema import (
    CASE_OPEN_REASON,
    DANGER_COLUMNS,
    DOSE_COLUMNS,
    REF_MAX_LENGTH,
    SOCIAL_COLUMNS,
    TRANSFER_STATE,
    CaseOpening,
    TransferOutcome,
)

TRANSFER_REASON_MAX_LENGTH = 200  # Transfer.reason and Transfer.rejection_reason
STATUS_NOTE_MAX_LENGTH = 200  # StatusChange.note
PLACE_MAX_LENGTH = 200  # Emergency.place


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
    """A transfers row. ``accepted_on`` is set for an accepted transfer only; ``state`` is the Transfer's state
    (version 2 adds rejected and withdrawn ones, with their ``decided_on``); ``reason`` is why the patient moves,
    or why the receiver rejected."""

    row: int
    from_village: str
    to_village: str
    requested_on: dt.date
    accepted_on: dt.date | None
    state: str = TransferState.PENDING
    decided_on: dt.date | None = None
    reason: str = ""

    @property
    def pending(self) -> bool:
        return self.state == TransferState.PENDING


def parse_transfer(r: RowCheck) -> tuple[str | None, TransferKey | None]:
    patient_ref = ref(r, "patient_ref")
    source = village_code(r, "from_village_code")
    target = village_code(r, "to_village_code")
    requested = r.date("requested_on", required=True)
    accepted = r.date("accepted_on")
    outcome = r.code("outcome", TransferOutcome)
    decided = r.date("decided_on")
    reason = r.text("reason", max_length=TRANSFER_REASON_MAX_LENGTH) or ""
    if source is not None and source == target:
        r.add("to_village_code", _("迁入与迁出为同一村(居)。"))
    if requested is not None and accepted is not None and accepted < requested:
        r.add("accepted_on", _("接收日期早于申请日期。"))
    if requested is not None and decided is not None and decided < requested:
        r.add("decided_on", _("处理日期早于申请日期。"))
    state = _transfer_state(r, outcome, accepted, decided, reason)
    if r.failed or source is None or target is None or requested is None:
        return patient_ref, None
    if state == TransferState.ACCEPTED:
        decided = accepted
    return patient_ref, TransferKey(r.number, source, target, requested, accepted, state, decided, reason)


def _transfer_state(
    r: RowCheck, outcome: object, accepted: dt.date | None, decided: dt.date | None, reason: str
) -> str:
    """The transfer's state from the outcome column (empty: accepted when accepted_on is set, else pending)."""
    if outcome is None:
        outcome = TransferOutcome.ACCEPTED if accepted is not None else None
    if outcome is None or outcome == TransferOutcome.ACCEPTED:
        if outcome is not None and accepted is None:
            r.add("accepted_on", _("结果为已接收（ACCEPTED）时须填写接收日期。"))
        if decided is not None and decided != accepted:
            r.add("decided_on", _("处理日期只用于拒绝或撤回的迁移（已接收的填写接收日期）。"))
        return TransferState.ACCEPTED if outcome is not None else TransferState.PENDING
    if accepted is not None:
        r.add("accepted_on", _("被拒绝或撤回的迁移不能填写接收日期。"))
    if decided is None:
        r.add("decided_on", _("结果为拒绝或撤回时须填写处理日期。"))
    if outcome == TransferOutcome.REJECTED and not reason:
        r.add("reason", _("拒绝迁移时须填写原因。"))
    return TRANSFER_STATE[TransferOutcome(str(outcome))]


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
    values.update(_outcome_details(r, outcome, day))
    if outcome is not None and outcome != fcodes.Outcome.REACHED:
        for key in REACHED_ONLY_COLUMNS:
            if r.cells.get(key) is not None:
                r.add(key, _("未随访到（或失访、死亡）的记录不能填写此项。"))
    if day is None or mode is None or outcome is None:
        return FollowUpRow(row_ref, patient_ref, None)
    return FollowUpRow(row_ref, patient_ref, FollowUpEntry(date=day, mode=mode, outcome=outcome, **values))


def _outcome_details(r: RowCheck, outcome: object, day: dt.date | None) -> dict[str, Any]:
    """Version 2: the reason of a LOST outcome, the date and cause of a DEAD one (each may be unknown)."""
    lost_reason = _int_code(r.code("lost_reason", bounds.LOST_REASON))
    death_date = r.date("death_date")
    death_cause = _int_code(r.code("death_cause", bounds.DEATH_CAUSE))
    if lost_reason is not None and outcome != fcodes.Outcome.LOST:
        r.add("lost_reason", _("只有随访结果为失访（LOST）时才填写失访原因。"))
    for key, value in (("death_date", death_date), ("death_cause", death_cause)):
        if value is not None and outcome != fcodes.Outcome.DEAD:
            r.add(key, _("只有随访结果为死亡（DEAD）时才填写死亡日期和死亡原因。"))
    if death_date is not None and day is not None and death_date > day:
        r.add("death_date", _("死亡日期不能晚于随访日期。"))
    return {"lost_reason": lost_reason, "death_date": death_date, "death_cause": death_cause}


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
    provider = r.keyed_code("provider_type", fcodes.RehabProvider, required=True)
    start, end = r.date("start_date", required=True), r.date("end_date")
    if start is not None and end is not None and end < start:
        r.add("end_date", _("结束日期早于开始日期。"))
    if not isinstance(provider, str) or start is None:
        return patient_ref, None
    return patient_ref, RehabRow(provider, start, end)


def parse_health_check(r: RowCheck) -> tuple[str | None, dt.date | None]:
    return ref(r, "patient_ref"), r.date("date", required=True)


@dataclass(frozen=True, slots=True)
class StatusRow:
    """A status_history row: one change of status, in the order of the sheet."""

    row: int
    date: dt.date
    status: str
    lost_reason: int | None
    death_cause: int | None
    note: str


def parse_status_change(r: RowCheck) -> tuple[str | None, StatusRow | None]:
    patient_ref = ref(r, "patient_ref")
    day = r.date("date", required=True)
    status = r.code("status", patient_bounds.STATUS, required=True)
    lost_reason = _int_code(r.code("lost_reason", patient_bounds.LOST_REASON))
    death_cause = _int_code(r.code("death_cause", patient_bounds.DEATH_CAUSE))
    note = r.text("reason", max_length=STATUS_NOTE_MAX_LENGTH) or ""
    if lost_reason is not None and status != rcodes.Status.LOST:
        r.add("lost_reason", _("只有状态为失访（LOST）时才填写失访原因。"))
    if death_cause is not None and status != rcodes.Status.DEAD:
        r.add("death_cause", _("只有状态为死亡（DEAD）时才填写死亡原因。"))
    if day is None or status is None:  # a row with another failed cell is still checked against its patient
        return patient_ref, None
    return patient_ref, StatusRow(r.number, day, str(status), lost_reason, death_cause, note)


@dataclass(frozen=True, slots=True)
class CaseRow:
    """A cases row: one case-management episode (domain.md §8)."""

    row: int
    ref: str
    opened_on: dt.date
    reasons: tuple[str, ...]
    closed_on: dt.date | None
    close_reason: str
    review_on: dt.date | None


def parse_case(r: RowCheck) -> tuple[str | None, CaseRow | None]:
    row_ref, patient_ref = ref(r, "ref"), ref(r, "patient_ref")
    opened = r.date("opened_on", required=True)
    reasons = tuple(CASE_OPEN_REASON[CaseOpening(code)].value for code in r.keyed_codes("opened_because", CaseOpening))
    closed = r.date("closed_on")
    close_reason = r.keyed_code("close_reason", CaseCloseReason)
    review = r.later_date("review_on", after=opened)
    if opened is not None and closed is not None and closed < opened:
        r.add("closed_on", _("结案日期早于开案日期。"))
    if closed is not None and close_reason is None and r.cells.get("close_reason") is None:
        r.add("close_reason", _("已结案的个案须填写结案原因。"))
    if closed is None and close_reason is not None:
        r.add("closed_on", _("填写了结案原因，须同时填写结案日期。"))
    if row_ref is None or opened is None:  # a row with another failed cell is still checked across rows
        return patient_ref, None
    return patient_ref, CaseRow(r.number, row_ref, opened, reasons, closed, str(close_reason or ""), review)


@dataclass(frozen=True, slots=True)
class EmergencyRow:
    """An emergencies row (domain.md §9); ``patient_ref`` is None for a person not registered."""

    row: int
    ref: str
    patient_ref: str | None
    occurred_at: dt.datetime
    place: str
    situations: tuple[str, ...]
    risk_level: int | None
    disposition: str
    completed_at: dt.datetime | None
    village_code: str | None


def parse_emergency(r: RowCheck) -> tuple[str | None, EmergencyRow | None]:
    row_ref = ref(r, "ref")
    patient_ref = r.text("patient_ref", max_length=REF_MAX_LENGTH)
    occurred = r.moment("occurred_at", required=True)
    place = r.text("place", max_length=PLACE_MAX_LENGTH) or ""
    situations = tuple(r.keyed_codes("situations", EmergencySituation))
    risk_level = _int_code(r.code("risk_level", bounds.CODED_FIELDS["risk_level"]))
    disposition = r.keyed_code("disposition", EmergencyDisposition)
    completed = r.moment("completed_at")
    village = village_code(r, "village_code", required=False)
    if occurred is not None and completed is not None and completed < occurred:
        r.add("completed_at", _("完成时间早于发生时间。"))
    if patient_ref is None and village is None and r.cells.get("village_code") is None:
        r.add("village_code", _("未登记人员的处置记录须填写所属村(居)区划代码。"))
    if row_ref is None or occurred is None:  # a row with another failed cell is still checked across rows
        return patient_ref, None
    return patient_ref, EmergencyRow(
        r.number, row_ref, patient_ref, occurred, place, situations, risk_level, str(disposition or ""), completed,
        village,
    )  # fmt: skip
