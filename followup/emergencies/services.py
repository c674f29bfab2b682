"""Emergency handling (应急处置, domain.md §9): recording, completing, linking to a patient, and the lists.

Who checked permission:

- ``record_emergency`` for a registered patient: the view reached the patient through
  ``registry.access.visibility.get_patient_for_user(request, uuid, write=True)``; for a person not registered yet, the
  view offered only villages of the doctor's jurisdiction and ``can_write_emergency`` is checked again here.
- ``update_emergency`` / ``link_emergency``: the view reached the record through
  ``get_emergency_for_user(write=True)`` (404 otherwise, 403 without ``can_write_emergency``); the patient to
  link comes from the actor's own visible set.

Every write runs in one transaction with its audit event (UUIDs only, never the person's identity). Recording
or linking an emergency of a registered patient announces the change to the indicators
(``registry.signals.announce_patient_change``) inside the transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import cast
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import User
from casemgmt.areas.models import Area
from casemgmt.areas.scope import within
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from casemgmt.readdb import read_alias
from followup.codes import Outcome
from followup.emergencies import rules as emergency_rules
from followup.models import (
    COMPLETE_WITHIN,
    Emergency,
    EmergencyDisposition,
    EmergencyMeasure,
    EmergencySituation,
    FollowUp,
    PatientCareState,
)
from registry import codes as registry_codes
from registry.access.visibility import can_write, in_jurisdiction, refuse
from registry.models import Patient, live_break_glass, national_id_index
from registry.patients import idnumber, masking
from registry.signals import announce_patient_change

Errors = dict[str, list[str]]

# The fields a form submits (besides identity, area and handler).
FIELDS = (
    "occurred_at",
    "place",
    "situations",
    "risk_level",
    "reported_by",
    "participants",
    "measures",
    "medication_drug",
    "medication_dose",
    "medication_route",
    "disposition",
    "hospital",
    "consent",
)


class EmergencyError(Exception):
    """Invalid or refused: ``errors`` maps a field name (``__all__`` for the record) to Chinese messages."""

    def __init__(self, errors: Errors) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _refuse(message: str) -> EmergencyError:
    return EmergencyError({"__all__": [message]})


# --- permission helpers (used by the views and re-checked by the services) ------------------------------------


def can_write_emergency(user: User, emergency: Emergency) -> bool:
    """The doctors of the patient's jurisdiction, or of the village of an unregistered person's record."""
    if emergency.patient is not None:
        return can_write(user, emergency.patient)
    return bool(user.is_doctor and in_jurisdiction(user, emergency.area_id))


def emergencies_visible_to(user: User) -> QuerySet[Emergency]:
    """Records of patients the user sees through their jurisdiction (the one rule, ``Patient.objects.visible_to``,
    narrowed to the user's own areas: a case-team grant shows the limited view, which holds no emergency
    history), the records of a patient the user opened by break-glass (``registry.breakglass``: read-only), and
    records of persons not registered yet in the user's jurisdiction (only the area decides)."""
    if not (getattr(user, "is_doctor", False) or getattr(user, "is_area_staff", False)):
        return Emergency.objects.none()
    area_rule = within(user.jurisdiction_prefixes(), "area__code")
    visible_patients = Patient.objects.visible_to(user).in_jurisdiction_of(user).values("pk")
    opened = live_break_glass(user).values("patient_id")  # read-only, like the rest of the record
    return Emergency.objects.filter(
        Q(patient__in=visible_patients) | Q(patient__in=opened) | (Q(patient__isnull=True) & area_rule)
    )


def get_emergency_for_user(
    request: AuthenticatedHttpRequest, emergency_uuid: uuid.UUID | str, *, write: bool = False
) -> Emergency:
    """The record, if it is in ``emergencies_visible_to`` (404 otherwise: missing and not yours alike).

    404 too for users who are neither doctors nor area staff (case-team members: emergency history is clinical
    history); 403 with ``write`` for users who may not write the record (``can_write_emergency``), 404 when they
    reach it through a break-glass access (read-only, like a grant: ``registry.access.visibility.refuse``).
    """
    user = request.user
    if not (user.is_doctor or user.is_area_staff):
        raise Http404  # case-team members and administrators: not a 403 that says the record exists
    emergency = (
        emergencies_visible_to(user)
        .select_related("patient", "patient__village", "area", "handler")
        .filter(uuid=emergency_uuid)
        .first()
    )
    if emergency is None:
        raise Http404
    if write and not can_write_emergency(user, emergency):
        if emergency.patient is not None:
            refuse(user, emergency.patient)  # 403 in the user's jurisdiction, 404 through a break-glass access
        raise PermissionDenied
    return emergency


# --- validation ------------------------------------------------------------------------------------------------


def completion_problems(values: Mapping[str, object]) -> Errors:
    """What a record still lacks before it can be marked complete (domain.md §9); empty when complete."""
    errors: Errors = defaultdict(list)
    required = _("完成记录前请填写此项。")
    for name in ("place", "reported_by", "participants", "disposition"):
        if not values.get(name):
            errors[name].append(required)
    if not values.get("situations"):
        errors["situations"].append(_("请至少选择一种情形。"))
    if values.get("risk_level") is None:
        errors["risk_level"].append(required)
    if not values.get("measures"):
        errors["measures"].append(_("请至少选择一项处置措施。"))
    if values.get("consent") is None:
        errors["consent"].append(required)
    if EmergencyMeasure.MEDICATION in cast("Iterable[str]", values.get("measures") or []):
        for name in ("medication_drug", "medication_dose", "medication_route"):
            if not values.get(name):
                errors[name].append(_("采取药物处置时请填写药物、剂量和给药途径。"))
    if values.get("disposition") == EmergencyDisposition.ADMIT and not values.get("hospital"):
        errors["hospital"].append(_("收治住院时请填写医院名称。"))
    return dict(errors)


def _check_values(values: Mapping[str, object], now: dt.datetime) -> Errors:
    errors: Errors = defaultdict(list)
    occurred = cast("dt.datetime | None", values.get("occurred_at"))
    if occurred is None:
        errors["occurred_at"].append(_("请填写发生时间。"))
    elif occurred > now + dt.timedelta(minutes=5):
        errors["occurred_at"].append(_("发生时间不能晚于现在。"))
    elif occurred < now - dt.timedelta(days=365):
        errors["occurred_at"].append(_("发生时间不能早于一年前。"))
    if not set(cast("Iterable[str]", values.get("situations") or [])) <= set(EmergencySituation.values):
        errors["situations"].append(_("情形无效。"))
    if not set(cast("Iterable[str]", values.get("measures") or [])) <= set(EmergencyMeasure.values):
        errors["measures"].append(_("处置措施无效。"))
    risk = values.get("risk_level")
    if risk is not None and not (isinstance(risk, int) and 0 <= risk <= 5):
        errors["risk_level"].append(_("危险性评估应为0至5级。"))
    return dict(errors)


def _clean_person(person_name: str, person_national_id: str) -> tuple[str, str]:
    name = (person_name or "").strip()
    number = (person_national_id or "").strip()
    errors: Errors = {}
    if not name:
        errors["person_name"] = [_("未建档人员请填写姓名（可填“不详”）。")]
    if number:
        try:
            number = idnumber.validate(number)
        except idnumber.IdNumberError:
            errors["person_national_id"] = [_("身份证号格式或校验位不正确；不知道可留空。")]
    if errors:
        raise EmergencyError(errors)
    return name, number


def _apply(emergency: Emergency, values: Mapping[str, object]) -> None:
    for name in FIELDS:
        if name not in values:
            continue
        value = values[name]
        if name in _LISTS:
            value = list(cast("Iterable[str]", value or []))
        elif value is None and name not in _NULLABLE:
            value = ""
        setattr(emergency, name, value)
    if EmergencyMeasure.MEDICATION not in (emergency.measures or []):
        emergency.medication_drug = emergency.medication_dose = emergency.medication_route = ""


_NULLABLE = frozenset({"risk_level", "consent", "occurred_at"})
_LISTS = frozenset({"situations", "measures"})


def _event_day(emergency: Emergency) -> dt.date:
    return timezone.localdate(emergency.occurred_at)


def _audit(actor: User, emergency: Emergency, step: str, action: str) -> None:
    record_event(
        actor=actor,
        action=action,
        patient_uuids=[emergency.patient.uuid] if emergency.patient is not None else [],
        detail={"emergency": str(emergency.uuid), "step": step, "registered": emergency.patient is not None},
    )


# --- writes ----------------------------------------------------------------------------------------------------


def record_emergency(
    *,
    actor: User,
    values: Mapping[str, object],
    handler: User | None,
    complete: bool,
    now: dt.datetime,
    patient: Patient | None = None,
    area: Area | None = None,
    person_name: str = "",
    person_national_id: str = "",
) -> Emergency:
    """Record one emergency handling, for ``patient`` or for a person not registered yet (name, ID, village).

    Permission: for a patient the caller used ``get_patient_for_user(write=True)``; for an unregistered person
    the village is checked here against the actor's jurisdiction. ``complete`` marks the record complete now
    (refused with the missing items if anything is lacking); otherwise it stays open, flagged after 24 hours.
    """
    errors = _check_values(values, now)
    if complete:
        for name, messages in completion_problems(values).items():
            errors.setdefault(name, []).extend(messages)
    if patient is None:
        try:
            person_name, person_national_id = _clean_person(person_name, person_national_id)
        except EmergencyError as exc:
            errors.update(exc.errors)
        if area is None or not area.is_village or not (actor.is_doctor and in_jurisdiction(actor, area.code)):
            errors.setdefault("area", []).append(_("请选择本辖区的村(居)。"))
    elif patient.status not in registry_codes.REGISTERED_STATUSES:
        errors.setdefault("__all__", []).append(_("该档案已死亡或注销，不能登记应急处置。"))
    if errors:
        raise EmergencyError(errors)
    with transaction.atomic():
        emergency = Emergency(
            patient=patient,
            area=patient.village if patient is not None else area,
            person_name=person_name if patient is None else "",
            person_national_id=person_national_id if patient is None else "",
            handler=handler or actor,
            recorded_by=actor,
            completed_at=now if complete else None,
        )
        _apply(emergency, values)
        emergency.save()
        _audit(actor, emergency, "record", Action.CREATE)
        if patient is not None:
            announce_patient_change(patient_id=patient.pk, since=_event_day(emergency))
    return emergency


def update_emergency(
    *,
    actor: User,
    emergency: Emergency,
    values: Mapping[str, object],
    handler: User | None,
    complete: bool,
    now: dt.datetime,
) -> Emergency:
    """Amend an open record, and optionally mark it complete. A completed record is final.

    Permission: the caller reached the record through ``get_emergency_for_user`` and checked
    ``can_write_emergency``; it is checked again here under the row lock.
    """
    errors = _check_values(values, now)
    if complete:
        for name, messages in completion_problems(values).items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise EmergencyError(errors)
    with transaction.atomic():
        locked = Emergency.objects.select_for_update(of=("self",)).select_related("patient").get(pk=emergency.pk)
        if not can_write_emergency(actor, locked):
            raise _refuse(_("只有本辖区的精防医生可以修改该记录。"))
        if locked.completed_at is not None:
            raise _refuse(_("该记录已于%(at)s完成，不能再修改。") % {"at": _local(locked.completed_at)})
        old_day = _event_day(locked)
        _apply(locked, values)
        locked.handler = handler or locked.handler
        if complete:
            locked.completed_at = now
        locked.save()
        _audit(actor, locked, "complete" if complete else "update", Action.UPDATE)
        if locked.patient is not None:
            announce_patient_change(patient_id=locked.patient.pk, since=min(old_day, _event_day(locked)))
    return locked


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def registered_match(*, actor: User, emergency: Emergency, national_id: str = "") -> Patient | None:
    """The patient in the actor's view whose ID number is ``national_id`` (or the one stored on the record)."""
    number = (national_id or emergency.person_national_id or "").strip()
    if not number:
        return None
    try:
        number = idnumber.validate(number)
    except idnumber.IdNumberError:
        return None
    return (
        Patient.objects.visible_to(actor)
        .in_jurisdiction_of(actor)
        .select_related("village")
        .filter(national_id_index=national_id_index(number))
        .first()
    )


def link_emergency(*, actor: User, emergency: Emergency, national_id: str = "") -> Emergency:
    """Link the record of a person not registered then to their patient record, found by ID number.

    Permission: the caller reached the record through ``get_emergency_for_user``; the patient must be one the actor
    may write (checked here), so nobody links a record to a patient outside their own jurisdiction.
    """
    if national_id:
        try:
            idnumber.validate(national_id)
        except idnumber.IdNumberError as exc:
            raise EmergencyError({"national_id": [_("身份证号格式或校验位不正确。")]}) from exc
    patient = registered_match(actor=actor, emergency=emergency, national_id=national_id)
    if patient is None:
        raise EmergencyError({"national_id": [_("本辖区没有该身份证号的已建档患者，请先建档。")]})
    if not can_write(actor, patient):
        raise _refuse(_("只能关联本辖区的患者。"))
    with transaction.atomic():
        locked = Emergency.objects.select_for_update().get(pk=emergency.pk)
        if locked.patient_id is not None:
            if locked.patient_id == patient.pk:
                return locked
            raise _refuse(_("该记录已关联到其他患者，不能再关联。"))
        locked.patient = patient
        locked.linked_by = actor
        locked.linked_at = timezone.now()
        locked.save(update_fields=["patient", "linked_by", "linked_at", "updated_at"])
        _audit(actor, locked, "link", Action.UPDATE)
        announce_patient_change(patient_id=patient.pk, since=_event_day(locked))
    return locked


# --- lists -----------------------------------------------------------------------------------------------------


def late_q(now: dt.datetime) -> Q:
    """Records not completed within 24 hours of the event (open past the deadline, or completed after it)."""
    deadline_passed = Q(occurred_at__lt=now - COMPLETE_WITHIN)
    return (Q(completed_at__isnull=True) & deadline_passed) | Q(completed_at__gt=F("occurred_at") + COMPLETE_WITHIN)


def open_late_q(now: dt.datetime) -> Q:
    return Q(completed_at__isnull=True, occurred_at__lt=now - COMPLETE_WITHIN)


@dataclass(frozen=True)
class EmergencyRow:
    uuid: UUID
    name: str
    registered: bool
    patient_uuid: UUID | None
    village: str
    occurred_at: dt.datetime
    situations: str
    risk_level: int | None
    disposition: str
    completed_at: dt.datetime | None
    late: bool
    open: bool


def identity_of(emergency: Emergency, *, masked: bool) -> str:
    name = emergency.patient.name if emergency.patient is not None else emergency.person_name
    if masked:
        return masking.mask_name(name) if name else "—"
    return name or "—"


def rows(emergencies: Iterable[Emergency], *, masked: bool, now: dt.datetime) -> list[EmergencyRow]:
    labels = dict(EmergencySituation.choices)
    out = []
    for e in emergencies:
        out.append(
            EmergencyRow(
                uuid=e.uuid,
                name=identity_of(e, masked=masked),
                registered=e.patient is not None,
                patient_uuid=e.patient.uuid if e.patient is not None else None,
                village=e.area.name,
                occurred_at=e.occurred_at,
                situations=_("、").join(str(labels.get(s, s)) for s in e.situations),
                risk_level=e.risk_level,
                disposition=e.get_disposition_display() if e.disposition else "",
                completed_at=e.completed_at,
                late=e.is_late(now),
                open=e.completed_at is None,
            )
        )
    return out


@dataclass(frozen=True)
class CloseFollowRow:
    patient_uuid: UUID
    name: str
    village: str
    since: dt.date
    visit_by: dt.date | None
    overdue: bool


def close_follow_for(patient: Patient, today: dt.date) -> emergency_rules.CloseFollow | None:
    """The close follow-up state of one patient after their latest emergency (None without a recent one)."""
    found = close_follow_map([patient.pk], today)
    return found.get(patient.pk)


def close_follow_map(patient_ids: Iterable[int], today: dt.date) -> dict[int, emergency_rules.CloseFollow]:
    """Close follow-up states of the patients with an emergency in the look-back window (three queries)."""
    since = timezone.now() - dt.timedelta(days=emergency_rules.CLOSE_FOLLOW_LOOKBACK_DAYS)
    latest: dict[int, dt.date] = {}
    for pid, occurred in (
        Emergency.objects.filter(patient_id__in=patient_ids, occurred_at__gte=since)
        .order_by("patient_id", "occurred_at")
        .values_list("patient_id", "occurred_at")
    ):
        latest[pid] = timezone.localdate(occurred)
    if not latest:
        return {}
    reached: dict[int, list[tuple[dt.date, int | None]]] = defaultdict(list)
    earliest = min(latest.values())
    for pid, day, classification in FollowUp.objects.filter(
        patient_id__in=list(latest), outcome=Outcome.REACHED, date__gt=earliest
    ).values_list("patient_id", "date", "classification"):
        reached[pid].append((day, classification))
    due = dict(PatientCareState.objects.filter(patient_id__in=list(latest)).values_list("patient_id", "next_due_date"))
    return {pid: emergency_rules.close_follow(day, reached.get(pid, []), due.get(pid)) for pid, day in latest.items()}


def close_follow_rows(user: User, today: dt.date) -> list[CloseFollowRow]:
    """The doctor's patients under close follow-up after an emergency (identity in full: their own patients)."""
    since = timezone.now() - dt.timedelta(days=emergency_rules.CLOSE_FOLLOW_LOOKBACK_DAYS)
    patients = {
        p.pk: p
        for p in Patient.objects.visible_to(user)
        .in_jurisdiction_of(user)  # a case-team grant shows no emergency history
        .filter(emergencies__occurred_at__gte=since, status__in=registry_codes.REGISTERED_STATUSES)
        .select_related("village")
        .distinct()
    }
    states = close_follow_map(list(patients), today)
    out = [
        CloseFollowRow(
            patient_uuid=patients[pid].uuid,
            name=patients[pid].name,
            village=patients[pid].village.name,
            since=state.since,
            visit_by=state.visit_by,
            overdue=bool(state.visit_by and today > state.visit_by),
        )
        for pid, state in states.items()
        if state.active
    ]
    return sorted(out, key=lambda r: (r.visit_by or today, r.since))


def emergency_dates(patient_ids: list[int], cutoff: dt.date) -> dict[int, tuple[dt.date, ...]]:
    """Local dates of the emergency handlings of these registered patients up to ``cutoff`` (the indicators'
    count, domain.md §11): one query. Records of persons not registered (yet) are no patient's facts."""
    rows = Emergency.objects.using(read_alias()).filter(patient_id__in=patient_ids)
    if cutoff < dt.date.max:  # the indicator state asks for everything with date.max
        rows = rows.filter(occurred_at__lte=timezone.make_aware(dt.datetime.combine(cutoff, dt.time.max)))
    dates: dict[int, list[dt.date]] = defaultdict(list)
    for patient_id, occurred in rows.order_by("patient_id", "occurred_at").values_list("patient_id", "occurred_at"):
        dates[patient_id].append(timezone.localdate(occurred))
    return {k: tuple(v) for k, v in dates.items()}
