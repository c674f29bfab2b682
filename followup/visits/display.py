"""Display values for the follow-up pages, built in Python so templates cannot forget a code's label.

Nothing here queries patients: callers hand over patients they reached through ``registry.access.visibility``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext as _

from casemgmt.listing import enumeration
from followup import codes
from followup.models import FollowUp, PatientCareState
from followup.visits import rules
from followup.visits.drugs import DRUGS
from followup.visits.queries import WorkItem
from registry import codes as registry_codes
from registry.models import Patient

CLASSIFICATION_CSS: dict[int, str] = {
    codes.Classification.UNSTABLE: "unstable",
    codes.Classification.BASICALLY_STABLE: "basic",
    codes.Classification.STABLE: "stable",
}
ADHERENCE_CSS: dict[int, str] = {
    codes.Adherence.REGULAR: "good",
    codes.Adherence.INTERMITTENT: "fair",
    codes.Adherence.NOT_TAKING: "poor",
    codes.Adherence.NOT_PRESCRIBED: "none",
}


def risk_short(level: int | None) -> str:
    """ "3级" rather than the long definition, for lists and the panel."""
    return "" if level is None else _("%(level)s级") % {"level": level}


def label_of(choices: type[models.Choices], value: object) -> str:
    if value in (None, ""):
        return ""
    return str(dict(choices.choices).get(value, value))


# --- the work list -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkRow:
    """One line of the doctor's work list. The doctor of the township sees the full name and phone: the list
    exists so that they can call or visit."""

    uuid: uuid.UUID
    detail_url: str
    followup_url: str
    status_url: str
    name: str
    phone: str
    village: str
    next_due: dt.date | None
    overdue_days: int
    risk: str
    risk_level: int | None
    classification: str
    classification_css: str
    not_reached: int


PLACEHOLDER = uuid.UUID(int=0)


# The status page, opened from the "not reached in a row" list, proposes 失访 with reason 4 (连续3次未访到).
LOST_AFTER_MISSED_VISITS = f"?to={registry_codes.Status.LOST}&lost_reason={registry_codes.LostReason.THREE_MISSED}"


class PatientUrl:
    """``reverse`` once, then substitute each patient's UUID: a work list links hundreds of patients and
    reversing each link was a noticeable share of the page's server time."""

    def __init__(self, name: str) -> None:
        self.template = reverse(name, kwargs={"patient_uuid": PLACEHOLDER})

    def __call__(self, patient_uuid: uuid.UUID) -> str:
        return self.template.replace(str(PLACEHOLDER), str(patient_uuid))


def work_row(item: WorkItem, urls: tuple[PatientUrl, PatientUrl, PatientUrl]) -> WorkRow:
    patient = item.patient
    detail, followup, status = urls
    return WorkRow(
        uuid=patient.uuid,
        detail_url=detail(patient.uuid),
        followup_url=followup(patient.uuid),
        status_url=status(patient.uuid) + LOST_AFTER_MISSED_VISITS,
        name=patient.name,
        phone=patient.phone,
        village=patient.village.name,
        next_due=item.next_due,
        overdue_days=item.overdue_days,
        risk=risk_short(item.risk_level),
        risk_level=item.risk_level,
        classification=label_of(codes.Classification, item.classification),
        classification_css=CLASSIFICATION_CSS.get(item.classification or 0, ""),
        not_reached=item.not_reached,
    )


def work_rows(items: Iterable[WorkItem]) -> list[WorkRow]:
    urls = (
        PatientUrl("registry:patient_detail"),
        PatientUrl("followup:followup_new"),
        PatientUrl("registry:status_change"),
    )
    return [work_row(item, urls) for item in items]


# --- one follow-up -----------------------------------------------------------------------------------------

Fact = tuple[str, object]

COMMON_FIELDS = ("date", "mode", "contacts", "outcome")
OUTCOME_DETAIL_FIELDS = ("lost_reason", "death_date", "death_cause", "death_subcause")
CLINICAL_DISPLAY_FIELDS = (
    "risk_level", "minor_trouble", "trouble", "disaster", "other_harm", "self_harm", "suicide_attempt",
    "self_harm_level_confirmed", "symptoms", "symptom_other", "obvious_psychotic_symptoms", "insight", "sleep", "diet",
    *(name for name, _label in codes.SOCIAL_FIELDS),
    "locking", "hospitalisation", "last_discharge_date", "lab", "lab_text", "adherence", "adverse_reaction",
    "adverse_reaction_text", "adverse_reaction_severe", "severe_physical_illness", "treatment_effect", "referral",
    "referral_reason", "referral_institution", "referral_department", "rehabilitation", "rehabilitation_other",
    "family_support",
    "suggested_classification", "classification", "suggested_next_date", "next_date", "next_date_reason",
)  # fmt: skip
LIST_LABELS: dict[str, type[models.Choices]] = {
    "contacts": codes.Contact,
    "symptoms": registry_codes.Symptom,
    "rehabilitation": codes.Rehabilitation,
}


def _value(followup: FollowUp, name: str) -> object:
    field = FollowUp._meta.get_field(name)
    value = getattr(followup, name)
    if name in LIST_LABELS:
        labels = dict(LIST_LABELS[name].choices)
        return enumeration(labels.get(code, code) for code in value or [])
    if isinstance(value, bool):
        return _("是") if value else _("否")
    choices = getattr(field, "choices", None)
    if choices and value is not None:
        return str(dict(choices).get(value, value))
    return value


def _label(name: str) -> str:
    return str(FollowUp._meta.get_field(name).verbose_name)  # type: ignore[union-attr]


def followup_facts(followup: FollowUp) -> list[Fact]:
    """Every recorded item of one follow-up, labelled as on the national form; the other outcomes' fields and
    the clinical fields of an attempt are left out rather than shown empty."""
    names: list[str] = list(COMMON_FIELDS)
    if followup.outcome in (codes.Outcome.LOST, codes.Outcome.DEAD):
        names += [n for n in OUTCOME_DETAIL_FIELDS if getattr(followup, n) not in (None, "")]
    if followup.is_reached:
        names += CLINICAL_DISPLAY_FIELDS
    facts = [(_label(name), _value(followup, name)) for name in names]
    facts.append((_("随访医生"), str(followup.doctor)))
    return facts


# --- the compact patient panel -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """What the patient panel shows: the current state and the links this user may follow.

    Risk, classification and next due date are shown to everyone who reaches the patient (the case team needs
    them, domain.md §8); the clinical pages are linked only for those who may read the clinical history.
    """

    patient: Patient
    has_state: bool
    risk: str
    risk_level: int | None
    classification: str
    classification_css: str
    next_due: dt.date | None
    overdue_days: int
    due_soon: bool
    last_followup: dt.date | None
    suggest_lost: bool
    can_write: bool
    can_read_clinical: bool
    accepts_followups: bool


CLOSED_STATUSES = frozenset({registry_codes.Status.DEAD, registry_codes.Status.CLOSED})


def accepts_followups(patient: Patient) -> bool:
    """A dead or withdrawn record takes no new follow-ups; a LOST or REFUSED one does (found again, art. 30)."""
    return patient.status not in CLOSED_STATUSES


def panel(
    patient: Patient, state: PatientCareState | None, *, can_write: bool, can_read_clinical: bool, today: dt.date
) -> Panel:
    due = state.next_due_date if state else None
    level = state.risk_level if state else None
    classification = state.classification if state else None
    return Panel(
        patient=patient,
        has_state=state is not None,
        risk=risk_short(level),
        risk_level=level,
        classification=label_of(codes.Classification, classification),
        classification_css=CLASSIFICATION_CSS.get(classification or 0, ""),
        next_due=due,
        overdue_days=rules.overdue_days(due, today),
        due_soon=rules.due_soon(due, today),
        last_followup=state.last_followup_date if state else None,
        suggest_lost=bool(state and state.consecutive_not_reached >= rules.NOT_REACHED_BEFORE_LOST)
        and patient.status == registry_codes.Status.ACTIVE,
        can_write=can_write,
        can_read_clinical=can_read_clinical,
        accepts_followups=accepts_followups(patient),
    )


# --- the live suggestion in the browser ----------------------------------------------------------------------


REACHED_HISTORY_LIMIT = 12  # the previous class is the latest reached before the visit; older ones never matter


def form_config(*, history: Iterable[rules.Attempt], registered_on: dt.date, today: dt.date) -> dict[str, object]:
    """Everything static/js/followup.js needs to repeat the §7 rules live: the thresholds and intervals come
    from ``followup.visits.rules`` so the browser and the server cannot drift apart on a number.

    ``reached`` lists (date, class) of the latest reached follow-ups, oldest first: the next-date rule looks at
    the latest one on or before the visit date, which the doctor may change while filling the form.
    """
    reached = sorted((a.date, a.key, a.classification) for a in history if a.outcome == rules.REACHED)
    return {
        "reached": [[day.isoformat(), klass] for day, _key, klass in reached[-REACHED_HISTORY_LIMIT:]],
        "registeredOn": registered_on.isoformat(),
        "today": today.isoformat(),
        "rules": {
            "unstable": rules.UNSTABLE,
            "basic": rules.BASICALLY_STABLE,
            "stable": rules.STABLE,
            "unstableRiskFrom": rules.UNSTABLE_RISK_FROM,
            "selfHarmRiskLevel": rules.SELF_HARM_RISK_LEVEL,
            "unstableDays": rules.UNSTABLE_INTERVAL_DAYS,
            "basicDays": rules.BASICALLY_STABLE_INTERVAL_DAYS,
            "basicRepeatMonths": rules.BASICALLY_STABLE_REPEAT_MONTHS,
            "stableMonths": rules.STABLE_INTERVAL_MONTHS,
            "poor": rules.POOR,
            "insightPartial": rules.INSIGHT_PARTIAL,
            "insightAbsent": rules.INSIGHT_ABSENT,
        },
        "classifications": {str(value): str(label) for value, label in codes.Classification.choices},
        "reasons": {key: str(label) for key, label in codes.SUGGESTION_REASONS.items()},
        "assessedItems": list(rules.ASSESSED_ITEMS),
        "normalGrade": int(codes.Grade.GOOD),
        "itemLabels": {name: str(label) for name, label in codes.ASSESSED_ITEM_LABELS.items()},
        "longActing": [drug.name for drug in DRUGS if drug.long_acting],
        "text": {
            "suggested": _("系统建议"),
            "because": _("依据"),
            "noReason": _("各项均良好"),
            "nextDate": _("建议下次随访日期"),
            "adopt": _("采用建议"),
            "differs": _("与建议不同：以您的选择为准。"),
            "later": _("晚于建议日期，请填写理由。"),
            "needs": _("还需填写"),
        },
    }
