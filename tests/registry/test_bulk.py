"""The bulk path writes the same rows as register_patient, with real encryption and blind indexes."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from typing import Any

import pytest
from django.db import connection

from casemgmt.audit.models import AuditEvent, AuditSubject
from devdata.registry_bulk import NationalIdAllocator, create_synthetic_patients
from registry import codes
from registry.models import (
    CustodySpan,
    Patient,
    StatusChange,
    SupplementaryForm,
    name_index,
    national_id_index,
    phone_tail_index,
)
from registry.patients import idnumber
from registry.patients.services import ALLOWED_TRANSITIONS
from tests.base import World

TODAY = dt.date(2026, 6, 30)

pytestmark = pytest.mark.django_db


def _create(world: World, count: int, seed: int = 7, **kwargs: Any) -> int:
    return create_synthetic_patients(
        villages=[world.village_a1, world.village_a2, world.village_b1],
        count=count,
        actor=world.admin_e,
        seed=seed,
        today=TODAY,
        **kwargs,
    )


def test_records_decrypt_and_have_correct_blind_indexes(world: World) -> None:
    assert _create(world, 60, batch_size=25) == 60
    patients = list(Patient.objects.exclude(pk__in=[world.patient_a.pk, world.patient_b.pk]))
    assert len(patients) == 60
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, national_id FROM registry_patient WHERE id = %s", [patients[0].pk])
        stored_name, stored_id = cursor.fetchone()
    assert stored_name.startswith("v1.") and stored_id.startswith("v1.")
    for patient in patients:
        number = patient.national_id  # decrypts with the row's uuid as associated data
        assert idnumber.validate(number, today=TODAY) == number
        assert idnumber.birth_date_of(number) == patient.birth_date
        assert idnumber.sex_of(number) == patient.sex
        assert patient.national_id_index == national_id_index(number)
        assert patient.name_index == name_index(patient.name)
        assert patient.phone_tail_index == (phone_tail_index(patient.phone) if patient.phone else "")
        assert patient.name and patient.address and patient.hukou_address
        assert bool(patient.guardian_name) == bool(patient.guardian_phone) == bool(patient.guardian_relation)
        assert patient.supplementary.consent_signer in ("", patient.name, patient.guardian_name)
    # The blind index finds a record exactly as the registry's own duplicate check does.
    sample = patients[17]
    assert Patient.objects.get(national_id_index=national_id_index(sample.national_id)).pk == sample.pk


def test_every_patient_has_form_custody_and_consistent_history(world: World) -> None:
    _create(world, 300, batch_size=120)
    new = Patient.objects.exclude(pk__in=[world.patient_a.pk, world.patient_b.pk])
    assert SupplementaryForm.objects.filter(patient__in=new).count() == 300
    assert CustodySpan.objects.filter(patient__in=new).count() == 300
    histories: dict[int, list[StatusChange]] = {}
    for change in StatusChange.objects.filter(patient__in=new).order_by("patient_id", "effective_date", "id"):
        histories.setdefault(change.patient_id, []).append(change)
    for patient in new:
        history = histories[patient.pk]
        assert history[0].from_status == "" and history[0].effective_date == patient.registered_on
        assert history[-1].to_status == patient.status and history[-1].effective_date == patient.status_since
        for before, after in itertools.pairwise(history):
            assert after.from_status == before.to_status
            assert after.to_status in ALLOWED_TRANSITIONS[before.to_status]
            assert after.effective_date >= before.effective_date
        assert patient.registered_on <= patient.status_since <= TODAY
        last = history[-1]
        if patient.status == codes.Status.LOST:
            assert last.lost_reason in codes.LostReason.values
        if patient.status == codes.Status.DEAD:
            assert last.death_cause in codes.DeathCause.values
            assert (last.death_subcause is not None) == (last.death_cause == codes.DeathCause.PHYSICAL)
        if patient.status == codes.Status.REFUSED:
            assert patient.supplementary.consent == codes.Consent.REFUSE


def test_mix_is_realistic(world: World) -> None:
    _create(world, 1000, seed=11)
    new = Patient.objects.exclude(pk__in=[world.patient_a.pk, world.patient_b.pk])
    disorders = Counter(new.values_list("disorder", flat=True))
    statuses = Counter(new.values_list("status", flat=True))
    assert 680 <= disorders[codes.Disorder.SCHIZOPHRENIA] <= 820
    assert set(disorders) == set(range(1, 7))
    assert statuses[codes.Status.ACTIVE] > 800
    assert {codes.Status.LOST, codes.Status.REFUSED, codes.Status.DEAD} <= set(statuses)
    assert codes.Status.CLOSED not in statuses
    years = {d.year for d in new.values_list("registered_on", flat=True)}
    assert len(years) >= 5


def test_deterministic_for_a_seed(world: World) -> None:
    _create(world, 40, seed=3)
    created = list(Patient.objects.filter(created_by=world.admin_e))
    first = sorted((p.name, p.disorder, p.status) for p in created)
    ids_before = {p.national_id for p in created}
    assert len(ids_before) == 40
    # The same seed again: identical content, except ID numbers taken by the first run are re-numbered.
    _create(world, 40, seed=3)
    all_new = list(Patient.objects.filter(created_by=world.admin_e))
    assert len(all_new) == 80
    assert len({p.national_id for p in all_new}) == 80
    second = sorted((p.name, p.disorder, p.status) for p in all_new if p.national_id not in ids_before)
    assert second == first


def test_one_audit_event_per_batch_without_identity(world: World) -> None:
    before = AuditEvent.objects.count()
    _create(world, 50, batch_size=20)
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [e.detail["count"] for e in events] == [20, 20, 10]
    assert AuditSubject.objects.filter(event__in=events).count() == 50
    for event in events:
        assert set(event.detail) == {"source", "count"}


def test_progress_is_reported_per_batch(world: World) -> None:
    seen: list[tuple[int, int]] = []
    _create(world, 45, batch_size=20, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(20, 45), (40, 45), (45, 45)]


def test_refuses_non_village_areas(world: World) -> None:
    with pytest.raises(ValueError):
        create_synthetic_patients(villages=[world.township_a], count=1, actor=world.admin_e, seed=1, today=TODAY)


def test_id_allocator_is_unique_and_valid() -> None:
    allocator = NationalIdAllocator()
    born = dt.date(1990, 1, 2)
    numbers = [allocator.allocate("320508", born, sex) for sex in (1, 2) for _ in range(500)]
    assert len(set(numbers)) == 1000
    for number in numbers:
        assert idnumber.validate(number, today=TODAY) == number
    with pytest.raises(ValueError):
        allocator.allocate("320508", born, 1)
