"""Writing follow-ups (domain.md §5–7): the typed entry in, cross-field rules checked, the visit saved.

Callers (views, imports, the demo) have already checked that ``actor`` may write the patient, normally through
``registry.access.visibility.get_patient_for_user(request, uuid, write=True)``; nothing here widens or narrows
visibility.

A follow-up arrives as one typed ``values.FollowUpEntry``, parsed at the edge (the web form, the workbook row,
``forms.parse_followup``) with every single field within ``followup.visits.bounds``. ``record_followup`` trusts
those types and checks only what spans fields or needs the patient: the items an outcome requires, details that
belong to one answer, dates against each other and the registration, the self-harm confirmation, the next date
and complete medication rows. It raises ``FollowUpError`` with a Chinese message per field, so a form can show
every problem at once and nothing is written. Everything a submission writes (the follow-up, its medication rows,
the care state, a status change, the audit event) commits together or not at all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.accounts.models import User
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from casemgmt.bulkcopy import BulkInserter
from followup import codes
from followup.cases import services as case_services
from followup.models import (
    FollowUp,
    MedicationRow,
    PatientCareState,
    dose_problems,
)
from followup.visits import bounds, rules
from followup.visits.drugs import dose_ceiling_problem
from followup.visits.values import FollowUpEntry, MedicationEntry
from registry import codes as registry_codes
from registry.models import Patient, Transfer, TransferState
from registry.patients import services as registry_services
from registry.signals import announce_patient_change

Errors = dict[str, list[str]]


class FollowUpError(Exception):
    """Invalid data: ``errors`` maps a field name (``medication-N`` for the N-th medication row, ``__all__`` for
    the submission as a whole) to Chinese messages."""

    def __init__(self, errors: Errors) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


# --- the rules that span fields ----------------------------------------------------------------------------------

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
# The FollowUp columns every outcome fills from the entry, and those of a reached follow-up besides.
ATTEMPT_VALUES = ("date", "outcome", "mode", "contacts")
REACHED_VALUES = (
    *bounds.CODED_FIELDS, *bounds.MULTI_FIELDS, *bounds.COUNT_FIELDS, *bounds.FLAG_FIELDS, *bounds.TEXT_FIELDS,
    "last_discharge_date", "next_date", "self_harm_level_confirmed",
)  # fmt: skip


def _missing(value: object) -> bool:
    """Not answered. (0 is an answer: risk level 0, hospitalisation 0 未住院.)"""
    return value is None or value in ("", ())


class _Problems:
    """Every problem of one submission, by field (so all of them are reported at once)."""

    def __init__(self) -> None:
        self.errors: Errors = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def __contains__(self, field: str) -> bool:
        return field in self.errors


# --- the follow-up -----------------------------------------------------------------------------------------------


def suggestion_for(entry: FollowUpEntry) -> rules.Suggestion:
    """The §7 suggestion for an entry's assessment (missing items count as unknown, never as good)."""
    items = {name: getattr(entry, name) for name in rules.ASSESSED_ITEMS}
    social = [value for name, value in items.items() if name.startswith("social_") and value is not None]
    return rules.suggest_classification(
        rules.Assessment(
            risk_level=entry.risk_level,
            symptoms=entry.symptoms,
            obvious_psychotic_symptoms=entry.obvious_psychotic_symptoms,
            insight=entry.insight,
            social=social,
            severe_adverse_reaction=entry.adverse_reaction_severe,
            severe_physical_illness=entry.severe_physical_illness,
            unanswered=tuple(name for name, value in items.items() if value is None),
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


def _check_patient(problems: _Problems, patient: Patient, entry: FollowUpEntry) -> None:
    if patient.status in (registry_codes.Status.DEAD, registry_codes.Status.CLOSED):
        message = _("该患者档案状态为“%(status)s”，不能再记录随访。") % {"status": patient.get_status_display()}
        problems.add("__all__", message)
    if entry.date < patient.registered_on:
        problems.add("date", _("随访日期不能早于建档日期。"))


def _check_reached(problems: _Problems, entry: FollowUpEntry) -> dict[str, Any]:
    """The items a reached follow-up requires, the details of its answers, the discharge date and the self-harm
    confirmation; returns the clinical column values (details of other answers dropped)."""
    values: dict[str, Any] = {name: getattr(entry, name) for name in REACHED_VALUES}
    in_hospital = entry.hospitalisation == codes.Hospitalisation.NOW
    for name in REQUIRED_WHEN_REACHED:
        if in_hospital and name in ASSESSABLE_ONLY_OUTSIDE_HOSPITAL:
            continue
        if _missing(getattr(entry, name)):
            problems.add(name, _("随访到患者时此项必填。"))
    for name, parent, answer, required in DEPENDENT_FIELDS:
        chosen = getattr(entry, parent)
        applies = answer in chosen if isinstance(chosen, tuple) else chosen == answer
        if not applies:
            values[name] = _UNANSWERED[name]
        elif required and _missing(values[name]):
            problems.add(name, _required_detail_message(name, parent, answer))
    visit, discharge = entry.date, values["last_discharge_date"]
    if discharge and discharge > visit:
        problems.add("last_discharge_date", _("末次出院时间不能晚于随访日期。"))
    if not entry.self_harm_level_confirmed and rules.needs_self_harm_confirmation(
        entry.risk_level, entry.self_harm, entry.suicide_attempt
    ):
        problems.add(
            "risk_level",
            _("记录了自伤或自杀未遂，但危险性评估低于4级。请核实并勾选确认，危险性等级不会被自动修改。"),
        )
    values["self_harm_level_confirmed"] = entry.self_harm_level_confirmed and (
        entry.self_harm > 0 or entry.suicide_attempt > 0
    )
    return values


_UNANSWERED: dict[str, object] = {field.name: field.default for field in dataclasses.fields(FollowUpEntry)}


def _required_detail_message(name: str, parent: str, answer: int) -> str:
    if name == "last_discharge_date":
        return _("“曾住院，现未住院”须填写末次出院时间。")
    choices = bounds.CODED_FIELDS.get(parent) or bounds.MULTI_FIELDS[parent]
    return _("选择“%(answer)s”时须填写此项。") % {"answer": dict(choices.choices)[answer]}


def _medication_rows(problems: _Problems, medications: Sequence[MedicationEntry]) -> list[MedicationRow]:
    """Unsaved rows (item 19), each complete for its dosing shape and nothing of another; problems are keyed
    ``medication-1``, ``medication-2``… in the entry's order."""
    built: list[MedicationRow] = []
    for number, row in enumerate(medications, start=1):
        doses = row.doses()
        messages = [] if row.drug else [_("请填写药物名称。")]
        messages += dose_problems(row.shape, doses)
        if not messages:
            messages += [ceiling] if (ceiling := dose_ceiling_problem(row.drug, row.shape, doses)) else []
        for message in messages:
            problems.add(f"medication-{number}", message)
        if not messages:
            built.append(MedicationRow(drug=row.drug, shape=row.shape, **doses))
    return built


def _check_schedule(
    problems: _Problems, entry: FollowUpEntry, values: dict[str, Any], history: Sequence[rules.Attempt]
) -> None:
    """The system's suggestion (stored beside the doctor's choice) and the next date. Runs once the rest is valid:
    it needs a class and a next date."""
    visit, klass, proposed = entry.date, entry.classification, entry.next_date
    if klass is None or proposed is None:
        return
    values["suggested_classification"] = suggestion_for(entry).classification
    previous = rules.previous_reached_classification(history, visit)
    suggested = rules.next_followup_date(klass, visit, previous)
    values["suggested_next_date"] = suggested
    verdict = rules.check_next_date(proposed, suggested, visit)
    if verdict is rules.NextDate.NOT_AFTER_VISIT:
        problems.add("next_date", _("下次随访日期须晚于本次随访日期。"))
    elif verdict is rules.NextDate.NEEDS_REASON and not entry.next_date_reason:
        problems.add("next_date", _("下次随访日期晚于建议日期（%(date)s），须说明理由。") % {"date": suggested})
    elif verdict is rules.NextDate.ACCEPTED:
        values["next_date_reason"] = ""


def _check_attempt(
    problems: _Problems, entry: FollowUpEntry, patient: Patient, history: Sequence[rules.Attempt]
) -> dict[str, Any]:
    """A not-reached, lost or dead attempt: no clinical item, and the outcome's own details; returns them."""
    if entry.medications or entry.clinical_entered():
        problems.add("outcome", _("未随访到患者时不能填写临床项目和用药。"))
    if entry.outcome == codes.Outcome.LOST:
        if entry.lost_reason is None:
            problems.add("lost_reason", _("请选择失访原因。"))
        return {"lost_reason": entry.lost_reason}
    if entry.outcome != codes.Outcome.DEAD:
        return {}
    death, cause = entry.death_date, entry.death_cause
    if death is None:
        problems.add("death_date", _("请填写死亡日期。"))
    elif death > entry.date:
        problems.add("death_date", _("死亡日期不能晚于随访日期。"))
    elif death < patient.registered_on:
        problems.add("death_date", _("死亡日期不能早于建档日期。"))
    elif any(a.date > death for a in history):
        problems.add("death_date", _("死亡日期之后已有随访记录，请核实。"))
    if cause is None:
        problems.add("death_cause", _("请选择死亡原因。"))
    subcause = entry.death_subcause if cause == codes.DeathCause.PHYSICAL else None
    if cause == codes.DeathCause.PHYSICAL and subcause is None:
        problems.add("death_subcause", _("死于躯体疾病时请选择具体疾病类别。"))
    return {"death_date": death, "death_cause": cause, "death_subcause": subcause}


def validate(
    patient: Patient,
    entry: FollowUpEntry,
    *,
    history: Sequence[rules.Attempt] | None = None,
) -> tuple[dict[str, Any], list[MedicationRow]]:
    """Check the rules of a whole entry that span fields, without writing; returns the FollowUp column values and
    unsaved medication rows, or raises FollowUpError listing every problem.

    ``history`` is the patient's follow-ups (``attempts_of``); ``record_followup`` passes it after locking the
    patient, so the previous class and the death-date check see a settled history.
    """
    history = attempts_of(patient) if history is None else history
    problems = _Problems()
    _check_patient(problems, patient, entry)
    values: dict[str, Any] = {name: getattr(entry, name) for name in ATTEMPT_VALUES}
    rows: list[MedicationRow] = []
    if entry.reached:
        values.update(_check_reached(problems, entry))
        rows = _medication_rows(problems, entry.medications)
        if not problems.errors:
            _check_schedule(problems, entry, values, history)
    else:
        values.update(_check_attempt(problems, entry, patient, history))
    if problems.errors:
        raise FollowUpError(problems.errors)
    for name in ("contacts", *bounds.MULTI_FIELDS):
        if name in values:
            values[name] = list(values[name])
    return values, rows


# --- care state and status ---------------------------------------------------------------------------------------


def _state_values(snapshot: rules.CareSnapshot) -> dict[str, object]:
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
    history = attempts_of(patient) if history is None else history
    snapshot = rules.care_snapshot(history, arrivals_of([patient.pk]).get(patient.pk))
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
        followed = FollowUp.objects.filter(patient_id__gt=last).values_list("patient_id", flat=True)
        arrived = Transfer.objects.filter(patient_id__gt=last, state=TransferState.ACCEPTED).values_list(
            "patient_id", flat=True
        )
        # The first batch_size ids of either source, merged: nothing below the chunk's last id is skipped.
        firsts = (query.order_by("patient_id").distinct()[:batch_size] for query in (followed, arrived))
        chunk = sorted(set().union(*firsts))[:batch_size]
        if not chunk:
            return checked, changed
        last = chunk[-1]
        checked, changed = checked + len(chunk), changed + _rebuild_chunk(chunk)


def rebuild_care_states_of(patient_ids: Sequence[int], *, batch_size: int = 5000) -> int:
    """Recompute the care states of the given patients (those with follow-ups); returns how many changed.

    For bulk writers such as the workbook import, inside their transaction. Batches of 5,000 patients (some
    20,000 follow-ups in memory at once): the care states of 100,000 new patients took 11.3 s against 17.3 s in
    batches of 1,000 (docs/performance.md).
    """
    ids = sorted(set(patient_ids))
    return sum(_rebuild_chunk(ids[start : start + batch_size]) for start in range(0, len(ids), batch_size))


def arrivals_of(patient_ids: Sequence[int]) -> dict[int, rules.Arrival]:
    """The latest accepted transfer of each patient, as ``rules.Arrival`` (one query)."""
    arrivals: dict[int, rules.Arrival] = {}
    accepted = Transfer.objects.filter(patient_id__in=patient_ids, state=TransferState.ACCEPTED).order_by(
        "decided_on", "id"
    )
    for transfer in accepted.only("patient_id", "state", "decided_on"):
        visit_by = transfer.visit_by()
        if transfer.decided_on is not None and visit_by is not None:
            arrivals[transfer.patient_id] = rules.Arrival(on=transfer.decided_on, visit_by=visit_by)
    return arrivals


def refresh_care_state_after_arrival(sender: object, *, patient_id: int, **kwargs: object) -> None:
    """``registry.signals.record_arrived``: the receiving doctor's schedule starts with the first visit."""
    refresh_care_state(Patient.objects.get(pk=patient_id))


def _rebuild_chunk(chunk: Sequence[int]) -> int:
    histories: dict[int, list[rules.Attempt]] = {}
    rows = FollowUp.objects.filter(patient_id__in=chunk).values_list("patient_id", *ATTEMPT_COLUMNS)
    for patient_id, *columns in rows:
        histories.setdefault(patient_id, []).append(_attempt(columns))
    arrivals = arrivals_of(chunk)
    for patient_id in arrivals:
        histories.setdefault(patient_id, [])
    current = {s.patient_id: s for s in PatientCareState.objects.filter(patient_id__in=list(histories))}
    fresh, stale = [], []
    for patient_id, history in histories.items():
        values = _state_values(rules.care_snapshot(history, arrivals.get(patient_id)))
        state = current.get(patient_id)
        if state is None:
            fresh.append(PatientCareState(patient_id=patient_id, **values))
        elif any(getattr(state, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(state, name, value)
            state.updated_at = timezone.now()  # bulk_update does not touch auto_now fields
            stale.append(state)
    with transaction.atomic():
        BulkInserter().insert(fresh)  # COPY on PostgreSQL: 100,000 new patients' states of an import
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
    entry: FollowUpEntry,
    submission_key: uuid.UUID,
) -> FollowUp:
    """Check the rules that span fields and save one follow-up with its medication rows, care state, status
    change and audit event.

    ``entry`` comes from an edge that parsed every single field (``forms.FollowUpForm.entry``,
    ``forms.parse_followup``); its types and bounds are trusted here.

    Idempotent on ``submission_key`` (generated when the form is first shown): a double tap, a refresh or a
    retried request returns the first follow-up and writes nothing, also when two requests race (the patient
    row is locked, the key is unique, and a lost race is caught). Raises FollowUpError with every problem;
    then nothing is written.
    """
    found = _existing(submission_key, patient)
    if found is not None:
        return found
    try:
        with transaction.atomic():
            locked = Patient.objects.select_for_update().get(pk=patient.pk)
            found = _existing(submission_key, locked)  # the racing request committed while we waited
            if found is not None:
                return found
            history = attempts_of(locked)
            values, rows = validate(locked, entry, history=history)
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
