"""Migration 0009 re-keys the per-township totals (the township's 9 digits as an integer) and turns their
deaths-excluded counts (``_x``) into deaths among the set (``_d`` = ``_i`` - ``_x``): the figures a report reads
must be the same before and after, both ways."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("metrics", "0008_state_excluded_reading_derived")]
AFTER = [("metrics", "0009_state_smaller_keys")]
TABLE = "metrics_areaslotstate"


def _migrate(target: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


def _rows(key: str, columns: str) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT year, slot, {key}, {columns} FROM {TABLE} ORDER BY year, slot, {key}")  # noqa: S608
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_totals_keep_their_figures_through_the_migration_and_back() -> None:
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("metrics")
    _migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (year, area_code, slot, stable_i, stable_x, schizophrenia_i, schizophrenia_x,"  # noqa: S608
                " registered_i, registered_x, died_2) VALUES"
                " (2025, '340202001000', 3, 10, 9, 4, 4, 12, 11, 1),"
                " (2025, '340202002000', 3, 5, 5, NULL, NULL, 7, 7, NULL),"
                " (2026, '340202001000', 0, 2, NULL, 1, NULL, 2, NULL, 2),"
                " (2026, '000', 0, 1, 1, NULL, NULL, 1, 1, NULL)"  # rows of no village: never read, left behind
            )
        _migrate(AFTER)
        after = "stable_i, stable_d, schizophrenia_i, schizophrenia_d, registered_i, registered_d, died_2"
        assert _rows("township", after) == [
            (2025, 3, 340202001, 10, 1, 4, None, 12, 1, 1),
            (2025, 3, 340202002, 5, None, None, None, 7, None, None),
            (2026, 0, 340202001, 2, 2, 1, 1, 2, 2, 2),
        ]
        with connection.cursor() as cursor:  # the key is the row's identity: no id column beside it
            columns = [c.name for c in connection.introspection.get_table_description(cursor, TABLE)]
        assert "id" not in columns and "area_code" not in columns and "stable_x" not in columns
        _migrate(BEFORE)
        assert _rows("area_code", "stable_i, stable_x, schizophrenia_i, schizophrenia_x, registered_x, died_2") == [
            (2025, 3, "340202001000", 10, 9, 4, 4, 11, 1),
            (2025, 3, "340202002000", 5, 5, None, None, 7, None),
            (2026, 0, "340202001000", 2, None, 1, None, None, 2),
        ]
    finally:
        _migrate(latest)
