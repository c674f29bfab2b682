# The indicator state takes less room (issue 17 §3), its figures unchanged:
# - the state rows' (patient, year) index becomes a (patient) index, which PostgreSQL deduplicates;
# - the per-township totals are keyed by (year, slot, township) itself, the township as the integer of its code's
#   first 9 digits: no id column, no second unique index, and a key of 8 bytes instead of 17;
# - a set's deaths-excluded count (`_x`, nearly always equal to the `_i` one) is kept as the deaths among the set
#   (`_d` = `_i` - `_x`, nearly always 0, stored as NULL).
# Django cannot turn a table's primary key into a composite one, so the totals are copied aside (already in the new
# reading), their table re-created, and copied back; the same in reverse.

from django.db import migrations, models

SETS = (
    "registered", "managed", "at_home", "regular", "regular3m", "medication", "regular_medication",
    "face_to_face", "stable", "rehabilitation", "lost", "family_support", "health_check", "overdue", "open_case",
)  # fmt: skip
SCHIZOPHRENIA = ("schizophrenia", "schizophrenia_medication", "schizophrenia_managed")
EVENTS = ("new_registration", "minor_trouble", "trouble", "disaster", "emergency")
DIED = tuple(f"died_{cause}" for cause in range(7))
ASIDE = "metrics_areaslotstate_aside"
TABLE = "metrics_areaslotstate"


def _columns(variant: str) -> list[str]:
    """The totals' count columns, their deaths reading as *variant* (``x`` before, ``d`` after)."""
    return [
        *(f"{name}_{v}" for v in ("i", variant) for name in SETS),
        *EVENTS,
        *(f"{name}_{v}" for v in ("i", variant) for name in SCHIZOPHRENIA),
        *DIED,
    ]


def _expression(column: str, source_variant: str, quote) -> str:
    """How the source gives *column*: the same column, or for a deaths reading the source does not hold its
    complement to the ``_i`` count (``a_x`` = ``a_i`` - ``a_d`` and ``a_d`` = ``a_i`` - ``a_x``)."""
    base, _, variant = column.rpartition("_")
    if base not in (*SETS, *SCHIZOPHRENIA) or variant in ("i", source_variant):
        return quote(column)
    held = quote(f"{base}_{source_variant}")
    return f"NULLIF(COALESCE({quote(f'{base}_i')}, 0) - COALESCE({held}, 0), 0)"


# The key columns of the totals as each side holds them: before (a 12-digit area_code, its last 3 digits 0) and
# after (the township's 9 digits as an integer). The aside table holds the "after" form.
KEYS_AFTER = {"year": "year", "township": "township", "slot": "slot"}
KEYS_BEFORE = {"year": "year", "area_code": "CAST(township AS text) || '000'", "slot": "slot"}


def _copy(schema_editor, source: str, source_variant: str, target: str, target_variant: str) -> None:
    """Copy the totals of *source* (deaths reading *source_variant*) into *target* (*target_variant*): a new table
    (the aside one, in the "after" form) or an insert into the totals table (and the aside table is dropped)."""
    quote = schema_editor.quote_name
    wanted = _columns(target_variant)
    counts = ", ".join(f"{_expression(c, source_variant, quote)} AS {quote(c)}" for c in wanted)
    if target == ASIDE:
        # From the table before (area_code): the rows of no village ('000', never read) are left behind.
        keys, where = ("year, township, slot", "") if source_variant == "d" else (
            "year, CAST(SUBSTR(area_code, 1, 9) AS integer) AS township, slot", " WHERE area_code <> '000'"
        )
        schema_editor.execute(f"CREATE TABLE {quote(ASIDE)} AS SELECT {keys}, {counts} FROM {quote(source)}{where}")
        return
    key_columns = KEYS_AFTER if target_variant == "d" else KEYS_BEFORE
    names = ", ".join(quote(c) for c in [*key_columns, *wanted])
    keys = ", ".join(key_columns.values())
    schema_editor.execute(f"INSERT INTO {quote(target)} ({names}) SELECT {keys}, {counts} FROM {quote(source)}")
    schema_editor.execute(f"DROP TABLE {quote(ASIDE)}")


def set_aside(apps, schema_editor) -> None:
    _copy(schema_editor, TABLE, "x", ASIDE, "d")


def restore(apps, schema_editor) -> None:
    _copy(schema_editor, ASIDE, "d", TABLE, "d")


def set_aside_new(apps, schema_editor) -> None:
    _copy(schema_editor, TABLE, "d", ASIDE, "d")


def restore_old(apps, schema_editor) -> None:
    _copy(schema_editor, ASIDE, "d", TABLE, "x")


def _count_fields(variant: str) -> list[tuple[str, models.Field]]:
    return [(name, models.IntegerField(null=True)) for name in _columns(variant)]


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0008_state_excluded_reading_derived"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="patientyearstate", name="metrics_state_patient_year"),
        migrations.AddIndex(
            model_name="patientyearstate", index=models.Index(fields=["patient"], name="metrics_state_patient")
        ),
        migrations.RunPython(set_aside, restore_old),
        migrations.DeleteModel(name="AreaSlotState"),
        migrations.CreateModel(
            name="AreaSlotState",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "year", "slot", "township", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("year", models.PositiveSmallIntegerField()),
                ("township", models.PositiveIntegerField()),
                ("slot", models.PositiveSmallIntegerField()),
                *_count_fields("d"),
            ],
        ),
        migrations.RunPython(restore, set_aside_new),
    ]
