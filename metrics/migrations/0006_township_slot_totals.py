"""``AreaSlotState`` holds per-township totals instead of per-village ones (issue 17): the existing village rows are
summed into their township's, and groups that are all zero are dropped. Reversing leaves township rows, which the
older code would read as villages: restore the per-village totals with ``manage.py rebuild_indicator_state``."""

from __future__ import annotations

from typing import Any

from django.db import migrations

TOWNSHIP_DIGITS = 9


def to_townships(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("metrics", "AreaSlotState")
    connection = schema_editor.connection
    table = connection.ops.quote_name(model._meta.db_table)
    counts = [f.column for f in model._meta.concrete_fields if f.column not in ("id", "year", "area_code", "slot")]
    columns = ", ".join(connection.ops.quote_name(c) for c in counts)
    sums = ", ".join(f"SUM({connection.ops.quote_name(c)}) AS {connection.ops.quote_name(c)}" for c in counts)
    nonzero = " OR ".join(f"SUM({connection.ops.quote_name(c)}) <> 0" for c in counts)
    area = f"SUBSTR(area_code, 1, {TOWNSHIP_DIGITS}) || '{'0' * (12 - TOWNSHIP_DIGITS)}'"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE township_totals AS SELECT year, {area} AS area_code, slot, {sums} "  # noqa: S608
            f"FROM {table} GROUP BY year, {area}, slot HAVING {nonzero}"
        )
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {table} (year, area_code, slot, {columns}) "  # noqa: S608
            f"SELECT year, area_code, slot, {columns} FROM township_totals"
        )
        cursor.execute("DROP TABLE township_totals")


class Migration(migrations.Migration):
    dependencies = [("metrics", "0005_pdf_export_failure_message")]

    operations = [migrations.RunPython(to_townships, migrations.RunPython.noop)]
