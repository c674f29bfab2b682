"""Issue 15 benchmark: loading the real map (``load_areas --nbs2023``) into PostgreSQL.

    .venv/bin/python bench/area_load_bench.py            # 34 (安徽) then all (the whole country)
    .venv/bin/python bench/area_load_bench.py 3402 34    # chosen prefixes, in order

Uses its own database (``jf_area_bench`` unless ``DATABASE_URL`` says otherwise), emptied of areas first. Each
prefix is loaded twice in a child process (``manage.py load_areas --nbs2023``): the first load (what it
creates), then the reload (which must create nothing), each with wall time and the child's peak RSS. A
prefix loaded after a narrower one (all after 34) reports what it added.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jf_area_bench")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _django

DEFAULT_PREFIXES = ["34", "all"]


def load(prefix: str) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) of the child, and its summary line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    command = [sys.executable, str(_django.ROOT / "manage.py"), "load_areas", "--nbs2023", prefix]
    out = subprocess.run(command, capture_output=True, text=True, check=False, cwd=_django.ROOT)  # noqa: S603
    seconds = time.perf_counter() - start
    if out.returncode:
        raise SystemExit(f"load_areas --nbs2023 {prefix} failed:\n{out.stderr[-2000:]}")
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    summary = out.stdout.strip().splitlines()[-1]
    return seconds, peak, summary


def main(prefixes: list[str]) -> None:
    _django.setup()
    from django.db import connection

    from casemgmt.areas.models import Area, AreaLevel, AreaPopulation

    with connection.cursor() as cursor:  # in SQL: the ORM's delete would load 665,000 areas to cascade
        cursor.execute(f"DELETE FROM {AreaPopulation._meta.db_table}")  # noqa: S608  (table names from the models)
        for level in sorted(AreaLevel.values, reverse=True):  # children first (the parent link protects)
            cursor.execute(f"DELETE FROM {Area._meta.db_table} WHERE level = %s", [level])  # noqa: S608
    print(f"commit {_django.commit()}, database {os.environ['DATABASE_URL'].rsplit('/', 1)[1]}")
    for prefix in prefixes:
        for run in ("load", "reload"):
            seconds, peak, summary = load(prefix)
            created = re.search(r"行政区划新增：(.*?)。", summary)
            what = created.group(1) if created else summary
            print(f"{prefix:>6} {run:<6} wall {seconds:6.1f} s  peak RSS {peak:6.0f} MB  {what}", flush=True)
    print(f"areas in the database: {Area.objects.count():,}; population figures: {AreaPopulation.objects.count():,}")


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT_PREFIXES)
