"""Issue 2 benchmarks: the patient list and exact ID-number search, server time per request and query count.

Dataset (built once, reused): one county with 10 townships; township 1 holds 10,000 patients, the county
100,000 in all, created with the real encryption through devdata.registry_bulk. Requests go through the whole Django
stack (middleware, session, view, template) in-process, so the figures are server time without the network.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jingfang_bench .venv/bin/python bench/registry_bench.py

Targets (issue 2): list first page < 300 ms with a constant number of queries; exact ID search < 50 ms.
"""

from __future__ import annotations

import datetime as dt
import platform
import random
import sys
import time
from collections.abc import Iterable, Iterator
from functools import partial

from _django import commit, setup, summarize, timed

TOTAL = 100_000
IN_TOWNSHIP_ONE = 10_000
TOWNSHIPS = 10
VILLAGES_PER_TOWNSHIP = 10
ROUNDS = 30


def build_dataset() -> None:
    from casemgmt.accounts.models import AreaMembership, Role, User
    from casemgmt.areas.models import Area, AreaLevel
    from devdata.registry_bulk import create_synthetic_patients
    from registry.models import Patient

    province, _ = Area.objects.get_or_create(
        code="330000000000", defaults={"name": "基准省", "level": AreaLevel.PROVINCE}
    )
    city, _ = Area.objects.get_or_create(
        code="330100000000", defaults={"name": "基准市", "level": AreaLevel.CITY, "parent": province}
    )
    county, _ = Area.objects.get_or_create(
        code="330102000000", defaults={"name": "基准县", "level": AreaLevel.COUNTY, "parent": city}
    )
    villages: dict[int, list[Area]] = {}
    for t in range(1, TOWNSHIPS + 1):
        township, _ = Area.objects.get_or_create(
            code=f"330102{t:03d}000", defaults={"name": f"基准镇{t}", "level": AreaLevel.TOWNSHIP, "parent": county}
        )
        villages[t] = [
            Area.objects.get_or_create(
                code=f"330102{t:03d}{v:03d}",
                defaults={"name": f"基准村{t}-{v}", "level": AreaLevel.VILLAGE, "parent": township},
            )[0]
            for v in range(1, VILLAGES_PER_TOWNSHIP + 1)
        ]
    doctor, created = User.objects.get_or_create(username="bench_doctor", defaults={"role": Role.DOCTOR})
    if created:
        AreaMembership.objects.create(user=doctor, area=Area.objects.get(code="330102001000"))
    staff, created = User.objects.get_or_create(username="bench_county", defaults={"role": Role.AREA_STAFF})
    if created:
        AreaMembership.objects.create(user=staff, area=county)

    existing = Patient.objects.filter(village__code__startswith="330102").count()
    if existing >= TOTAL:
        return
    today = dt.date.today()
    start = time.perf_counter()
    print(f"building dataset: {TOTAL - existing} patients ...", flush=True)
    in_one = Patient.objects.filter(village__code__startswith="330102001").count()
    create_synthetic_patients(villages=villages[1], count=IN_TOWNSHIP_ONE - in_one, actor=doctor, seed=1, today=today)
    others = [v for t in range(2, TOWNSHIPS + 1) for v in villages[t]]
    rest = TOTAL - Patient.objects.filter(village__code__startswith="330102").count()
    create_synthetic_patients(villages=others, count=rest, actor=doctor, seed=2, today=today)
    elapsed = time.perf_counter() - start
    print(f"built in {elapsed:.0f} s ({(TOTAL - existing) / elapsed:.0f} patients/s)", flush=True)


def measure() -> list[str]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from casemgmt.accounts.models import User
    from registry.models import Patient

    lines = []

    def run(label: str, client: Client, urls: Iterable[str]) -> None:
        millis: list[float] = []
        queries: list[int] = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                millis.append(timed(partial(_get_ok, client, url)))
            queries.append(len(ctx.captured_queries))
        lines.append(summarize(label, millis, queries))

    def searches(client: Client, terms: list[str]) -> Iterator[str]:
        """Search terms are POSTed; the measured request is the GET of ?s=<token> it redirects to."""
        for term in terms:
            yield str(client.post("/patients/", {"q": term})["Location"])

    doctor, staff = Client(HTTP_HOST="localhost"), Client(HTTP_HOST="localhost")
    doctor.force_login(User.objects.get(username="bench_doctor"))
    staff.force_login(User.objects.get(username="bench_county"))
    doctor.get("/patients/")  # warm caches, session, templates
    staff.get("/patients/")

    run("list, first page, township of 10,000 (doctor)", doctor, ["/patients/"] * ROUNDS)
    run("list, page 200, township of 10,000 (doctor)", doctor, ["/patients/?page=200"] * ROUNDS)
    run("list, filtered by status LOST (doctor)", doctor, ["/patients/?status=LOST"] * ROUNDS)
    run("list, first page, county of 100,000 (masked, county staff)", staff, ["/patients/"] * ROUNDS)

    rng = random.Random(7)
    pks = list(Patient.objects.filter(village__code__startswith="330102").values_list("pk", flat=True))
    sample = Patient.objects.filter(pk__in=rng.sample(pks, ROUNDS))
    ids = [p.national_id for p in sample]
    township_sample = Patient.objects.filter(village__code__startswith="330102001").order_by("?")[:ROUNDS]
    township_patients = list(township_sample)
    run("exact ID search among 100,000 (county staff)", staff, searches(staff, ids))
    by_id = [p.national_id for p in township_patients]
    run("exact ID search, township of 10,000 (doctor)", doctor, searches(doctor, by_id))
    by_name = [p.name for p in township_patients]
    run("exact name search, township of 10,000 (doctor)", doctor, searches(doctor, by_name))
    return lines


def _get_ok(client: object, url: str) -> None:
    status = getattr(client.get(url), "status_code", 0)  # type: ignore[attr-defined]
    if status != 200:
        raise SystemExit(f"unexpected HTTP {status}")


def analyze() -> None:
    """Fresh bulk-loaded tables have no planner statistics until autovacuum gets to them; do it now."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE registry_patient")


def main() -> None:
    setup()
    build_dataset()
    analyze()
    lines = measure()
    print(
        f"\nregistry benchmark — {dt.datetime.now():%Y-%m-%d %H:%M}, commit {commit()}, "
        f"{platform.machine()} {platform.python_version()}, {sys.platform}"
    )
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
