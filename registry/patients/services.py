"""Every write to the registry. Each function runs in one transaction and writes its audit event.

Callers (views, commands) have already checked that ``actor`` may write the patient, normally through
``registry.access.visibility.get_patient_for_user(..., write=True)`` or ``registry.access.visibility.can_register_in``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.accounts.models import User
from casemgmt.areas.models import Area
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from casemgmt.crypto.fields import encrypted_fields
from registry import codes
from registry.models import (
    ClosureRequest,
    CustodySpan,
    IdentityRevision,
    Patient,
    StatusChange,
    SupplementaryForm,
    national_id_index,
)
from registry.patients import probes
from registry.patients.values import PatientEntry, Registration, SupplementaryEntry
from registry.signals import announce_patient_change, announce_record_ended


class RegistryError(Exception):
    """A request the rules refuse; the message is for the user."""


@dataclass
class DuplicateRegistration(RegistryError):
    """The national ID number is registered already. ``existing_uuid`` is None outside the actor's view."""

    existing_uuid: uuid.UUID | None

    def __str__(self) -> str:
        if self.existing_uuid is None:
            return _("该身份证号已在其他辖区建档，如患者已迁入本辖区，请申请转入。")
        return _("该身份证号已建档，请打开已有档案。")


class ProbeLimitReached(RegistryError):
    """The account spent today's allowance of ID numbers registered outside its view (``registry.patients.probes``):
    a number it cannot match inside its view is not looked up, registered or not."""

    def __str__(self) -> str:
        return probes.limit_message()


ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    codes.Status.ACTIVE: {codes.Status.LOST, codes.Status.REFUSED, codes.Status.DEAD},
    codes.Status.LOST: {codes.Status.ACTIVE, codes.Status.DEAD},
    codes.Status.REFUSED: {codes.Status.ACTIVE, codes.Status.LOST, codes.Status.DEAD},
    codes.Status.DEAD: set(),
    codes.Status.CLOSED: set(),
}
CLOSABLE_STATUSES = {codes.Status.ACTIVE, codes.Status.LOST, codes.Status.REFUSED, codes.Status.DEAD}


def initial_status(*, consent: int, harmed_others: bool) -> str:
    """A refusal of consent leaves the patient registered as REFUSED, unless art. 30(2)(2) applies."""
    if consent == codes.Consent.REFUSE and not harmed_others:
        return codes.Status.REFUSED
    return codes.Status.ACTIVE


def find_duplicate(
    *,
    actor: User,
    national_id: str,
    exclude_pk: int | None = None,
    channel: probes.Channel = probes.Channel.REGISTRATION,
) -> DuplicateRegistration | None:
    """The refusal for a number registered already (None when it is not), after auditing the probe against the
    patient who holds it. A holder outside the actor's view spends one of today's probes; with none left the
    number is not answered for — registered or not — and ProbeLimitReached is raised instead."""
    existing = Patient.objects.filter(national_id_index=national_id_index(national_id))
    if exclude_pk is not None:
        existing = existing.exclude(pk=exclude_pk)
    existing_uuid = existing.values_list("uuid", flat=True).first()
    if existing_uuid is None:
        if not probes.take(actor, 0):
            raise ProbeLimitReached
        return None
    if Patient.objects.visible_to(actor).filter(uuid=existing_uuid).exists():
        probes.record_probes(
            actor=actor, patient_uuids=[existing_uuid], channel=channel, outcome=probes.Outcome.MATCHED
        )
        return DuplicateRegistration(existing_uuid)
    allowed = probes.take(actor, 1)
    outcome = probes.Outcome.ELSEWHERE if allowed else probes.Outcome.OVER_LIMIT
    probes.record_probes(actor=actor, patient_uuids=[existing_uuid], channel=channel, outcome=outcome)
    if not allowed:
        raise ProbeLimitReached
    return DuplicateRegistration(None)


def register_patient(*, actor: User, village: Area, registration: Registration) -> Patient:
    """Register one person. Raises DuplicateRegistration when the ID number exists anywhere (ProbeLimitReached when
    the actor may not be told so today)."""
    entry, registered_on = registration.patient, registration.registered_on
    duplicate = find_duplicate(actor=actor, national_id=entry.national_id)
    if duplicate is not None:
        raise duplicate
    supplementary = registration.supplementary
    status = initial_status(consent=supplementary.consent, harmed_others=supplementary.harmed_others)
    try:
        with transaction.atomic():
            patient = Patient(
                **entry.columns(),
                registered_on=registered_on,
                village=village,
                status=status,
                status_since=registered_on,
                created_by=actor,
            )
            patient.refresh_indexes()
            patient.save()
            SupplementaryForm.objects.create(
                patient=patient, filled_by=actor, **supplementary.columns(filled_on=registered_on)
            )
            StatusChange.objects.create(
                patient=patient, from_status="", to_status=status, effective_date=registered_on, actor=actor
            )
            CustodySpan.objects.create(patient=patient, area=village, start_date=registered_on)
            record_event(actor=actor, action=Action.CREATE, patient_uuids=[patient.uuid])
            announce_patient_change(patient_id=patient.pk, since=registered_on)
    except IntegrityError as exc:  # a concurrent registration of the same number won the race
        duplicate = find_duplicate(actor=actor, national_id=entry.national_id)
        if duplicate is None:
            raise
        raise duplicate from exc
    return patient


IDENTITY_FIELDS = tuple(f.name for f in encrypted_fields(Patient))
FACT_FIELDS = frozenset({"disorder"})  # edits the indicators see


def update_patient(*, actor: User, patient: Patient, entry: PatientEntry) -> Patient:
    """Apply the identity form to the record; previous identity values are kept, encrypted, in IdentityRevision."""
    if national_id_index(entry.national_id) != patient.national_id_index:  # the same number probes nothing
        duplicate = find_duplicate(
            actor=actor, national_id=entry.national_id, exclude_pk=patient.pk, channel=probes.Channel.EDIT
        )
        if duplicate is not None:
            raise duplicate
    values = entry.columns()
    changed = [name for name, value in values.items() if getattr(patient, name) != value]
    if not changed:
        return patient
    previous_identity = {name: getattr(patient, name) for name in changed if name in IDENTITY_FIELDS}
    with transaction.atomic():
        if previous_identity:
            IdentityRevision.objects.create(
                patient=patient,
                actor=actor,
                changed_fields=sorted(previous_identity),
                previous_values=json.dumps(previous_identity, ensure_ascii=False),
            )
        for name in changed:
            setattr(patient, name, values[name])
        patient.refresh_indexes()
        patient.save()
        record_event(actor=actor, action=Action.UPDATE, patient_uuids=[patient.uuid], detail={"fields": changed})
        if FACT_FIELDS.intersection(changed):
            announce_patient_change(patient_id=patient.pk, since=patient.registered_on)
    return patient


def update_supplementary(*, actor: User, patient: Patient, entry: SupplementaryEntry) -> SupplementaryForm:
    """Save the supplementary form (``filled_on`` not given: today); a record migrated without one gets it
    created here."""
    values = entry.columns(filled_on=timezone.localdate())
    form = SupplementaryForm.objects.filter(patient=patient).first()
    if form is None:
        with transaction.atomic():
            form = SupplementaryForm.objects.create(patient=patient, filled_by=actor, **values)
            record_event(
                actor=actor, action=Action.UPDATE, patient_uuids=[patient.uuid], detail={"supplementary": "created"}
            )
        return form
    changed = [name for name, value in values.items() if getattr(form, name) != value]
    if changed:
        with transaction.atomic():
            for name in changed:
                setattr(form, name, values[name])
            form.filled_by = actor
            form.save()
            record_event(
                actor=actor, action=Action.UPDATE, patient_uuids=[patient.uuid], detail={"supplementary": changed}
            )
    return form


def _check_effective_date(patient: Patient, effective_date: dt.date) -> None:
    if effective_date > timezone.localdate():
        raise RegistryError(_("生效日期不能晚于今天。"))
    if effective_date < patient.status_since or effective_date < patient.registered_on:
        raise RegistryError(_("生效日期不能早于建档日期或当前状态的开始日期。"))


def change_status(
    *,
    actor: User,
    patient: Patient,
    to_status: str,
    effective_date: dt.date,
    lost_reason: int | None = None,
    death_cause: int | None = None,
    death_subcause: int | None = None,
    note: str = "",
) -> StatusChange:
    """Change ACTIVE/LOST/REFUSED/DEAD. Closing goes through request_closure (it needs a second person)."""
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        if to_status not in ALLOWED_TRANSITIONS[patient.status]:
            raise RegistryError(_("当前状态不能变更为所选状态。"))
        _check_effective_date(patient, effective_date)
        if to_status == codes.Status.LOST and lost_reason is None:
            raise RegistryError(_("请选择失访原因。"))
        if to_status == codes.Status.DEAD and death_cause is None:
            raise RegistryError(_("请选择死亡原因。"))
        if death_cause == codes.DeathCause.PHYSICAL and death_subcause is None:
            raise RegistryError(_("死于躯体疾病时请选择具体疾病类别。"))
        change = StatusChange.objects.create(
            patient=patient,
            from_status=patient.status,
            to_status=to_status,
            effective_date=effective_date,
            lost_reason=lost_reason if to_status == codes.Status.LOST else None,
            death_cause=death_cause if to_status == codes.Status.DEAD else None,
            death_subcause=death_subcause if death_cause == codes.DeathCause.PHYSICAL else None,
            note=note,
            actor=actor,
        )
        patient.status, patient.status_since = to_status, effective_date
        patient.save(update_fields=["status", "status_since", "updated_at"])
        record_event(actor=actor, action=Action.STATUS_CHANGE, patient_uuids=[patient.uuid], detail={"to": to_status})
        announce_patient_change(patient_id=patient.pk, since=effective_date)
        if to_status == codes.Status.DEAD:
            announce_record_ended(patient_id=patient.pk, status=to_status, effective_date=effective_date, actor=actor)
    return change


def request_closure(
    *, actor: User, patient: Patient, effective_date: dt.date, reason: int, note: str = ""
) -> ClosureRequest:
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        if patient.status not in CLOSABLE_STATUSES:
            raise RegistryError(_("该档案已注销。"))
        if patient.closure_requests.filter(decision=ClosureRequest.Decision.PENDING).exists():
            raise RegistryError(_("该档案已有待审核的注销申请。"))
        _check_effective_date(patient, effective_date)
        closure = ClosureRequest.objects.create(
            patient=patient, effective_date=effective_date, reason=reason, note=note, requested_by=actor
        )
        record_event(actor=actor, action=Action.CLOSURE_REQUEST, patient_uuids=[patient.uuid])
    return closure


def decide_closure(*, actor: User, closure: ClosureRequest, confirm: bool) -> ClosureRequest:
    """The second person confirms or rejects. The requester can never confirm their own request."""
    with transaction.atomic():
        closure = ClosureRequest.objects.select_for_update().select_related("patient").get(pk=closure.pk)
        if closure.decision != ClosureRequest.Decision.PENDING:
            raise RegistryError(_("该注销申请已处理。"))
        if closure.requested_by_id == actor.pk:
            raise RegistryError(_("注销需由申请人以外的另一人审核。"))
        patient = Patient.objects.select_for_update().get(pk=closure.patient_id)
        closure.decision = ClosureRequest.Decision.CONFIRMED if confirm else ClosureRequest.Decision.REJECTED
        closure.decided_by, closure.decided_at = actor, timezone.now()
        closure.save(update_fields=["decision", "decided_by", "decided_at"])
        if confirm:
            StatusChange.objects.create(
                patient=patient,
                from_status=patient.status,
                to_status=codes.Status.CLOSED,
                effective_date=closure.effective_date,
                closure_reason=closure.reason,
                note=closure.note,
                actor=closure.requested_by,
                confirmed_by=actor,
            )
            patient.status, patient.status_since = codes.Status.CLOSED, closure.effective_date
            patient.save(update_fields=["status", "status_since", "updated_at"])
            announce_patient_change(patient_id=patient.pk, since=closure.effective_date)
            announce_record_ended(
                patient_id=patient.pk, status=codes.Status.CLOSED, effective_date=closure.effective_date, actor=actor
            )
        record_event(
            actor=actor,
            action=Action.CLOSURE_DECISION,
            patient_uuids=[patient.uuid],
            detail={"confirmed": confirm},
        )
    return closure
