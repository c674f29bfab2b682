"""The full rebuild split across two connections (issue 17 §1) writes the same state rows and totals as the rebuild
on one connection. It runs outside a test transaction: the second connection must see the committed registry."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from metrics.models import AreaSlotState, PatientYearState
from metrics.state import setbased
from metrics.state.rebuild import rebuild

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
    parallel = rebuild(day=day)  # outside a transaction: on two connections
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
def test_a_rebuild_inside_a_transaction_keeps_to_one_connection() -> None:
    with transaction.atomic():
        with pytest.raises(ValueError, match="outside a transaction"):
            rebuild(parallel=True)
        rebuild()  # falls back to one connection: the second could not see this transaction's records
    assert staging_tables() == []


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_drops_the_staging_tables_a_killed_rebuild_left() -> None:
    """A rebuild killed mid-way cannot drop its unlogged staging tables; the next one drops them, and leaves those
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
