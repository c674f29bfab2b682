# The state rows lose their primary-key index on PostgreSQL (issue 17 §3): nothing addresses a state row by its id
# (rows are read by area and year, or by patient, and replaced whole), and the index was 14% of the state's room
# (~720 MB for the whole country). The id column stays, filled as before; the rows stay a pure function of the
# registry, which `manage.py rebuild_indicator_state` recomputes. Other databases keep the key.

from django.db import migrations

TABLE = "metrics_patientyearstate"


def _primary_key(schema_editor) -> str | None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'", [TABLE])
        row = cursor.fetchone()
    return row[0] if row else None


def drop_primary_key(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    name = _primary_key(schema_editor)
    if name:
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {schema_editor.quote_name(name)}")


def add_primary_key(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql" and _primary_key(schema_editor) is None:
        schema_editor.execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (id)")


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0009_state_smaller_keys"),
    ]

    operations = [migrations.RunPython(drop_primary_key, add_primary_key)]
