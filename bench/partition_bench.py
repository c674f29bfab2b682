"""Follow-ups partitioned by year, or not (issue 17 §4): the rebuild, the nightly refresh, the upkeep in a write, a
patient's history and VACUUM, measured on both layouts of the same rows.

The synthetic province of ``state_bench.py`` (BENCH_SYNTHETIC patients, default 100,000; built if missing) gets a
copy of its follow-ups in a table partitioned by ``RANGE (date)``, one partition per year plus a default, with the
same indexes (a unique index on a partitioned table must contain the partition key, so the unique ones become
``(…, date)``: PostgreSQL can no longer enforce ``uuid``, ``submission_key`` and the workbook ref unique across
years, and the foreign keys into follow-ups (medication rows, health checks, cases, care states) would have to
carry the date). For each round the two layouts take turns under the name the code reads (``followup_followup``,
renamed in one transaction; the plain table is always renamed back). Reports are not measured: they read the
state tables, never the follow-ups.

    BENCH_SYNTHETIC=100000 DATABASE_URL=postgres://postgres@127.0.0.1:5432/jf_state \
        ../.venv/bin/python partition_bench.py [--rounds 2]
"""

# ruff: noqa: S608  (the only names put into SQL are this module's table-name constants)
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

os.environ.setdefault("BENCH_SYNTHETIC", "100000")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jf_state")

from _django import commit, setup, summarize, timed
from state_bench import build_synthetic, cpu_seconds, measure_upkeep

TABLE = "followup_followup"
PLAIN = "followup_followup_plain"  # the plain table while the partitioned one stands in for it
BY_YEAR = "followup_followup_by_year"


def execute(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def restore_plain() -> None:
    """Undo a swap an interrupted run left behind."""
    if execute("SELECT to_regclass(%s)", [PLAIN])[0][0] is not None:
        execute(f"ALTER TABLE {TABLE} RENAME TO {BY_YEAR}; ALTER TABLE {PLAIN} RENAME TO {TABLE}")


def build_partitioned() -> str:
    """The follow-ups copied into a table partitioned by year (rebuilt every run, so it matches the rows)."""
    execute(f"DROP TABLE IF EXISTS {BY_YEAR}")
    first, last = execute(f"SELECT min(date), max(date) FROM {TABLE}")[0]
    assert isinstance(first, dt.date) and isinstance(last, dt.date)  # noqa: S101  (a dataset with follow-ups)
    started = time.perf_counter()
    statements = [
        f"CREATE TABLE {BY_YEAR} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (date)",
        *(
            f"CREATE TABLE {BY_YEAR}_{year} PARTITION OF {BY_YEAR} "
            f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')"
            for year in range(first.year, last.year + 2)
        ),
        f"CREATE TABLE {BY_YEAR}_default PARTITION OF {BY_YEAR} DEFAULT",
        f"INSERT INTO {BY_YEAR} SELECT * FROM {TABLE}",
        f"ALTER TABLE {BY_YEAR} ADD PRIMARY KEY (id, date)",
        f"CREATE UNIQUE INDEX {BY_YEAR}_uuid ON {BY_YEAR} (uuid, date)",
        f"CREATE UNIQUE INDEX {BY_YEAR}_submission ON {BY_YEAR} (submission_key, date)",
        f"CREATE INDEX {BY_YEAR}_recent ON {BY_YEAR} (patient_id, date DESC, id DESC)",
        f"CREATE UNIQUE INDEX {BY_YEAR}_ref ON {BY_YEAR} (patient_id, source_ref, date) WHERE source_ref IS NOT NULL",
        f"VACUUM (FREEZE, ANALYZE) {BY_YEAR}",  # both as an old database holds them: settled and frozen
        f"VACUUM (FREEZE, ANALYZE) {TABLE}",
    ]
    for statement in statements:
        execute(statement)
    seconds = time.perf_counter() - started
    return f"partitioned copy: {last.year + 2 - first.year} yearly partitions + default, {seconds:.1f} s"


def sizes() -> str:
    plain = execute("SELECT pg_total_relation_size(%s)", [TABLE])[0][0]
    by_year = execute("SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree(%s) WHERE isleaf", [BY_YEAR])[
        0
    ][0]
    return f"size with indexes: plain {plain / 2**20:.0f} MB, by year {by_year / 2**20:.0f} MB"


@contextmanager
def layout(name: str) -> Iterator[None]:
    """The code reads the partitioned copy under the follow-ups' name for the block (*name* "by year")."""
    if name == "plain":
        yield
        return
    execute(f"ALTER TABLE {TABLE} RENAME TO {PLAIN}; ALTER TABLE {BY_YEAR} RENAME TO {TABLE}")
    try:
        yield
    finally:
        execute(f"ALTER TABLE {TABLE} RENAME TO {BY_YEAR}; ALTER TABLE {PLAIN} RENAME TO {TABLE}")


def measure_rebuilds(name: str) -> list[str]:
    from metrics.state.rebuild import rebuild

    lines = []
    today = dt.date.today()
    runs = (
        ("full rebuild, two connections", {"parallel": None}),
        ("full rebuild, one connection", {"parallel": False}),
        (f"nightly refresh of {today.year} (the 1st of a month)", {"years": [today.year]}),
    )
    for label, options in runs:
        cpu = cpu_seconds()
        stats = rebuild(set_based=True, **options)
        cpu = cpu_seconds() - cpu
        lines.append(
            f"{name:8} {label}: {stats.seconds:.1f} s = {stats.patients_per_second:.0f} patients/s, "
            f"{cpu:.1f} CPU-s (this process and its first backend)"
        )
        print(lines[-1], flush=True)
    return lines


def measure_history(name: str, patients: list[int]) -> str:
    """A patient's page: the latest ten follow-ups."""
    from followup.models import FollowUp

    def latest(pk: int) -> None:
        list(FollowUp.objects.filter(patient_id=pk).order_by("-date", "-id")[:10])

    millis = [timed(partial(latest, pk)) for pk in patients]
    return summarize(f"{name:8} a patient's latest 10 follow-ups", millis, [1])


def month_of_writes(table: str, ids_from: int, today: dt.date) -> int:
    """A month of work on *table*: the visits of the same weeks a year ago, repeated this month (new ids, keys
    and days), and a correction of one in a hundred of this year's visits (a clinical field: no index changes)."""
    year_ago = today - dt.timedelta(days=365)
    execute(
        f"""INSERT INTO {table} SELECT (f).* FROM (
              SELECT f #= hstore(ARRAY['id', 'uuid', 'submission_key', 'date', 'source_ref'],
                                 ARRAY[(%s + row_number() OVER (ORDER BY id))::text, gen_random_uuid()::text,
                                       md5(id::text || 'month')::uuid::text, (date + 365)::text, NULL]) AS f
              FROM {TABLE} f WHERE date > %s AND date <= %s) copied""",
        [ids_from, year_ago - dt.timedelta(days=30), year_ago],
    )
    execute(
        f"UPDATE {table} SET risk_level = COALESCE(risk_level, 0) WHERE date >= %s AND id %% 100 = 0 AND outcome = %s",
        [dt.date(today.year, 1, 1), "REACHED"],
    )
    return int(execute(f"SELECT count(*) FROM {table} WHERE id > %s", [ids_from])[0][0])


def measure_vacuum() -> list[str]:
    """VACUUM after a month of writes, each layout; the month is then removed again (and vacuumed away)."""
    execute("CREATE EXTENSION IF NOT EXISTS hstore")
    today = dt.date.today()
    ids_from = int(execute(f"SELECT max(id) FROM {TABLE}")[0][0]) + 1_000_000
    lines = []
    # What autovacuum would run: ANALYZE of a partitioned table's changed partition only (never of the parent).
    current = f"{BY_YEAR}_{today.year}"
    for name, table, analyzed in (("plain", TABLE, TABLE), ("by year", BY_YEAR, current)):
        try:
            added = month_of_writes(table, ids_from, today)
            figures = {
                "VACUUM": timed(partial(execute, f"VACUUM {table}")),
                f"ANALYZE {analyzed}": timed(partial(execute, f"ANALYZE {analyzed}")),
                "VACUUM (FREEZE)": timed(partial(execute, f"VACUUM (FREEZE) {table}")),
            }
            lines.append(
                f"{name:8} after a month ({added} visits added, 1% corrected): "
                + ", ".join(f"{step} {millis:.0f} ms" for step, millis in figures.items())
            )
        finally:  # the month's visits removed again, whatever happened
            execute(f"DELETE FROM {table} WHERE id > %s", [ids_from])
            execute(f"VACUUM {table}")
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of both layouts, taking turns")
    args = parser.parse_args()
    setup()
    build_synthetic()
    restore_plain()
    from registry.models import Patient

    lines = [
        f"partition bench, commit {commit()}, {dt.date.today()}, synthetic province of "
        f"{os.environ['BENCH_SYNTHETIC']} patients, load average {os.getloadavg()[0]:.1f}",
        build_partitioned(),
    ]
    lines.append(sizes())
    print(*lines, sep="\n", flush=True)
    patients = list(Patient.objects.values_list("pk", flat=True))
    sample = random.Random(17).sample(patients, 200)
    for _round in range(args.rounds):
        for name in ("plain", "by year"):
            with layout(name):
                lines += measure_rebuilds(name)
                lines.append(measure_history(name, sample))
                lines += [f"{name:8} {line}" for line in measure_upkeep()]
                print(*lines[-3:], sep="\n", flush=True)
    lines += measure_vacuum()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
