"""How much of a visible record a user is shown (domain.md §8, §12), and what the pages display.

Visibility (may this user reach the patient at all) is decided by ``Patient.objects.visible_to`` alone. This
module decides the *depth* of what a visible record discloses:

- FULL: the doctors of the jurisdiction; area staff after they stated a reason (for a limited time); a doctor
  or officer from elsewhere during a break-glass access (``registry.breakglass``: read-only).
- MASKED: area staff otherwise — a masked summary with no contacts (张*三, 3205**********123X).
- LIMITED: everyone who reaches the patient through a per-patient grant only (the case team): identity,
  contacts and guardian, never the clinical history.

Display values are built here, in Python, so the templates cannot forget to mask.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from casemgmt.accounts.models import User
from casemgmt.listing import enumeration
from registry import codes
from registry.access.visibility import broke_the_glass, can_write, sees_masked_identity
from registry.models import Patient, SupplementaryForm
from registry.patients import masking

if TYPE_CHECKING:
    from django.db.models import Field

OPENED_SESSION_KEY = "registry.opened_with_reason"
DEFAULT_OPEN_SECONDS = 15 * 60


class Disclosure(StrEnum):
    FULL = "full"
    MASKED = "masked"
    LIMITED = "limited"


def open_seconds() -> int:
    """How long a record opened with a stated reason stays open (``REGISTRY_OPEN_WITH_REASON_SECONDS``)."""
    return int(getattr(settings, "REGISTRY_OPEN_WITH_REASON_SECONDS", DEFAULT_OPEN_SECONDS))


def remember_opening(session: SessionBase, patient_uuid: uuid.UUID, *, now: float | None = None) -> None:
    """Note in the session that the user stated a reason; expired entries are dropped on the way."""
    now = time.time() if now is None else now
    opened = {key: until for key, until in session.get(OPENED_SESSION_KEY, {}).items() if until > now}
    opened[str(patient_uuid)] = now + open_seconds()
    session[OPENED_SESSION_KEY] = opened


def has_opened(session: SessionBase, patient_uuid: uuid.UUID, *, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    until = session.get(OPENED_SESSION_KEY, {}).get(str(patient_uuid))
    return until is not None and float(until) > now


def disclosure_for(user: User, session: SessionBase, patient: Patient) -> Disclosure:
    if broke_the_glass(user, patient):
        return Disclosure.FULL
    if sees_masked_identity(user):
        return Disclosure.FULL if has_opened(session, patient.uuid) else Disclosure.MASKED
    if can_write(user, patient):
        return Disclosure.FULL
    return Disclosure.LIMITED


Fact = tuple[str, object]


def _label(model: type[Any], name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def _patient_facts(patient: Patient, names: tuple[str, ...]) -> list[Fact]:
    return [(_label(Patient, name), getattr(patient, name)) for name in names]


def identity_facts(patient: Patient, disclosure: Disclosure) -> list[Fact]:
    today = timezone.localdate()
    years = patient.age_on(today)
    age = ngettext("%(age)d 岁", "%(age)d 岁", years) % {"age": years}
    if disclosure == Disclosure.MASKED:
        return [
            (_label(Patient, "name"), masking.mask_name(patient.name)),
            (_label(Patient, "national_id"), masking.mask_national_id(patient.national_id)),
            (_label(Patient, "sex"), patient.get_sex_display()),
            (_("年龄"), age),
            (_label(Patient, "village"), patient.village.name),
        ]
    facts: list[Fact] = [
        *_patient_facts(patient, ("name", "national_id")),
        (_label(Patient, "sex"), patient.get_sex_display()),
    ]
    if disclosure == Disclosure.FULL:  # the case team (LIMITED) is not given age or birth date (domain.md §8)
        facts += [(_label(Patient, "birth_date"), patient.birth_date), (_("年龄"), age)]
    facts += [
        *_patient_facts(patient, ("phone",)),
        (_label(Patient, "village"), patient.village.name),
        *_patient_facts(patient, ("address", "hukou_address", "committee_contact_name", "committee_contact_phone")),
    ]
    if disclosure == Disclosure.FULL:
        facts += _patient_facts(patient, ("notes",))
    return facts


GUARDIAN_FIELDS = ("guardian_name", "guardian_relation", "guardian_phone", "guardian_address")


def guardian_facts(patient: Patient) -> list[Fact]:
    return _patient_facts(patient, GUARDIAN_FIELDS)


def clinical_facts(patient: Patient) -> list[Fact]:
    """The clinical basics kept on the record itself (FULL and MASKED: codes, no identity)."""
    return [
        (_label(Patient, "disorder"), patient.get_disorder_display()),
        (_label(Patient, "diagnosis_date"), patient.diagnosis_date),
        (_label(Patient, "diagnosis_hospital"), patient.diagnosis_hospital),
        (_label(Patient, "registered_on"), patient.registered_on),
    ]


SUPPLEMENTARY_DISPLAY_EXCLUDE = frozenset({"id", "uuid", "patient", "filled_by", "updated_at"})


def _display(field: Field[Any, Any], value: Any) -> object:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if field.name == "past_symptoms":
        labels = dict(codes.Symptom.choices)
        return enumeration(labels.get(code, code) for code in value)
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    return value


def supplementary_facts(form: SupplementaryForm) -> list[Fact]:
    facts = [
        (str(field.verbose_name), _display(field, getattr(form, field.name)))
        for field in SupplementaryForm._meta.concrete_fields
        if field.name not in SUPPLEMENTARY_DISPLAY_EXCLUDE
    ]
    facts.append((_("填表医生"), str(form.filled_by)))
    return facts


@dataclass(frozen=True)
class PatientRow:
    """One line of the patient list, already masked where the user sees masked identity."""

    uuid: uuid.UUID
    name: str
    national_id: str
    sex: str
    age: int
    village: str
    disorder: str
    status: str
    status_label: str
    registered_on: dt.date
    pending_closure: bool


def list_row(patient: Patient, *, masked: bool, today: dt.date) -> PatientRow:
    name, national_id = patient.name, patient.national_id
    if masked:
        name, national_id = masking.mask_name(name), masking.mask_national_id(national_id)
    return PatientRow(
        uuid=patient.uuid,
        name=name,
        national_id=national_id,
        sex=patient.get_sex_display(),
        age=patient.age_on(today),
        village=patient.village.name,
        disorder=patient.get_disorder_display(),
        status=patient.status,
        status_label=patient.get_status_display(),
        registered_on=patient.registered_on,
        pending_closure=bool(getattr(patient, "pending_closure", False)),
    )
