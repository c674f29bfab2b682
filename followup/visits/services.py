"""Writing follow-ups, rehabilitation participation and health checks.

Callers (views, imports, the demo) have already checked that ``actor`` may write the patient, normally through
``registry.access.visibility.get_patient_for_user(request, uuid, write=True)``; nothing here widens or narrows
visibility.

Every function validates the whole submission first and raises ``FollowUpError`` with a Chinese message per
field, so a form can show every problem at once and nothing is written. Everything a submission writes (the
follow-up, its medication rows, the care state, a status change, the audit event) commits together or not at
all.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.accounts.models import User
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from followup import codes
from followup.cases import services as case_services
from followup.models import (
    DOSE_FIELDS,
    SHAPE_FIELDS,
    WHOLE_NUMBER_FIELDS,
    FollowUp,
    HealthCheck,
    MedicationRow,
    PatientCareState,
    RehabParticipation,
    dose_problems,
)
from followup.visits import rules
from registry import codes as registry_codes
from registry.models import Patient
from registry.patients import services as registry_services
from registry.signals import announce_patient_change

Errors = dict[str, list[str]]


class FollowUpError(Exception):
    """Invalid data: ``errors`` maps a field name (``medication-N`` for the N-th medication row, ``__all__`` for
    the submission as a whole) to Chinese messages."""

    def __init__(self, errors: Errors) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


# --- what the form holds -----------------------------------------------------------------------------------------

# Single-choice clinical items and their code lists.
CODED_FIELDS: dict[str, type[models.Choices]] = {
    "risk_level": codes.RiskLevel,
    "insight": codes.Insight,
    "sleep": codes.Grade,
    "diet": codes.Grade,
    "social_selfcare": codes.Grade,
    "social_housework": codes.Grade,
    "social_work": codes.WorkGrade,
    "social_learning": codes.Grade,
    "social_contact": codes.Grade,
    "locking": codes.Locking,
    "hospitalisation": codes.Hospitalisation,
    "lab": codes.Lab,
    "adherence": codes.Adherence,
    "adverse_reaction": codes.AdverseReaction,
    "treatment_effect": codes.TreatmentEffect,
    "referral": codes.Referral,
    "classification": codes.Classification,
}
MULTI_FIELDS: dict[str, type[models.Choices]] = {
    "symptoms": codes.Symptom,
    "rehabilitation": codes.Rehabilitation,
}
COUNT_FIELDS = codes.DANGER_NAMES
COUNT_MAX = 99
FLAG_FIELDS = ("obvious_psychotic_symptoms", "adverse_reaction_severe", "severe_physical_illness", "family_support")
# A text (or date) that belongs to one answer: (field, the item it depends on, the answer that asks for it,
# whether it is then required). Entered for another answer it is dropped, like the form hides it.
DEPENDENT_FIELDS: tuple[tuple[str, str, int, bool], ...] = (
    ("symptom_other", "symptoms", registry_codes.Symptom.OTHER, True),
    ("last_discharge_date", "hospitalisation", codes.Hospitalisation.BEFORE, True),
    ("lab_text", "lab", codes.Lab.DONE, True),
    ("adverse_reaction_text", "adverse_reaction", codes.AdverseReaction.PRESENT, True),
    ("adverse_reaction_severe", "adverse_reaction", codes.AdverseReaction.PRESENT, False),
    ("referral_reason", "referral", codes.Referral.YES, True),
    ("referral_institution", "referral", codes.Referral.YES, True),
    ("referral_department", "referral", codes.Referral.YES, False),
    ("rehabilitation_other", "rehabilitation", codes.Rehabilitation.OTHER, True),
)
TEXT_FIELDS = (
    "symptom_other", "lab_text", "adverse_reaction_text", "referral_reason", "referral_institution",
    "referral_department", "rehabilitation_other", "next_date_reason",
)  # fmt: skip
CLINICAL_FIELDS = (
    *CODED_FIELDS, *MULTI_FIELDS, *COUNT_FIELDS, *FLAG_FIELDS, *TEXT_FIELDS, "last_discharge_date", "next_date",
)  # fmt: skip
# Required at a reached follow-up. Risk level and insight may be missing only for a patient in hospital, who
# often cannot be assessed; such a follow-up still counts as complete (domain.md §11).
REQUIRED_WHEN_REACHED = (
    "contacts",
    "hospitalisation",
    "risk_level",
    "insight",
    "adherence",
    "classification",
    "next_date",
)
ASSESSABLE_ONLY_OUTSIDE_HOSPITAL = ("risk_level", "insight")
# What the care-state rules read of each follow-up (rules.Attempt), in its field order after the key.
ATTEMPT_COLUMNS = ("pk", "date", "outcome", "risk_level", "classification", "next_date", "hospitalisation")


# --- small value parsers -----------------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    """Not answered. (0 is an answer: risk level 0, hospitalisation 0 未住院.)"""
    return value is None or value in ("", [], ())


def _entered(name: str, value: Any) -> bool:
    """Something a not-reached attempt must not carry: any answer but a blank, an unticked box or a zero count
    (the counts' default). A coded 0 is an answer (hospitalisation 0 未住院)."""
    zero_count = name in COUNT_FIELDS and type(value) is int and value == 0
    return not (_missing(value) or value is False or zero_count)


def _code(value: Any) -> int | None:
    """A code as an int; digit strings (imports, hand-built dicts) are accepted, anything else is not a code."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value)
    return None


def _date(value: Any) -> dt.date | None:
    return value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else None


def _text_problem(value: str, limit: int) -> str:
    """Too long for its column, or holding a NUL character (PostgreSQL refuses those in text)."""
    if "\x00" in value:
        return _("含有无效字符。")
    if limit and len(value) > limit:
        return _("最多%(limit)s个字。") % {"limit": limit}
    return ""


def _max_length(model: type[models.Model], name: str) -> int:
    return int(model._meta.get_field(name).max_length or 0)  # type: ignore[union-attr]


class _Form:
    """Collects cleaned values and every error of one submission (so all problems are reported at once)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.values: dict[str, Any] = {}
        self.errors: Errors = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def date(self, name: str, *, required_message: str = "") -> dt.date | None:
        raw = self.raw(name)
        if raw in (None, ""):
            if required_message:
                self.add(name, required_message)
            return None
        day = _date(raw)
        if day is None:
            self.add(name, _("请输入有效日期（年-月-日）。"))
        return day

    def code(self, name: str, choices: type[models.Choices]) -> int | None:
        raw = self.raw(name)
        if raw in (None, ""):
            return None
        value = _code(raw)
        if value is None or value not in choices.values:
            self.add(name, _("请从列表中选择。"))
            return None
        return value

    def codes(self, name: str, choices: type[models.Choices]) -> list[int]:
        raw = self.raw(name)
        if raw in (None, ""):
            return []
        items = [_code(item) for item in raw] if isinstance(raw, list | tuple) else [None]
        if any(item is None or item not in choices.values for item in items):
            self.add(name, _("请从列表中选择。"))
            return []
        return sorted({item for item in items if item is not None})

    def count(self, name: str) -> int:
        raw = self.raw(name)
        if raw in (None, ""):
            return 0
        try:
            value = int(raw.strip()) if isinstance(raw, str) else raw
        except ValueError:
            value = None
        if type(value) is not int:
            self.add(name, _("次数必须是整数。"))
            return 0
        if value < 0:
            self.add(name, _("次数不能为负数。"))
        elif value > COUNT_MAX:
            self.add(name, _("次数不能超过%(limit)s。") % {"limit": COUNT_MAX})
        return value

    def text(self, model: type[models.Model], name: str) -> str:
        value = str(self.raw(name) or "").strip()
        problem = _text_problem(value, _max_length(model, name))
        if problem:
            self.add(name, problem)
        return value


# --- medication rows ---------------------------------------------------------------------------------------------


def _number(value: Any, whole: bool) -> Any:
    """Decimal (or int for counts) from a form value; the raw value back when it is not a number at all."""
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return value
    if whole and number.is_finite() and number == number.to_integral_value():
        return int(number)
    return number


def clean_medications(rows: Sequence[dict[str, Any]]) -> tuple[list[MedicationRow], Errors]:
    """Build medication rows (item 19); each fills exactly its dosing shape's fields with positive numbers.

    Errors are keyed ``medication-1``, ``medication-2``… in the order the rows were given.
    """
    built: list[MedicationRow] = []
    errors: Errors = {}
    limit = _max_length(MedicationRow, "drug")
    for index, row in enumerate(rows, start=1):
        drug = str(row.get("drug") or "").strip()
        shape = str(row.get("shape") or "")
        values = {name: _number(row.get(name), name in WHOLE_NUMBER_FIELDS) for name in DOSE_FIELDS}
        problems: list[str] = []
        if not drug:
            problems.append(_("请填写药物名称。"))
        elif problem := _text_problem(drug, limit):
            problems.append(_("药物名称：%(problem)s") % {"problem": problem})
        problems += dose_problems(shape, values)
        if problems:
            errors[f"medication-{index}"] = problems
        else:
            own = SHAPE_FIELDS[shape]
            built.append(MedicationRow(drug=drug, shape=shape, **{name: values[name] for name in own}))
    return built, errors


# --- the follow-up -----------------------------------------------------------------------------------------------


def suggestion_for(data: dict[str, Any]) -> rules.Suggestion:
    """The §7 suggestion for a form's values (codes as ints or digit strings; missing items count as unknown)."""
    social = [_code(data.get(name)) for name, _label in codes.SOCIAL_FIELDS]
    return rules.suggest_classification(
        rules.Assessment(
            risk_level=_code(data.get("risk_level")),
            symptoms=tuple(data.get("symptoms") or ()),
            obvious_psychotic_symptoms=bool(data.get("obvious_psychotic_symptoms")),
            insight=_code(data.get("insight")),
            social=[s for s in social if s is not None],
            severe_adverse_reaction=bool(data.get("adverse_reaction_severe")),
            severe_physical_illness=bool(data.get("severe_physical_illness")),
        )
    )


def attempts_of(patient: Patient) -> list[rules.Attempt]:
    """The patient's follow-ups as the pure rules take them (one query)."""
    return [_attempt(row) for row in FollowUp.objects.filter(patient=patient).values_list(*ATTEMPT_COLUMNS)]


def _attempt(row: Sequence[Any]) -> rules.Attempt:
    """A values_list row of ATTEMPT_COLUMNS as a rules.Attempt."""
    pk, date, outcome, risk, klass, nxt, hospital = row
    return rules.Attempt(
        date, outcome, pk, risk_level=risk, classification=klass, next_date=nxt, hospitalisation=hospital
    )


def previous_reached_classification(patient: Patient, visit_date: dt.date | None = None) -> int | None:
    """The class of the latest reached follow-up (on or before ``visit_date`` when given): the next-date rule's
    "previous reached follow-up"."""
    return rules.previous_reached_classification(attempts_of(patient), visit_date or dt.date.max)


def _check_patient(form: _Form, patient: Patient) -> None:
    if patient.status in (registry_codes.Status.DEAD, registry_codes.Status.CLOSED):
        form.add(
            "__all__", _("该患者档案状态为“%(status)s”，不能再记录随访。") % {"status": patient.get_status_display()}
        )


def _check_common(form: _Form, patient: Patient, today: dt.date) -> None:
    visit = form.date("date", required_message=_("请填写随访日期。"))
    if visit is not None and visit > today:
        form.add("date", _("随访日期不能晚于今天。"))
    elif visit is not None and visit < patient.registered_on:
        form.add("date", _("随访日期不能早于建档日期。"))
    form.values["date"] = visit
    outcome = form.raw("outcome")
    if outcome not in codes.Outcome.values:
        form.add("outcome", _("请选择随访结果。"))
    form.values["outcome"] = outcome
    mode = form.code("mode", codes.Mode)
    if mode is None and "mode" not in form.errors:
        form.add("mode", _("请选择随访方式。"))
    form.values["mode"] = mode
    form.values["contacts"] = form.codes("contacts", codes.Contact)


def _clean_reached(form: _Form) -> None:
    """Every clinical item of a reached follow-up, typed and range-checked, with the items it requires."""
    values = form.values
    for name, choices in CODED_FIELDS.items():
        values[name] = form.code(name, choices)
    for name, choices in MULTI_FIELDS.items():
        values[name] = form.codes(name, choices)
    for name in COUNT_FIELDS:
        values[name] = form.count(name)
    for name in FLAG_FIELDS:
        values[name] = bool(form.raw(name))
    for name in TEXT_FIELDS:
        values[name] = form.text(FollowUp, name)
    values["last_discharge_date"] = form.date("last_discharge_date")
    values["next_date"] = form.date("next_date")
    values["self_harm_level_confirmed"] = bool(form.raw("self_harm_level_confirmed"))
    in_hospital = values["hospitalisation"] == codes.Hospitalisation.NOW
    for name in REQUIRED_WHEN_REACHED:
        if name in form.errors or (in_hospital and name in ASSESSABLE_ONLY_OUTSIDE_HOSPITAL):
            continue
        if _missing(values.get(name)):
            form.add(name, _("随访到患者时此项必填。"))
    _clean_dependent(form)
    visit, discharge = values["date"], values["last_discharge_date"]
    if discharge and visit and discharge > visit:
        form.add("last_discharge_date", _("末次出院时间不能晚于随访日期。"))
    if not values["self_harm_level_confirmed"] and rules.needs_self_harm_confirmation(
        values["risk_level"], values["self_harm"], values["suicide_attempt"]
    ):
        form.add(
            "risk_level",
            _("记录了自伤或自杀未遂，但危险性评估低于4级。请核实并勾选确认，危险性等级不会被自动修改。"),
        )
    values["self_harm_level_confirmed"] = values["self_harm_level_confirmed"] and (
        values["self_harm"] > 0 or values["suicide_attempt"] > 0
    )


def _clean_dependent(form: _Form) -> None:
    """A detail required by one answer (discharge date for 曾住院, text for 有 …); dropped for other answers."""
    values = form.values
    for name, parent, answer, required in DEPENDENT_FIELDS:
        chosen = values.get(parent)
        applies = answer in chosen if isinstance(chosen, list) else chosen == answer
        if not applies:
            values[name] = _blank(name)
        elif required and _missing(values[name]) and name not in form.errors:
            form.add(name, _required_detail_message(name, parent, answer))


def _blank(name: str) -> Any:
    if name in FLAG_FIELDS:
        return False
    return "" if name in TEXT_FIELDS else None


def _required_detail_message(name: str, parent: str, answer: int) -> str:
    if name == "last_discharge_date":
        return _("“曾住院，现未住院”须填写末次出院时间。")
    choices = CODED_FIELDS.get(parent) or MULTI_FIELDS[parent]
    return _("选择“%(answer)s”时须填写此项。") % {"answer": dict(choices.choices)[answer]}


def _check_schedule(form: _Form, history: Sequence[rules.Attempt]) -> None:
    """The system's suggestion (stored beside the doctor's choice) and the next date. Runs once the rest is valid:
    it needs a date, a class and a next date."""
    values = form.values
    visit: dt.date = values["date"]
    values["suggested_classification"] = suggestion_for(values).classification
    previous = rules.previous_reached_classification(history, visit)
    suggested = rules.next_followup_date(values["classification"], visit, previous)
    values["suggested_next_date"] = suggested
    verdict = rules.check_next_date(values["next_date"], suggested, visit)
    if verdict is rules.NextDate.NOT_AFTER_VISIT:
        form.add("next_date", _("下次随访日期须晚于本次随访日期。"))
    elif verdict is rules.NextDate.NEEDS_REASON and not values["next_date_reason"]:
        form.add("next_date", _("下次随访日期晚于建议日期（%(date)s），须说明理由。") % {"date": suggested})
    elif verdict is rules.NextDate.ACCEPTED:
        values["next_date_reason"] = ""


def _clean_attempt(form: _Form, patient: Patient, history: Sequence[rules.Attempt], has_medications: bool) -> None:
    """A not-reached, lost or dead attempt: no clinical item, and the outcome's own details."""
    if has_medications or any(_entered(name, form.raw(name)) for name in CLINICAL_FIELDS):
        form.add("outcome", _("未随访到患者时不能填写临床项目和用药。"))
    outcome, visit = form.values["outcome"], form.values["date"]
    if outcome == codes.Outcome.LOST:
        form.values["lost_reason"] = form.code("lost_reason", codes.LostReason)
        if form.values["lost_reason"] is None and "lost_reason" not in form.errors:
            form.add("lost_reason", _("请选择失访原因。"))
    if outcome != codes.Outcome.DEAD:
        return
    death = form.date("death_date", required_message=_("请填写死亡日期。"))
    if death is not None and visit is not None and death > visit:
        form.add("death_date", _("死亡日期不能晚于随访日期。"))
    elif death is not None and death < patient.registered_on:
        form.add("death_date", _("死亡日期不能早于建档日期。"))
    elif death is not None and any(a.date > death for a in history):
        form.add("death_date", _("死亡日期之后已有随访记录，请核实。"))
    cause = form.code("death_cause", codes.DeathCause)
    if cause is None and "death_cause" not in form.errors:
        form.add("death_cause", _("请选择死亡原因。"))
    subcause = form.code("death_subcause", codes.PhysicalDeathCause) if cause == codes.DeathCause.PHYSICAL else None
    if cause == codes.DeathCause.PHYSICAL and subcause is None and "death_subcause" not in form.errors:
        form.add("death_subcause", _("死于躯体疾病时请选择具体疾病类别。"))
    form.values.update(death_date=death, death_cause=cause, death_subcause=subcause)


def validate(
    patient: Patient,
    data: dict[str, Any],
    medications: Sequence[dict[str, Any]],
    today: dt.date,
    *,
    history: Sequence[rules.Attempt] | None = None,
) -> tuple[dict[str, Any], list[MedicationRow]]:
    """Check a whole submission without writing; returns the FollowUp column values and unsaved medication rows,
    or raises FollowUpError listing every problem.

    ``history`` is the patient's follow-ups (``attempts_of``); ``record_followup`` passes it after locking the
    patient, so the previous class and the death-date check see a settled history.
    """
    history = attempts_of(patient) if history is None else history
    form = _Form(data)
    _check_patient(form, patient)
    _check_common(form, patient, today)
    rows: list[MedicationRow] = []
    if form.values["outcome"] == codes.Outcome.REACHED:
        _clean_reached(form)
        rows, medication_errors = clean_medications(medications)
        form.errors.update(medication_errors)
        if not form.errors:
            _check_schedule(form, history)
    else:
        _clean_attempt(form, patient, history, bool(medications))
    if form.errors:
        raise FollowUpError(form.errors)
    return form.values, rows


# --- care state and status ---------------------------------------------------------------------------------------


def _state_values(snapshot: rules.CareSnapshot) -> dict[str, Any]:
    return {
        "risk_level": snapshot.risk_level,
        "classification": snapshot.classification,
        "next_due_date": snapshot.next_due_date,
        "last_followup_date": snapshot.last_followup_date,
        "last_reached_date": snapshot.last_reached_date,
        "last_reached_classification": snapshot.last_reached_classification,
        "consecutive_not_reached": snapshot.consecutive_not_reached,
        "last_complete_followup_id": snapshot.last_complete_key,
    }


def refresh_care_state(patient: Patient, history: Sequence[rules.Attempt] | None = None) -> PatientCareState:
    """Recompute the patient's PatientCareState from their whole follow-up history (``rules.care_snapshot``).

    Called by ``record_followup``; call it directly to rebuild a state (the result is the same either way).
    """
    snapshot = rules.care_snapshot(attempts_of(patient) if history is None else history)
    state, _created = PatientCareState.objects.update_or_create(patient=patient, defaults=_state_values(snapshot))
    return state


def rebuild_care_states(*, batch_size: int = 1000) -> tuple[int, int]:
    """Recompute every patient's care state from the follow-ups; returns (patients checked, states changed).

    The incremental path (``record_followup``) and this rebuild use the same ``rules.care_snapshot``, so a
    rebuild changes nothing unless rows were written around the service (an import, a repair). Works in
    batches of patients, a few queries each, so a province's history never sits in memory at once. The care
    state is derived data: no audit event, as nothing a person entered changes.
    """
    checked = changed = last = 0
    while True:
        chunk = list(
            FollowUp.objects.filter(patient_id__gt=last)
            .order_by("patient_id")
            .values_list("patient_id", flat=True)
            .distinct()[:batch_size]
        )
        if not chunk:
            return checked, changed
        last = chunk[-1]
        checked, changed = checked + len(chunk), changed + _rebuild_chunk(chunk)


def rebuild_care_states_of(patient_ids: Sequence[int], *, batch_size: int = 1000) -> int:
    """Recompute the care states of the given patients (those with follow-ups); returns how many changed.

    For bulk writers such as the workbook import, inside their transaction.
    """
    ids = sorted(set(patient_ids))
    return sum(_rebuild_chunk(ids[start : start + batch_size]) for start in range(0, len(ids), batch_size))


def _rebuild_chunk(chunk: Sequence[int]) -> int:
    histories: dict[int, list[rules.Attempt]] = {}
    rows = FollowUp.objects.filter(patient_id__in=chunk).values_list("patient_id", *ATTEMPT_COLUMNS)
    for patient_id, *columns in rows:
        histories.setdefault(patient_id, []).append(_attempt(columns))
    current = {s.patient_id: s for s in PatientCareState.objects.filter(patient_id__in=list(histories))}
    fresh, stale = [], []
    for patient_id, history in histories.items():
        values = _state_values(rules.care_snapshot(history))
        state = current.get(patient_id)
        if state is None:
            fresh.append(PatientCareState(patient_id=patient_id, **values))
        elif any(getattr(state, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(state, name, value)
            state.updated_at = timezone.now()  # bulk_update does not touch auto_now fields
            stale.append(state)
    with transaction.atomic():
        PatientCareState.objects.bulk_create(fresh)
        PatientCareState.objects.bulk_update(stale, [*_state_values(rules.CareSnapshot()), "updated_at"])
    return len(fresh) + len(stale)


def _apply_status(actor: User, patient: Patient, followup: FollowUp, newest: bool) -> None:
    """LOST and DEAD outcomes change the record's status; a LOST patient reached again is ACTIVE again.

    Only the newest follow-up moves a LOST/ACTIVE status (a late entry of an older visit describes the past);
    a death is a death whenever it is entered. The registry keeps the history of every change.
    """
    status, statuses = patient.status, registry_codes.Status
    change: dict[str, Any] | None = None
    if followup.outcome == codes.Outcome.DEAD:
        change = {
            "to_status": statuses.DEAD, "effective_date": followup.death_date,
            "death_cause": followup.death_cause, "death_subcause": followup.death_subcause,
        }  # fmt: skip
    elif not newest:
        return
    elif followup.outcome == codes.Outcome.LOST and status in (statuses.ACTIVE, statuses.REFUSED):
        change = {"to_status": statuses.LOST, "effective_date": followup.date, "lost_reason": followup.lost_reason}
    elif followup.is_reached and status == statuses.LOST and followup.date >= patient.status_since:
        change = {"to_status": statuses.ACTIVE, "effective_date": followup.date, "note": _("随访时找到患者")}
    if change is None:
        return
    try:
        registry_services.change_status(actor=actor, patient=patient, **change)
    except registry_services.RegistryError as exc:  # e.g. dated before the current status began
        field = "death_date" if followup.outcome == codes.Outcome.DEAD else "date"
        raise FollowUpError({field: [str(exc)]}) from exc
    patient.status, patient.status_since = change["to_status"], change["effective_date"]


# --- record_followup ---------------------------------------------------------------------------------------------


def _existing(submission_key: uuid.UUID, patient: Patient) -> FollowUp | None:
    found = FollowUp.objects.filter(submission_key=submission_key).first()
    if found is not None and found.patient_id != patient.pk:
        raise FollowUpError({"__all__": [_("此表单已用于另一次提交，请重新打开随访表。")]})
    return found


def record_followup(
    *,
    actor: User,
    patient: Patient,
    data: dict[str, Any],
    medications: Sequence[dict[str, Any]],
    submission_key: uuid.UUID,
    today: dt.date | None = None,
) -> FollowUp:
    """Validate and save one follow-up with its medication rows, care state, status change and audit event.

    ``data`` holds the form's items under the FollowUp column names (codes as ints, multi-choice items as lists,
    dates as ``datetime.date``, plus ``self_harm_level_confirmed`` and, for LOST/DEAD, the reason or death
    details); ``medications`` holds one dict per row (``drug``, ``shape`` and that shape's dose fields).

    Idempotent on ``submission_key`` (generated when the form is first shown): a double tap, a refresh or a
    retried request returns the first follow-up and writes nothing, also when two requests race (the patient
    row is locked, the key is unique, and a lost race is caught). Raises FollowUpError with every problem;
    then nothing is written.
    """
    found = _existing(submission_key, patient)
    if found is not None:
        return found
    today = today or timezone.localdate()
    try:
        with transaction.atomic():
            locked = Patient.objects.select_for_update().get(pk=patient.pk)
            found = _existing(submission_key, locked)  # the racing request committed while we waited
            if found is not None:
                return found
            history = attempts_of(locked)
            values, rows = validate(locked, data, medications, today, history=history)
            followup = FollowUp.objects.create(submission_key=submission_key, patient=locked, doctor=actor, **values)
            for row in rows:
                row.followup = followup
            MedicationRow.objects.bulk_create(rows)
            mine = rules.Attempt(
                key=followup.pk, date=followup.date, outcome=followup.outcome, risk_level=followup.risk_level,
                classification=followup.classification, next_date=followup.next_date,
                hospitalisation=followup.hospitalisation,
            )  # fmt: skip
            refresh_care_state(locked, [*history, mine])
            newest = all((a.date, a.key) < (mine.date, mine.key) for a in history)
            _apply_status(actor, locked, followup, newest)
            announce_patient_change(
                patient_id=locked.pk, since=min(followup.date, followup.death_date or followup.date)
            )
            case_services.after_followup(actor=actor, patient=locked, followup=followup)
            record_event(
                actor=actor,
                action=Action.CREATE,
                patient_uuids=[locked.uuid],
                detail={"record": "followup", "followup": str(followup.uuid), "outcome": followup.outcome},
            )
    except IntegrityError:
        found = _existing(submission_key, patient)
        if found is None:
            raise
        return found  # a concurrent submission of the same form won
    patient.status, patient.status_since = locked.status, locked.status_since
    return followup


# --- rehabilitation (§10) ----------------------------------------------------------------------------------------

REHAB_FIELDS = frozenset({"provider_type", "provider_name", "service_type", "start_date", "end_date"})


def _reject_unknown(data: dict[str, Any], known: frozenset[str]) -> None:
    unknown = set(data) - known
    if unknown:  # a programming error, not user input: fail loudly in tests
        raise TypeError(f"unexpected fields {sorted(unknown)}")


def _end_date_problem(end: dt.date, start: dt.date, today: dt.date) -> str:
    if end < start:
        return _("结束日期不能早于开始日期。")
    if end > today:
        return _("结束日期不能晚于今天。")
    return ""


def record_rehab_participation(
    *, actor: User, patient: Patient, data: dict[str, Any], today: dt.date | None = None
) -> RehabParticipation:
    """Record participation in community rehabilitation (provider type, service, start, optional end).

    This, not the follow-up's "rehabilitation measures" advice, is what the rehabilitation indicator counts.
    """
    _reject_unknown(data, REHAB_FIELDS)
    today = today or timezone.localdate()
    form = _Form(data)
    provider = form.raw("provider_type")
    if provider not in codes.RehabProvider.values:
        form.add("provider_type", _("请选择康复机构类型。"))
    start = form.date("start_date", required_message=_("请填写开始日期。"))
    end = form.date("end_date")
    if start is not None and start > today:
        form.add("start_date", _("开始日期不能晚于今天。"))
    if start is not None and end is not None and (problem := _end_date_problem(end, start, today)):
        form.add("end_date", problem)
    texts = {name: form.text(RehabParticipation, name) for name in ("provider_name", "service_type")}
    if form.errors or start is None:  # a missing start date has its message already
        raise FollowUpError(form.errors)
    with transaction.atomic():
        participation = RehabParticipation.objects.create(
            patient=patient, recorded_by=actor, provider_type=provider, start_date=start, end_date=end, **texts
        )
        record_event(
            actor=actor,
            action=Action.CREATE,
            patient_uuids=[patient.uuid],
            detail={"record": "rehab", "rehab": str(participation.uuid)},
        )
        announce_patient_change(patient_id=patient.pk, since=start)
    return participation


def end_rehab_participation(
    *, actor: User, participation: RehabParticipation, end_date: dt.date, today: dt.date | None = None
) -> RehabParticipation:
    """Close an ongoing participation on ``end_date`` (the patient's visibility was checked by the caller)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = RehabParticipation.objects.select_for_update().select_related("patient").get(pk=participation.pk)
        if locked.end_date is not None:
            raise FollowUpError({"end_date": [_("该康复记录已结束。")]})
        problem = _end_date_problem(end_date, locked.start_date, today) if _date(end_date) else _("请填写结束日期。")
        if problem:
            raise FollowUpError({"end_date": [problem]})
        locked.end_date = end_date
        locked.save(update_fields=["end_date"])
        record_event(
            actor=actor,
            action=Action.UPDATE,
            patient_uuids=[locked.patient.uuid],
            detail={"record": "rehab", "rehab": str(locked.uuid), "change": "ended"},
        )
        announce_patient_change(patient_id=locked.patient_id, since=locked.start_date)
    participation.end_date = end_date
    return participation


# --- the annual health check ---------------------------------------------------------------------------------------

HEALTH_TEXT_FIELDS = ("physical_exam", "blood_pressure", "blood_count", "liver_enzymes", "glucose", "ecg")
HEALTH_FIELDS = frozenset({"date", "consent", "weight_kg", "followup", *HEALTH_TEXT_FIELDS})
WEIGHT_RANGE = (Decimal("1"), Decimal("500"))


def _weight(form: _Form) -> Decimal | None:
    raw = form.raw("weight_kg")
    if raw in (None, ""):
        return None
    weight = _number(raw, whole=False)
    if not isinstance(weight, Decimal | int) or not Decimal(weight).is_finite():
        form.add("weight_kg", _("体重必须是数字。"))
        return None
    if not WEIGHT_RANGE[0] <= weight <= WEIGHT_RANGE[1]:
        form.add(
            "weight_kg", _("体重须在%(low)s至%(high)s kg之间。") % {"low": WEIGHT_RANGE[0], "high": WEIGHT_RANGE[1]}
        )
        return None
    return Decimal(weight).quantize(Decimal("0.1"))


def record_health_check(
    *, actor: User, patient: Patient, data: dict[str, Any], today: dt.date | None = None
) -> HealthCheck:
    """Record the annual health check (健康体检). Without consent only the refusal is kept: no results.

    ``followup`` (optional) links a check done at a follow-up of the same patient.
    """
    _reject_unknown(data, HEALTH_FIELDS)
    today = today or timezone.localdate()
    form = _Form(data)
    day = form.date("date", required_message=_("请填写体检日期。"))
    if day is not None and day > today:
        form.add("date", _("体检日期不能晚于今天。"))
    elif day is not None and day < patient.registered_on:
        form.add("date", _("体检日期不能早于建档日期。"))
    elif day is not None and HealthCheck.objects.filter(patient=patient, date=day).exists():
        form.add("date", _("该日期已有体检记录。"))
    consent = bool(data.get("consent", True))
    texts = {name: form.text(HealthCheck, name) for name in HEALTH_TEXT_FIELDS}
    weight = _weight(form)
    if not consent and (weight is not None or any(texts.values())):
        form.add("consent", _("患者不同意体检时不能填写检查结果。"))
    followup = data.get("followup")
    if followup is not None and (not isinstance(followup, FollowUp) or followup.patient_id != patient.pk):
        form.add("followup", _("关联的随访不属于该患者。"))
    if form.errors or day is None:  # a missing date has its message already
        raise FollowUpError(form.errors)
    with transaction.atomic():
        check = HealthCheck.objects.create(
            patient=patient, recorded_by=actor, date=day, consent=consent, weight_kg=weight, followup=followup, **texts
        )
        record_event(
            actor=actor,
            action=Action.CREATE,
            patient_uuids=[patient.uuid],
            detail={"record": "health_check", "health_check": str(check.uuid)},
        )
        announce_patient_change(patient_id=patient.pk, since=day)
    return check
