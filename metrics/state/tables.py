"""The SQL both writers of the state share (``write`` and ``rebuild``): state rows are inserted by COPY, and the
per-township totals are kept by delta (add or take away the contribution of a set of rows). Groups whose
contribution is all zero are not written (a slot not begun yet, a township with nobody in it).

May import ``metrics.indicators``, ``metrics.models`` and the state modules ``calendar`` and ``read``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import connection

from metrics.models import COUNT_COLUMNS, KEY_COLUMNS, MASK_COLUMNS, ROW_COLUMNS, AreaSlotState, PatientYearState
from metrics.state.calendar import SLOTS
from metrics.state.read import alike_rows, total_expression

BATCH_SIZE = 2000
# Facts are read whole: anything dated ahead of today (a next follow-up date, a rehabilitation end) feeds
# ``valid_until``, and the memberships ignore what lies after each slot's cut-off anyway.
HORIZON = dt.date(9999, 12, 31)


def insert_rows(rows: list[dict[str, object]]) -> None:
    """COPY on PostgreSQL (the rebuild writes millions of rows); bulk_create elsewhere."""
    if not rows:
        return
    # The stored masks only, an empty one as NULL.
    stored = [{**{c: row[c] for c in KEY_COLUMNS}, **{c: row.get(c) or None for c in MASK_COLUMNS}} for row in rows]
    if connection.vendor != "postgresql":
        PatientYearState.objects.bulk_create([PatientYearState(**row) for row in stored], batch_size=2000)
        return
    columns = ", ".join(connection.ops.quote_name(c) for c in ROW_COLUMNS)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {_table()} ({columns}) FROM STDIN") as copy:
        for row in stored:
            copy.write_row([row[c] for c in ROW_COLUMNS])


def _table() -> str:
    return connection.ops.quote_name(PatientYearState._meta.db_table)


def add_totals(
    sign: int, patient_ids: Sequence[int] | None, since_year: int, years: Sequence[int] | None = None
) -> None:
    """Add (+1) or take away (-1) the contribution of state rows to the per-township totals: those of
    *patient_ids* from *since_year* on, or (None) every row of *years* (all from *since_year* when None)."""
    table = connection.ops.quote_name(AreaSlotState._meta.db_table)
    columns = [connection.ops.quote_name(c) for c in COUNT_COLUMNS]
    # A count of 0 is stored as NULL (SUM over masks that are all NULL is NULL too).
    sums = ", ".join(f"NULLIF({int(sign)} * COALESCE(SUM(n * {total_expression(c)}), 0), 0)" for c in COUNT_COLUMNS)
    nonzero = " OR ".join(f"SUM(n * {total_expression(c)}) <> 0" for c in COUNT_COLUMNS)  # only rows that count
    updates = ", ".join(f"{c} = NULLIF(COALESCE({table}.{c}, 0) + COALESCE(EXCLUDED.{c}, 0), 0)" for c in columns)
    slots = ", ".join(f"({slot})" for slot in range(len(SLOTS)))
    where, params = "year >= %s", list[int | list[int]]([since_year])
    if patient_ids is not None and connection.vendor == "postgresql":
        where += " AND patient_id = ANY(%s)"  # one parameter however many patients (a bulk load's)
        params.append(list(patient_ids))
    elif patient_ids is not None:
        where += f" AND patient_id IN ({', '.join(['%s'] * len(patient_ids))})"
        params += list(patient_ids)
    if years is not None:
        where += f" AND year IN ({', '.join(['%s'] * len(years))})"
        params += list(years)
    alike = alike_rows(_table(), where)  # rows alike counted first: far fewer to expand to 26 slots
    sql = (
        f"WITH slots(slot) AS (VALUES {slots}) "  # noqa: S608
        f"INSERT INTO {table} (year, township, slot, {', '.join(columns)}) "
        f"SELECT year, township, slots.slot, {sums} FROM ({alike}) alike CROSS JOIN slots WHERE 1 = 1 "
        f"GROUP BY year, township, slots.slot HAVING {nonzero} "
        # Upserted in key order: concurrent writers (two saves in one township, parallel loaders) then take the
        # row locks in the same order and cannot deadlock on each other.
        f"ORDER BY year, slots.slot, township "
        f"ON CONFLICT (year, township, slot) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
