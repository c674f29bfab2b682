"""Writing rehabilitation participation (start, end) and health checks.

Callers (the pages of ``followup.rehab.views``) have already checked that ``actor`` may write the patient,
normally through ``registry.access.visibility.get_patient_for_user(request, uuid, write=True)``; nothing here
widens or narrows visibility. Every function validates the whole submission first and raises ``FollowUpError``
with a Chinese message per field, with the follow-up's submission parser (``followup.visits.services``), so
nothing is written unless all of it is valid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import cast

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.accounts.models import User
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from followup import codes
from followup.models import FollowUp, HealthCheck, RehabParticipation
from followup.rehab import bounds
from followup.visits.services import Errors, FollowUpError
from registry.models import Patient
from registry.signals import announce_patient_change

# --- rehabilitation (§10) ----------------------------------------------------------------------------------------

REHAB_FIELDS = frozenset({"provider_type", "provider_name", "service_type", "start_date", "end_date"})


# --- reading the service's dicts ----------------------------------------------------------------------------------
# The rehabilitation and health-check writers take the cleaned values of their forms as dicts and check them again
# (the demo and the workbook call them too). A typed value per record, as followup.visits.values is for a visit,
# would replace this small reader.


def _date(value: object) -> dt.date | None:
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


def _number(value: object, whole: bool) -> object:
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


class _Form:
    """Collects cleaned values and every error of one rehabilitation or health-check submission."""

    def __init__(self, data: Mapping[str, object]) -> None:
        self.data = data
        self.values: dict[str, object] = {}
        self.errors: Errors = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raw(self, name: str) -> object:
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

    def text(self, model: type[models.Model], name: str) -> str:
        value = str(self.raw(name) or "").strip()
        problem = _text_problem(value, _max_length(model, name))
        if problem:
            self.add(name, problem)
        return value


def _reject_unknown(data: Mapping[str, object], known: frozenset[str]) -> None:
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
    *, actor: User, patient: Patient, data: Mapping[str, object], today: dt.date | None = None
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
            patient=patient,
            recorded_by=actor,
            provider_type=cast(str, provider),
            start_date=start,
            end_date=end,
            **texts,
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


def _weight(form: _Form) -> Decimal | None:
    raw = form.raw("weight_kg")
    if raw in (None, ""):
        return None
    weight = _number(raw, whole=False)
    if not isinstance(weight, Decimal | int) or not Decimal(weight).is_finite():
        form.add("weight_kg", _("体重必须是数字。"))
        return None
    problem = bounds.weight_problem(Decimal(weight))
    if problem:
        form.add("weight_kg", problem)
        return None
    return Decimal(weight).quantize(Decimal("0.1"))


def record_health_check(
    *, actor: User, patient: Patient, data: Mapping[str, object], today: dt.date | None = None
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
    if problem := bounds.blood_pressure_problem(texts["blood_pressure"]):
        form.add("blood_pressure", problem)
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
            patient=patient,
            recorded_by=actor,
            date=day,
            consent=consent,
            weight_kg=weight,
            followup=cast("FollowUp | None", followup),
            **texts,
        )
        record_event(
            actor=actor,
            action=Action.CREATE,
            patient_uuids=[patient.uuid],
            detail={"record": "health_check", "health_check": str(check.uuid)},
        )
        announce_patient_change(patient_id=patient.pk, since=day)
    return check
