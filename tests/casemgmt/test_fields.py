"""The encrypted model field: nothing readable at rest, plaintext on access, no way to write plaintext."""

from __future__ import annotations

import pytest
from django.db import connection

from casemgmt.crypto import cipher as crypto
from registry.models import IdentityRevision, Patient
from tests.base import World, edit_patient


def raw_column(patient: Patient, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM registry_patient WHERE id = %s", [patient.pk])  # noqa: S608
        return str(cursor.fetchone()[0])


def test_identity_is_ciphertext_at_rest_and_plaintext_on_access(world: World) -> None:
    patient = Patient.objects.get(pk=world.patient_a.pk)
    for column in ("name", "national_id", "phone", "address"):
        stored = raw_column(patient, column)
        assert stored.startswith("v1."), column
        assert getattr(world.patient_a, column) not in stored
    assert patient.name == world.patient_a.name
    assert patient.national_id == world.patient_a.national_id


def test_token_copied_to_another_row_does_not_decrypt(world: World) -> None:
    token = raw_column(world.patient_a, "name")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE registry_patient SET name = %s WHERE id = %s", [token, world.patient_b.pk])
    moved = Patient.objects.get(pk=world.patient_b.pk)
    with pytest.raises(crypto.DecryptionError):
        _ = moved.name


def test_plaintext_stored_by_mistake_raises_instead_of_being_shown(world: World) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE registry_patient SET phone = %s WHERE id = %s", ["13800000000", world.patient_a.pk])
    with pytest.raises(crypto.DecryptionError):
        _ = Patient.objects.get(pk=world.patient_a.pk).phone


def test_plaintext_cannot_be_written_or_queried_without_a_row(world: World) -> None:
    with pytest.raises(TypeError):
        Patient.objects.filter(pk=world.patient_a.pk).update(name="张三")
    with pytest.raises(TypeError):
        list(Patient.objects.filter(name="张三"))


def test_unchanged_values_are_not_reencrypted_on_save(world: World) -> None:
    before = raw_column(world.patient_a, "name")
    patient = Patient.objects.get(pk=world.patient_a.pk)
    patient.save()
    assert raw_column(world.patient_a, "name") == before


def test_identity_history_is_encrypted_too(world: World) -> None:
    old_phone = world.patient_a.phone
    edit_patient(world.doctor_a, world.patient_a, phone="13912345678")
    revision = IdentityRevision.objects.get(patient=world.patient_a)
    with connection.cursor() as cursor:
        cursor.execute("SELECT previous_values FROM registry_identityrevision WHERE id = %s", [revision.pk])
        stored = cursor.fetchone()[0]
    assert old_phone not in stored
    assert old_phone in IdentityRevision.objects.get(pk=revision.pk).previous_values
    assert revision.changed_fields == ["phone"]
