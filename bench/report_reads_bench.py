"""What one report reads (issue 17 §3): the queries of ``compute(area, period, children=True)`` and the buffer pages
they touch (``EXPLAIN (ANALYZE, BUFFERS)`` of each SELECT, run again after the report: shared hits plus reads).
On a database larger than memory every page a report touches for the first time is a read from disk, so the
pages stand for a report's cold cost, and unlike a timing they do not depend on the machine's load.

Dataset: any database with the indicator state built (``state_bench.py`` with BENCH_SYNTHETIC, or the country of
``report_bench.py --country``). BENCH_AREAS (default 10) random areas per level, BENCH_PERIOD (default the last
whole quarter).

    cd bench && DATABASE_URL=postgres://postgres@127.0.0.1:5432/jf_state ../.venv/bin/python report_reads_bench.py
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import statistics
from typing import Any

from _django import commit, setup

AREAS = int(os.environ.get("BENCH_AREAS", "10"))
BUFFERS = re.compile(r"Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?")


def last_whole_quarter(today: dt.date) -> str:
    quarter = (today.month - 1) // 3  # the running quarter's number minus one
    return f"{today.year}-Q{quarter}" if quarter else f"{today.year - 1}-Q4"


def pages_of(sql: str, params: Any) -> int:
    """The buffer pages the statement's top plan node touched, hit or read."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    found = BUFFERS.search(plan)
    return sum(int(n or 0) for n in found.groups()) if found else 0


def reads_of_report(code: str, period_key: str) -> tuple[int, int]:
    """The SELECT statements of one report and the pages they touch."""
    from django.db import connection

    from casemgmt.areas.models import Area
    from metrics.indicators.periods import parse_period
    from metrics.reports.engine import compute

    statements: list[tuple[str, Any]] = []

    def record(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((sql, params))
        return execute(sql, params, many, context)

    area = Area.objects.get(code=code)
    with connection.execute_wrapper(record):
        compute(area, parse_period(period_key), children=True)
    return len(statements), sum(pages_of(sql, params) for sql, params in statements)


def main() -> None:
    setup()
    from casemgmt.areas.models import Area, AreaLevel

    period = os.environ.get("BENCH_PERIOD") or last_whole_quarter(dt.date.today())
    rng = random.Random(int(os.environ.get("BENCH_SEED", "1")))
    print(f"report reads bench, commit {commit()}, {dt.date.today()}, period {period}, {AREAS} areas per level")
    for level in (AreaLevel.PROVINCE, AreaLevel.CITY, AreaLevel.COUNTY, AreaLevel.TOWNSHIP):
        codes = list(Area.objects.filter(level=level, retired_on=None).values_list("code", flat=True))
        if not codes:
            continue
        measured = [reads_of_report(code, period) for code in rng.sample(codes, min(AREAS, len(codes)))]
        queries, pages = [q for q, _ in measured], [p for _, p in measured]
        print(
            f"{level.name.lower():<8} areas={len(measured):<3} queries median {statistics.median(queries):>5.0f} max "
            f"{max(queries):>4}   pages median {statistics.median(pages):>7.0f} max {max(pages):>7}"
        )


if __name__ == "__main__":
    main()
