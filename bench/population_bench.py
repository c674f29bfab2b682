"""Issue 17 §3 benchmark: a report's populations over the real map of the whole country.

    .venv/bin/python bench/population_bench.py          # the figures of last year's reports
    BENCH_YEAR=2020 .venv/bin/python bench/population_bench.py

The country report resolves each of the 31 provinces' population (``population_of``); a province report, its
cities'; and so on. This times those resolutions over the real 2023 tree (665,000 areas) with the 2020 census
figures (province, city and county) as ``load_areas --nbs2023 all`` stores them, for a year after the census (a
report's, which carries the census figures forward) or the census year itself: each province alone (as the
country report asks), and a province, a city, a county and a township with their children from one ``Subtree``
(as their reports ask), with the queries each takes. Uses its own database (``jf_population_bench`` unless
``DATABASE_URL`` says otherwise) and loads the map into it when it holds no province.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jf_population_bench")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _django

YEAR = int(os.environ.get("BENCH_YEAR") or dt.date.today().year - 1)
REPEATS = 5


def timed(work: Callable[[], object]) -> tuple[float, int]:
    """Milliseconds and queries of one call of *work*."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        work()
        millis = (time.perf_counter() - start) * 1000
    return millis, len(queries)


def report(area_code: str, children: list[str]) -> None:
    """The populations an area's report with its children resolves."""
    from casemgmt.areas.population import Subtree

    subtree = Subtree(area_code, YEAR)
    subtree.population(area_code)
    for child in children:
        subtree.population(child)


def main() -> None:
    _django.setup()
    from casemgmt.areas.models import Area, AreaLevel
    from casemgmt.areas.population import population_of

    if not Area.objects.filter(level=AreaLevel.PROVINCE).exists():
        command = [sys.executable, str(_django.ROOT / "manage.py"), "load_areas", "--nbs2023", "all"]
        subprocess.run(command, check=True, cwd=_django.ROOT)  # noqa: S603
    provinces = list(Area.objects.filter(level=AreaLevel.PROVINCE).order_by("code").values_list("code", flat=True))
    print(f"population bench, commit {_django.commit()}, {Area.objects.count():,} areas, year {YEAR}")

    def country() -> None:
        for code in provinces:
            population_of(code, YEAR)

    runs = [timed(country) for _ in range(REPEATS)]
    results = [population_of(code, YEAR) for code in provinces]
    total = sum(r.total or 0 for r in results)
    lacking = sum(len(r.missing) for r in results)
    millis = sorted(m for m, _ in runs)
    print(
        f"country: {len(provinces)} provinces, population {total:,}, {lacking} areas lacking a figure; "
        f"{millis[0]:.0f} / {millis[len(millis) // 2]:.0f} / {millis[-1]:.0f} ms (min/median/max), "
        f"{runs[0][1]} queries"
    )
    for level in (AreaLevel.PROVINCE, AreaLevel.CITY, AreaLevel.COUNTY, AreaLevel.TOWNSHIP):
        first = Area.objects.filter(level=level, code__startswith="34").order_by("code").values_list("code", flat=True)
        area_code = first.first()
        if area_code is None:
            continue
        children = list(Area.objects.filter(parent_id=area_code).values_list("code", flat=True))

        level_runs = sorted(timed(functools.partial(report, area_code, children)) for _ in range(REPEATS))
        print(
            f"{AreaLevel(level).label} {area_code} with {len(children)} children: "
            f"median {level_runs[len(level_runs) // 2][0]:.1f} ms, {level_runs[0][1]} queries"
        )


if __name__ == "__main__":
    main()
