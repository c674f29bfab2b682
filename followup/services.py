"""Writing follow-ups, rehabilitation participation and health checks.

Callers (views, imports) have already checked that ``actor`` may write the patient, normally through
``registry.access.get_patient_for_user(request, uuid, write=True)``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from followup import codes, rules
from followup.models import (
    SHAPE_FIELDS,
    FollowUp,
    HealthCheck,
    MedicationRow,
    PatientCareState,
    RehabParticipation,
)
from registry import codes as registry_codes
from registry import services as registry_services
from registry.models import Patient

CLINICAL_FIELDS = (
    "risk_level", "symptoms", "symptom_other", "obvious_psychotic_symptoms", "insight", "sleep", "diet",
    "social_selfcare", "social_housework", "social_work", "social_learning", "social_contact",
    "minor_trouble", "trouble", "disaster", "other_harm", "self_harm", "suicide_attempt", "locking",
    "hospitalisation", "last_discharge_date", "lab", "lab_text", "adherence", "adverse_reaction",
    "adverse_reaction_text", "adverse_reaction_severe", "severe_physical_illness", "treatment_effect",
    "referral", "referral_reason", "referral_institution", "rehabilitation", "rehabilitation_other",
    "family_support", "classification", "next_date", "next_date_reason",
)  # fmt: skip
REQUIRED_WHEN_REACHED = ("risk_level", "insight", "adherence", "classification", "next_date")
COUNT_FIELDS = tuple(name for name, _label, _help in codes.DANGER_FIELDS)
WHOLE_NUMBER_FIELDS = ("times_per_day", "depot_every_weeks")


class FollowUpError(Exception):
    """Invalid follow-up data: ``errors`` maps a field name (or ``__all__``) to Chinese messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def previous_reached_classification(patient: Patient) -> int | None:
    state = PatientCareState.objects.filter(patient=patient).first()
    return state.last_reached_classification if state else None


def suggestion_for(data: dict[str, Any]) -> rules.Suggestion:
    social = [data.get(name) for name, _label in codes.SOCIAL_FIELDS]
    return rules.suggest_classification(
        rules.Assessment(
            risk_level=int(data.get("risk_level") or 0),
            symptoms=data.get("symptoms") or (),
            obvious_psychotic_symptoms=bool(data.get("obvious_psychotic_symptoms")),
            insight=int(data.get("insight") or rules.INSIGHT_COMPLETE),
            social=[int(s) for s in social if s is not None],
            severe_adverse_reaction=bool(data.get("adverse_reaction_severe")),
            severe_physical_illness=bool(data.get("severe_physical_illness")),
        )
    )


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError from None
    if not number.is_finite():
        raise ValueError
    return number


def _dose_values(shape: str, row: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in SHAPE_FIELDS[shape]:
        try:
            number = _decimal(row.get(name))
        except ValueError:
            problems.append(_("剂量必须是数字。"))
            continue
        if number is not None and number <= 0:
            problems.append(_("剂量和次数必须大于0。"))
        elif number is not None and name in WHOLE_NUMBER_FIELDS:
            if number != number.to_integral_value():
                problems.append(_("次数和间隔周数必须是整数。"))
            values[name] = int(number)
            continue
        values[name] = number
    if shape == "schedule":
        if not any(values.values()):
            problems.append(_("早、中、晚至少填写一项剂量。"))
    elif any(values.get(name) is None for name in SHAPE_FIELDS[shape]):
        problems.append(_("请填写该用法的全部剂量项目。"))
    return values


def clean_medications(rows: list[dict[str, Any]]) -> tuple[list[MedicationRow], dict[str, list[str]]]:
    """Build medication rows; each must fill its dosing shape's fields with positive numbers."""
    built: list[MedicationRow] = []
    errors: dict[str, list[str]] = {}
    for index, row in enumerate(rows, start=1):
        drug = str(row.get("drug") or "").strip()
        shape = str(row.get("shape") or "")
        problems: list[str] = [] if drug else [_("请填写药物名称。")]
        if shape not in SHAPE_FIELDS:
            problems.append(_("请选择用法。"))
            values: dict[str, Any] = {}
        else:
            values = _dose_values(shape, row, problems)
        if problems:
            errors[f"medication-{index}"] = problems
        else:
            built.append(MedicationRow(drug=drug[:60], shape=shape, **values))
    return built, errors


Errors = dict[str, list[str]]


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _check_common(errors: Errors, patient: Patient, data: dict[str, Any], today: dt.date) -> None:
    visit: dt.date | None = data.get("date")
    if visit is None:
        _add(errors, "date", _("请填写随访日期。"))
    elif visit > today:
        _add(errors, "date", _("随访日期不能晚于今天。"))
    elif visit < patient.registered_on:
        _add(errors, "date", _("随访日期不能早于建档日期。"))
    if data.get("outcome") not in codes.Outcome.values:
        _add(errors, "outcome", _("请选择随访结果。"))
    if data.get("mode") not in codes.Mode.values:
        _add(errors, "mode", _("请选择随访方式。"))


def _check_reached(errors: Errors, data: dict[str, Any]) -> None:
    visit: dt.date | None = data.get("date")
    for name in REQUIRED_WHEN_REACHED:
        if data.get(name) in (None, ""):
            _add(errors, name, _("随访到患者时此项必填。"))
    for name in COUNT_FIELDS:
        if int(data.get(name) or 0) < 0:
            _add(errors, name, _("次数不能为负数。"))
    discharge = data.get("last_discharge_date")
    if data.get("hospitalisation") == codes.Hospitalisation.BEFORE and not discharge:
        _add(errors, "last_discharge_date", _("“曾住院，现未住院”须填写末次出院时间。"))
    if discharge and visit and discharge > visit:
        _add(errors, "last_discharge_date", _("末次出院时间不能晚于随访日期。"))
    self_harm, attempts = int(data.get("self_harm") or 0), int(data.get("suicide_attempt") or 0)
    if rules.needs_self_harm_confirmation(data.get("risk_level"), self_harm, attempts) and not data.get(
        "self_harm_level_confirmed"
    ):
        _add(
            errors,
            "risk_level",
            _("记录了自伤或自杀未遂，但危险性评估低于4级。请核实并勾选确认，危险性等级不会被自动修改。"),
        )


def _check_schedule(errors: Errors, patient: Patient, data: dict[str, Any], cleaned: dict[str, Any]) -> None:
    """Suggestion and next date; run only when the rest is valid (it needs a date and a classification)."""
    visit: dt.date = data["date"]
    cleaned["suggested_classification"] = suggestion_for(data).classification
    suggested = rules.next_followup_date(int(data["classification"]), visit, previous_reached_classification(patient))
    cleaned["suggested_next_date"] = suggested
    next_date: dt.date = data["next_date"]
    if next_date <= visit:
        _add(errors, "next_date", _("下次随访日期须晚于本次随访日期。"))
    elif rules.later_than_suggested(next_date, suggested) and not str(data.get("next_date_reason") or "").strip():
        _add(errors, "next_date", _("下次随访日期晚于建议日期（%(date)s），须说明理由。") % {"date": suggested})


def _check_not_reached(errors: Errors, data: dict[str, Any], medications: list[dict[str, Any]]) -> None:
    visit: dt.date | None = data.get("date")
    outcome = data.get("outcome")
    if any(data.get(name) not in (None, "", [], False, 0) for name in CLINICAL_FIELDS) or medications:
        _add(errors, "outcome", _("未随访到患者时不能填写临床项目和用药。"))
    if outcome == codes.Outcome.LOST and data.get("lost_reason") not in registry_codes.LostReason.values:
        _add(errors, "lost_reason", _("请选择失访原因。"))
    if outcome != codes.Outcome.DEAD:
        return
    if not data.get("death_date"):
        _add(errors, "death_date", _("请填写死亡日期。"))
    elif visit and data["death_date"] > visit:
        _add(errors, "death_date", _("死亡日期不能晚于随访日期。"))
    if data.get("death_cause") not in registry_codes.DeathCause.values:
        _add(errors, "death_cause", _("请选择死亡原因。"))
    elif data.get("death_cause") == registry_codes.DeathCause.PHYSICAL and not data.get("death_subcause"):
        _add(errors, "death_subcause", _("死于躯体疾病时请选择具体疾病类别。"))


def validate(
    patient: Patient, data: dict[str, Any], medications: list[dict[str, Any]], today: dt.date
) -> tuple[dict[str, Any], list[MedicationRow]]:
    """Check the whole submission; returns cleaned values or raises FollowUpError with every problem."""
    errors: Errors = {}
    cleaned = dict(data)
    rows: list[MedicationRow] = []
    _check_common(errors, patient, data, today)
    if data.get("outcome") == codes.Outcome.REACHED:
        _check_reached(errors, data)
        rows, medication_errors = clean_medications(medications)
        errors.update(medication_errors)
        if not errors:
            _check_schedule(errors, patient, data, cleaned)
    else:
        _check_not_reached(errors, data, medications)
    if errors:
        raise FollowUpError(errors)
    return cleaned, rows


TEXT_FIELDS = (
    "symptom_other", "lab_text", "adverse_reaction_text", "referral_reason", "referral_institution",
    "rehabilitation_other", "next_date_reason",
)  # fmt: skip
FLAG_FIELDS = ("obvious_psychotic_symptoms", "adverse_reaction_severe", "severe_physical_illness", "family_support")


def _clinical_fields(cleaned: dict[str, Any]) -> dict[str, Any]:
    """The clinical columns to store: empty for an attempt that did not reach the patient."""
    if cleaned["outcome"] != codes.Outcome.REACHED:
        return {}
    fields = {name: cleaned.get(name) for name in (*CLINICAL_FIELDS, "suggested_classification", "suggested_next_date")}
    fields.update({name: fields.get(name) or [] for name in ("symptoms", "rehabilitation")})
    fields.update({name: int(fields.get(name) or 0) for name in COUNT_FIELDS})
    fields.update({name: str(fields.get(name) or "") for name in TEXT_FIELDS})
    fields.update({name: bool(fields.get(name)) for name in FLAG_FIELDS})
    return fields


def _update_care_state(patient: Patient, followup: FollowUp) -> None:
    state, _created = PatientCareState.objects.select_for_update().get_or_create(patient=patient)
    if state.last_followup_date and followup.date < state.last_followup_date:
        return  # a late entry of an older visit does not overwrite the current state
    state.last_followup_date = followup.date
    if followup.is_reached:
        state.risk_level = followup.risk_level
        state.classification = followup.classification
        state.next_due_date = followup.next_date
        state.last_reached_date = followup.date
        state.last_reached_classification = followup.classification
        state.consecutive_not_reached = 0
    elif followup.outcome == codes.Outcome.NOT_REACHED:
        state.consecutive_not_reached += 1
    state.save()


def _apply_status(actor: Any, patient: Patient, followup: FollowUp) -> None:
    """LOST and DEAD outcomes change the record's status; a LOST patient reached again is ACTIVE again."""
    if followup.outcome == codes.Outcome.LOST and patient.status in (
        registry_codes.Status.ACTIVE, registry_codes.Status.REFUSED,
    ):  # fmt: skip
        registry_services.change_status(
            actor=actor, patient=patient, to_status=registry_codes.Status.LOST,
            effective_date=followup.date, lost_reason=followup.lost_reason,
        )  # fmt: skip
    elif followup.outcome == codes.Outcome.DEAD and followup.death_date:
        registry_services.change_status(
            actor=actor, patient=patient, to_status=registry_codes.Status.DEAD, effective_date=followup.death_date,
            death_cause=followup.death_cause, death_subcause=followup.death_subcause,
        )  # fmt: skip
    elif followup.is_reached and patient.status == registry_codes.Status.LOST:
        registry_services.change_status(
            actor=actor, patient=patient, to_status=registry_codes.Status.ACTIVE, effective_date=followup.date,
            note=_("随访时找到患者"),
        )  # fmt: skip


def record_followup(
    *,
    actor: Any,
    patient: Patient,
    data: dict[str, Any],
    medications: list[dict[str, Any]],
    submission_key: uuid.UUID,
    today: dt.date | None = None,
) -> FollowUp:
    """Save one follow-up with its medication rows, care state, status change and audit event, atomically.

    The same ``submission_key`` twice (double tap, refresh, a retried request) returns the first follow-up.
    """
    existing = FollowUp.objects.filter(submission_key=submission_key, patient=patient).first()
    if existing is not None:
        return existing
    cleaned, rows = validate(patient, data, medications, today or timezone.localdate())
    fields = _clinical_fields(cleaned)
    try:
        with transaction.atomic():
            locked = Patient.objects.select_for_update().get(pk=patient.pk)
            followup = FollowUp.objects.create(
                submission_key=submission_key,
                patient=locked,
                date=cleaned["date"],
                mode=cleaned["mode"],
                contacts=cleaned.get("contacts") or [],
                outcome=cleaned["outcome"],
                self_harm_level_confirmed=bool(cleaned.get("self_harm_level_confirmed")),
                lost_reason=cleaned.get("lost_reason"),
                death_date=cleaned.get("death_date"),
                death_cause=cleaned.get("death_cause"),
                death_subcause=cleaned.get("death_subcause"),
                doctor=actor,
                **fields,
            )
            for row in rows:
                row.followup = followup
            MedicationRow.objects.bulk_create(rows)
            _update_care_state(locked, followup)
            _apply_status(actor, locked, followup)
            record_event(
                actor=actor,
                action=Action.CREATE,
                patient_uuids=[locked.uuid],
                detail={"followup": str(followup.uuid), "outcome": followup.outcome},
            )
    except IntegrityError:
        existing = FollowUp.objects.filter(submission_key=submission_key, patient=patient).first()
        if existing is None:
            raise
        return existing  # a concurrent submission of the same form won
    return followup


def record_rehab_participation(*, actor: Any, patient: Patient, data: dict[str, Any]) -> RehabParticipation:
    if data.get("end_date") and data["end_date"] < data["start_date"]:
        raise FollowUpError({"end_date": [_("结束日期不能早于开始日期。")]})
    if data["start_date"] > timezone.localdate():
        raise FollowUpError({"start_date": [_("开始日期不能晚于今天。")]})
    with transaction.atomic():
        participation = RehabParticipation.objects.create(patient=patient, recorded_by=actor, **data)
        record_event(actor=actor, action=Action.CREATE, patient_uuids=[patient.uuid], detail={"rehab": True})
    return participation


def end_rehab_participation(*, actor: Any, participation: RehabParticipation, end_date: dt.date) -> None:
    if end_date < participation.start_date:
        raise FollowUpError({"end_date": [_("结束日期不能早于开始日期。")]})
    with transaction.atomic():
        participation.end_date = end_date
        participation.save(update_fields=["end_date"])
        record_event(
            actor=actor, action=Action.UPDATE, patient_uuids=[participation.patient.uuid], detail={"rehab": "ended"}
        )


def record_health_check(*, actor: Any, patient: Patient, data: dict[str, Any]) -> HealthCheck:
    if data["date"] > timezone.localdate():
        raise FollowUpError({"date": [_("体检日期不能晚于今天。")]})
    if data["date"] < patient.registered_on:
        raise FollowUpError({"date": [_("体检日期不能早于建档日期。")]})
    with transaction.atomic():
        check = HealthCheck.objects.create(patient=patient, recorded_by=actor, **data)
        record_event(actor=actor, action=Action.CREATE, patient_uuids=[patient.uuid], detail={"health_check": True})
    return check
