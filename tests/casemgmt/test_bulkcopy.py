"""casemgmt.bulkcopy: rows written through COPY (PostgreSQL) or bulk_create read back as a save() stores them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from casemgmt.bulkcopy import BulkInserter, copies_overlapping
from casemgmt.crypto import cipher as crypto
from followup.models import FollowUp
from registry.models import Patient, StatusChange
from tests.base import TODAY, World, patient_fields


def new_patient(world: World, **overrides: Any) -> Patient:
    fields = patient_fields(**overrides)
    patient = Patient(
        uuid=uuid.uuid4(),
        village=world.village_a1,
        created_by=world.admin_e,
        status="ACTIVE",
        status_since=fields["registered_on"],
        **fields,
    )
    patient.refresh_indexes()
    return patient


def test_identity_is_sealed_as_a_save_seals_it_and_keys_are_set(world: World) -> None:
    patients = [new_patient(world), new_patient(world, phone="")]
    names = [p.name for p in patients]
    BulkInserter().insert(patients)
    assert all(p.pk is not None for p in patients)
    stored = Patient.objects.filter(pk__in=[p.pk for p in patients]).order_by("pk")
    assert [p.name for p in stored] == names  # decrypts with this row's UUID as associated data
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, phone, created_at FROM registry_patient WHERE id = %s", [patients[1].pk])
        raw_name, raw_phone, created_at = cursor.fetchone()
    assert crypto.token_key_id(raw_name) and names[1] not in raw_name
    assert raw_phone == ""  # empty stays empty, as in a save
    assert created_at is not None
    assert Patient.objects.get(national_id_index=patients[0].national_id_index).pk == patients[0].pk


def test_rows_take_the_model_defaults_and_return_the_keys(world: World) -> None:
    inserter = BulkInserter()
    day = TODAY - dt.timedelta(days=3)
    names = ("patient_id", "doctor_id", "date", "mode", "outcome", "submission_key", "symptoms")
    rows = [
        (world.patient_a.pk, world.doctor_a.pk, day, 1, "REACHED", uuid.uuid4(), symptoms) for symptoms in ([], [1, 3])
    ]
    keys = inserter.insert_rows(FollowUp, names, rows)
    stored = FollowUp.objects.filter(pk__in=keys).order_by("pk")
    assert [f.pk for f in stored] == keys
    assert len({f.uuid for f in stored}) == 2  # a callable default is called per row
    assert [f.symptoms for f in stored] == [[], [1, 3]]  # JSON converted
    assert all(f.contacts == [] for f in stored)  # a callable JSON default
    assert all(f.created_at is not None and f.date == day and f.risk_level is None for f in stored)
    assert all(f.family_support is False for f in stored)  # a constant default


def test_encrypted_models_need_instances(world: World) -> None:
    with pytest.raises(TypeError):
        BulkInserter().insert_rows(Patient, ["village_id"], [(world.village_a1.pk,)])


def test_a_duplicate_is_an_integrity_error_and_the_transaction_keeps_nothing(world: World) -> None:
    first = new_patient(world)
    twin = new_patient(world, national_id=first.national_id)
    changes_before = StatusChange.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        inserter = BulkInserter()
        inserter.insert([first])
        inserter.insert([twin])
    assert not Patient.objects.filter(national_id_index=first.national_id_index).exists()
    assert StatusChange.objects.count() == changes_before


def test_json_values_are_stored_as_json_whatever_they_hold(world: World) -> None:
    values: list[Any] = [[1, 3], [1, 3], ["甲", 'a"b'], [[1], {"k": [2]}], [{"k": 1}], [], [None, True, 2.5]]
    names = ("patient_id", "doctor_id", "date", "mode", "outcome", "submission_key", "symptoms")
    rows = [(world.patient_a.pk, world.doctor_a.pk, TODAY, 1, "REACHED", uuid.uuid4(), v) for v in values]
    keys = BulkInserter().insert_rows(FollowUp, names, rows)
    assert [f.symptoms for f in FollowUp.objects.filter(pk__in=keys).order_by("pk")] == values
    with connection.cursor() as cursor:
        cursor.execute("SELECT jsonb_typeof(symptoms) FROM followup_followup WHERE id = ANY(%s)", [keys])
        assert {kind for (kind,) in cursor.fetchall()} == {"array"}  # JSON arrays, not strings holding JSON


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY ends early on PostgreSQL only")
def test_a_duplicate_in_a_copy_that_ended_early_fails_the_next_statement_and_keeps_nothing(world: World) -> None:
    first = new_patient(world)
    twin = new_patient(world, national_id=first.national_id)
    reached = []
    with pytest.raises(IntegrityError), transaction.atomic(), copies_overlapping():
        BulkInserter().insert([first, twin])  # the server finds the duplicate; its answer is not read yet
        reached.append("the statement after the COPY")
        StatusChange.objects.count()  # which reads the COPY's result first
    assert reached
    assert not Patient.objects.filter(national_id_index=first.national_id_index).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY ends early on PostgreSQL only")
def test_the_blocks_end_reads_the_last_copys_result(world: World) -> None:
    first = new_patient(world)
    twin = new_patient(world, national_id=first.national_id)
    with pytest.raises(IntegrityError), transaction.atomic(), copies_overlapping():
        BulkInserter().insert([first, twin])
    assert not Patient.objects.filter(national_id_index=first.national_id_index).exists()
    good = new_patient(world)
    with transaction.atomic(), copies_overlapping():
        BulkInserter().insert([good])
        BulkInserter().insert([new_patient(world)])  # a second COPY reads the first's result, then its own ends
    assert Patient.objects.filter(pk=good.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY ends early on PostgreSQL only")
def test_an_error_in_python_while_a_copy_is_unread_leaves_the_connection_usable(world: World) -> None:
    twin_of = new_patient(world)
    with pytest.raises(KeyError), transaction.atomic(), copies_overlapping():
        BulkInserter().insert([twin_of, new_patient(world, national_id=twin_of.national_id)])
        raise KeyError("the loader's own error, not the COPY's")
    assert not Patient.objects.filter(national_id_index=twin_of.national_id_index).exists()
    assert Patient.objects.filter(pk=world.patient_a.pk).exists()  # the rollback went through
