"""The full rebuild split across two connections (issue 17 §1) writes the same state rows and totals as the rebuild
on one connection. It runs outside a test transaction: the second connection must see the committed registry."""

from __future__ import annotations

import threading
from typing import Any
from unittest.mock import patch

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Model
from django.utils import timezone

from metrics.models import AreaSlotState, PatientYearState
from metrics.state import rebuild as rebuild_module
from metrics.state import setbased
from metrics.state.rebuild import rebuild
from registry.models import Patient

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the set-based rebuild is PostgreSQL's")


def state() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rows = sorted(
        PatientYearState.objects.values_list(
            *[f.attname for f in PatientYearState._meta.concrete_fields if f.attname != "id"]
        ),
        key=repr,
    )
    totals = sorted(
        AreaSlotState.objects.values_list(
            *[f.attname for f in AreaSlotState._meta.concrete_fields if f.attname != "id"]
        ),
        key=repr,
    )
    return rows, totals


def schema(model: type[Model]) -> dict[str, Any]:
    """What a table is beyond its rows: persistence, columns (defaults, identity), constraints (checked or not),
    indexes and sequences, by name."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        described = {}
        for key, sql in {
            "table": "SELECT relname, relpersistence, reloptions FROM pg_class WHERE oid = %(t)s::regclass",
            "columns": "SELECT column_name, data_type, is_nullable, column_default, is_identity, identity_generation"
            " FROM information_schema.columns WHERE table_name = %(t)s ORDER BY ordinal_position",
            "constraints": "SELECT conname, contype, pg_get_constraintdef(oid), convalidated, condeferrable,"
            " condeferred FROM pg_constraint WHERE conrelid = %(t)s::regclass ORDER BY conname",
            "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %(t)s ORDER BY indexname",
            "sequences": "SELECT a.attname, pg_get_serial_sequence(%(t)s, a.attname) FROM pg_attribute a"
            " WHERE a.attrelid = %(t)s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attname",
        }.items():
            cursor.execute(sql, {"t": table})
            described[key] = [row for row in cursor.fetchall() if key != "sequences" or row[1]]
    return described


def staging_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'jf_stage_%%'")
        return [name for (name,) in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_the_rebuild_on_two_connections_writes_the_rows_of_the_rebuild_on_one() -> None:
    call_command("generate_synthetic", patients=400, years=2, seed=7, no_state=True, no_progress=True)
    day = timezone.localdate()
    single = rebuild(day=day, parallel=False)
    expected = state()
    assert single.rows > 400 and expected[1]
    PatientYearState.objects.all().delete()  # the parallel rebuild must write every row itself
    AreaSlotState.objects.all().delete()
    migrated = {model: schema(model) for model in (PatientYearState, AreaSlotState)}
    assert migrated[PatientYearState]["indexes"] and migrated[AreaSlotState]["constraints"]
    parallel = rebuild(day=day)  # outside a transaction: on two connections, new tables put in place of the old
    assert {model: schema(model) for model in migrated} == migrated
    assert parallel.rows == single.rows and parallel.patients == single.patients
    assert state() == expected
    assert staging_tables() == []
    # A country is computed in passes of a few hundred thousand patients (bounded temporary tables): in passes of
    # 37 ids, on one connection and on two, the rows and totals are the same.
    with patch.object(setbased, "PASS_IDS", 37):
        for two in (False, None):
            passes = rebuild(day=day, parallel=two)
            assert passes.rows == single.rows and state() == expected
    assert staging_tables() == []


@pytest.mark.django_db(transaction=True)
def test_the_tables_a_rebuild_put_in_place_take_new_rows_as_the_migrated_ones_did() -> None:
    call_command("generate_synthetic", patients=60, years=1, seed=5, no_state=True, no_progress=True)
    rebuild(day=timezone.localdate())
    highest = PatientYearState.objects.aggregate(highest=Max("id"))["highest"]
    patient = Patient.objects.order_by("pk").first()
    assert highest and patient
    # The upkeep's own writes: the identity goes on after the rebuild's rows, the key is enforced at commit.
    added = PatientYearState.objects.create(patient=patient, year=2001, area_code="", disorder=1)
    assert added.pk > highest
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientYearState.objects.create(patient_id=patient.pk + 10**9, year=2001, area_code="", disorder=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        AreaSlotState.objects.bulk_create([AreaSlotState(year=2001, township=1, slot=0)] * 2)


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_whose_new_rows_break_a_key_leaves_the_old_state_whole() -> None:
    """The new tables are checked before they take the old ones' place: a row of a patient deleted while the
    rebuild computed fails the foreign key, and the old state stays as it was, with no staging table left."""
    call_command("generate_synthetic", patients=80, years=1, seed=9, no_state=True, no_progress=True)
    day = timezone.localdate()
    rebuild(day=day)
    before = state()
    real = rebuild_module.insert_state

    def with_a_deleted_patient(*args: Any, **kwargs: Any) -> int:
        written = real(*args, **kwargs)
        if kwargs.get("into") and threading.current_thread() is threading.main_thread():
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {kwargs['into']} (patient_id, year, area_code, disorder, layer)"  # noqa: S608
                    " SELECT max(patient_id) + 1000000, 2001, '', 1, 0 FROM " + kwargs["into"]
                )
        return written

    with patch.object(rebuild_module, "insert_state", with_a_deleted_patient), pytest.raises(IntegrityError):
        rebuild(day=day)
    assert state() == before
    assert staging_tables() == []


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_inside_a_transaction_keeps_to_one_connection() -> None:
    with transaction.atomic():
        with pytest.raises(ValueError, match="outside a transaction"):
            rebuild(parallel=True)
        rebuild()  # falls back to one connection: the second could not see this transaction's records
    assert staging_tables() == []


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_drops_the_staging_tables_a_killed_rebuild_left() -> None:
    """A rebuild killed mid-way cannot drop its staging tables; the next one drops them, and leaves those
    of a rebuild whose connection is alive (here: this test's own)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), max(pid) + 1000000 FROM pg_stat_activity")
        alive, gone = cursor.fetchone()
        orphan, running = f"jf_stage_{gone}_{'a' * 32}", f"jf_stage_{alive}_{'b' * 32}"
        for name in (orphan, f"{orphan}_own_packed", running, "jf_stage_not_a_rebuilds"):
            cursor.execute(f"CREATE UNLOGGED TABLE {name} (id integer)")
    call_command("generate_synthetic", patients=50, years=1, seed=3, no_state=True, no_progress=True)
    rebuild(day=timezone.localdate())  # outside a transaction: on two connections, with staging tables
    assert sorted(staging_tables()) == sorted([running, "jf_stage_not_a_rebuilds"])
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {running}, jf_stage_not_a_rebuilds")
