"""Indicator state (issues 6 and 17): rebuild rate, state size, report latency for a county and a city, the cost
of keeping it fresh.

Dataset (built once, reused): one city of COUNTIES counties × 5 townships × 5 villages holding PATIENTS synthetic
patients (``devdata.registry_bulk``, registered over the last 3 years) and about one follow-up every 1–3 months each
(bulk-inserted here). With BENCH_SYNTHETIC=N the dataset is instead a synthetic province of N patients and 3 years
of follow-ups made by ``manage.py generate_synthetic --no-state`` (its reports are timed by ``report_bench.py``).
Environment: BENCH_PATIENTS (default 20000), BENCH_COUNTIES (8), BENCH_WORKERS (2), BENCH_PYTHON (1: also time the
patient-by-patient Python rebuild, the path before issue 17).

The rebuild lines give patients/s of the full rebuild and its phases (clearing the old state, computing and
writing the rows, the per-township totals); the size lines give rows and ``pg_total_relation_size`` of both tables.

    cd bench && ../.venv/bin/python state_bench.py
    BENCH_SYNTHETIC=100000 DATABASE_URL=postgres://postgres@127.0.0.1:5432/jf_state ../.venv/bin/python state_bench.py
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jingfang_bench_state")  # before _django

from _django import commit, setup, summarize, timed

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "20000"))
COUNTIES = int(os.environ.get("BENCH_COUNTIES", "8"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
SYNTHETIC = int(os.environ.get("BENCH_SYNTHETIC", "0"))
PYTHON = os.environ.get("BENCH_PYTHON", "0") == "1"
# BENCH_REUSE=1: the database of DATABASE_URL as it is (e.g. the country of ``report_bench.py --country``, whose
# rebuild that bench timed): no dataset is built and no rebuild run; sizes, upkeep and the nightly refresh only.
REUSE = os.environ.get("BENCH_REUSE", "0") == "1"
CITY = "3502"


def county_code(c: int) -> str:
    return f"{CITY}{c:02d}"


def build_dataset() -> None:
    from casemgmt.accounts.models import Role, User
    from casemgmt.areas.models import Area, AreaLevel
    from devdata.registry_bulk import Mix, create_synthetic_patients
    from metrics.state.write import suspended
    from registry.models import Patient

    province, _ = Area.objects.get_or_create(
        code="350000000000", defaults={"name": "状态省", "level": AreaLevel.PROVINCE}
    )
    city, _ = Area.objects.get_or_create(
        code=f"{CITY}00000000", defaults={"name": "状态市", "level": AreaLevel.CITY, "parent": province}
    )
    villages = []
    for c in range(1, COUNTIES + 1):
        county, _ = Area.objects.get_or_create(
            code=f"{county_code(c)}000000", defaults={"name": f"状态县{c}", "level": AreaLevel.COUNTY, "parent": city}
        )
        for t in range(1, 6):
            township, _ = Area.objects.get_or_create(
                code=f"{county_code(c)}{t:03d}000",
                defaults={"name": f"状态镇{c}-{t}", "level": AreaLevel.TOWNSHIP, "parent": county},
            )
            for v in range(1, 6):
                villages.append(
                    Area.objects.get_or_create(
                        code=f"{county_code(c)}{t:03d}{v:03d}",
                        defaults={"name": f"状态村{c}-{t}-{v}", "level": AreaLevel.VILLAGE, "parent": township},
                    )[0]
                )
    actor, _ = User.objects.get_or_create(username="state_doctor", defaults={"role": Role.DOCTOR})
    have = Patient.objects.count()
    if have >= PATIENTS:
        return
    print(f"building {PATIENTS - have} patients ...", flush=True)
    today = dt.date.today()
    with suspended():  # loaded in bulk, then rebuilt once below
        create_synthetic_patients(
            villages=villages, count=PATIENTS - have, actor=actor, seed=have + 1, today=today, mix=Mix(years_back=3)
        )
        build_followups(actor, today)


def build_followups(actor: object, today: dt.date) -> None:
    from followup.models import FollowUp
    from registry.models import Patient

    rng = random.Random(6)
    batch: list[FollowUp] = []
    written = 0
    patients = Patient.objects.exclude(followups__isnull=False).values_list("pk", "registered_on").order_by("pk")
    for pk, registered_on in patients.iterator(chunk_size=5000):
        day = max(registered_on, today - dt.timedelta(days=3 * 365)) + dt.timedelta(days=rng.randrange(1, 30))
        while day < today:
            batch.append(visit(rng, pk, day, actor))
            day += dt.timedelta(days=rng.choice((14, 30, 60, 90, 90, 90, 100)))
        if len(batch) >= 5000:
            FollowUp.objects.bulk_create(batch)
            written += len(batch)
            batch = []
    FollowUp.objects.bulk_create(batch)
    print(f"follow-ups: {written + len(batch)}", flush=True)


def visit(rng: random.Random, patient_id: int, day: dt.date, actor: object) -> Any:
    from followup.models import FollowUp

    common = {"submission_key": uuid.uuid4(), "patient_id": patient_id, "doctor": actor, "date": day}
    if rng.random() < 0.1:
        return FollowUp(**common, mode=3, outcome="NOT_REACHED")
    return FollowUp(
        **common,
        mode=rng.choice((1, 2, 2, 3)),
        outcome="REACHED",
        risk_level=rng.choice((0, 0, 0, 1, 2, 3)),
        hospitalisation=rng.choice((0, 0, 0, 0, 1, 2)),
        adherence=rng.choice((1, 1, 1, 2, 3, 4)),
        classification=rng.choice((1, 2, 3, 3, 3)),
        family_support=rng.random() < 0.6,
        next_date=day + dt.timedelta(days=90),
        minor_trouble=int(rng.random() < 0.01),
    )


def build_synthetic() -> None:
    from django.core.management import call_command

    from registry.models import Patient

    if Patient.objects.exists():
        return
    print(f"generating {SYNTHETIC} patients, 3 years ...", flush=True)
    call_command("generate_synthetic", patients=SYNTHETIC, years=3, no_state=True, no_progress=True)


def cpu_seconds() -> float:
    """CPU time of this process and of its database backend (same machine): on a shared machine the wall time
    also counts the other tenants' load, the CPU time does not."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")  # another machine's PostgreSQL
    ticks = os.sysconf("SC_CLK_TCK")
    own = os.times()
    return (int(fields[11]) + int(fields[12])) / ticks + own.user + own.system


def measure_rebuild() -> list[str]:
    from django.db import connection

    from metrics.state.rebuild import rebuild

    lines = []
    # The CPU time of the two-connection run misses the second backend (it exits before /proc can be read).
    runs = (
        [("set-based SQL, one connection", True, 1, False), ("set-based SQL, two connections", True, 1, None)]
        if connection.vendor == "postgresql"
        else []
    )
    if PYTHON or not runs:
        runs += [(f"Python, {w} process(es)", False, w, False) for w in sorted({1, WORKERS})]
    for label, set_based, workers, parallel in runs:
        cpu = cpu_seconds()
        stats = rebuild(workers=workers, set_based=set_based, parallel=parallel)
        cpu = cpu_seconds() - cpu
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in stats.phases.items())
        lines.append(
            f"rebuild, {label}: {stats.patients} patients, {stats.rows} rows in {stats.seconds:.1f} s "
            f"= {stats.patients_per_second:.0f} patients/s ({phases}); CPU of this process and its database "
            f"backend {cpu:.1f} s = {stats.patients / cpu:.0f} patients per CPU-second"
        )
        print(lines[-1], flush=True)
    return lines


def measure_sizes() -> list[str]:
    """Rows and total size (table, indexes, TOAST) of the state tables, compacted first (VACUUM FULL: a rebuild
    leaves the previous build as dead rows)."""
    from django.db import connection

    from metrics.models import AreaSlotState, PatientYearState

    lines, state = [], 0
    for model in (PatientYearState, AreaSlotState):
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM FULL {connection.ops.quote_name(table)}")
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            size = cursor.fetchone()[0]
        lines.append(f"size {table}: {model.objects.count()} rows, {size / 2**20:.0f} MB")
        state += size
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        whole = cursor.fetchone()[0]
    lines.append(f"size of the database: {whole / 2**20:.0f} MB, the indicator state {100 * state / whole:.1f}% of it")
    return lines


def measure_reports() -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from casemgmt.areas.models import Area
    from metrics.indicators.periods import parse_period
    from metrics.reports.engine import compute, compute_months

    year = dt.date.today().year - 1
    periods = [parse_period(key) for key in (str(year), f"{year}-Q2", f"{year}-07", f"{year}-YTD-08")]
    lines = []
    for label, code in (("county", f"{county_code(1)}000000"), ("city", f"{CITY}00000000")):
        area = Area.objects.get(code=code)
        for children in (False, True):
            millis, queries = [], []
            for _round in range(5):
                for period in periods:
                    with CaptureQueriesContext(connection) as context:
                        millis.append(timed(partial(compute, area, period, children=children)))
                    queries.append(len(context))
            lines.append(summarize(f"report {label}, children={children}", millis, queries))
        months = parse_period(str(year)).months()
        millis = [timed(partial(compute_months, area, months)) for _ in range(10)]
        lines.append(summarize(f"12-month trend {label}", millis, [0]))
    return lines


def measure_upkeep() -> list[str]:
    from django.db import transaction

    from metrics.state.write import refresh
    from registry.models import Patient

    ids = list(Patient.objects.order_by("?").values_list("pk", flat=True)[:50])
    since = dt.date(dt.date.today().year - 2, 1, 1)
    millis = []
    for pk in ids:
        with transaction.atomic():
            millis.append(timed(partial(refresh, [pk], since_year=since.year)))
    batch = list(Patient.objects.order_by("pk").values_list("pk", flat=True)[:2000])
    start = time.perf_counter()
    refresh(batch, since_year=since.year)
    batch_ms = (time.perf_counter() - start) * 1000
    return [
        summarize("upkeep of one patient (3 years), as on a follow-up save", millis, [0]),
        f"upkeep of a batch of 2,000 patients (bulk writer's signal): {batch_ms:.0f} ms",
    ]


def traced(work: Any) -> tuple[Any, float, float]:
    """What *work()* returns, its seconds and the most Python memory it held in MB (tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, seconds, peak / 2**20


def measure_nightly() -> list[str]:
    """The nightly refresh on the first of a month, when every current-year row expires together (issue 17 §2),
    and the most Python memory it held (tracemalloc: the registry's size must not show in it, issue 17 §6)."""
    from metrics.models import PatientYearState
    from metrics.state.rebuild import refresh_calendar

    day = dt.date.today()
    expired = PatientYearState.objects.filter(year=day.year).update(valid_until=day)
    patients, seconds, peak = traced(partial(refresh_calendar, day))
    return [
        f"nightly refresh, every current-year row expired ({expired} rows): {patients} patients in {seconds:.1f} s, "
        f"Python memory at most {peak:.1f} MB"
    ]


def measure_area_refresh() -> list[str]:
    """An area's background refresh (``refresh_area_state``, queued by a report that did not wait) on the first of a
    month, every current-year row of the area expired: its time and the most Python memory it held (tracemalloc:
    the area's size must not show in it, issue 17 §6), for the first patient's city and province."""
    from metrics.models import PatientYearState
    from metrics.state.calendar import today
    from metrics.state.read import code_range
    from metrics.state.tasks import refresh_area_state

    day = today()
    some = PatientYearState.objects.exclude(area_code="").values_list("area_code", flat=True).first() or ""
    lines = []
    for label, prefix in (("city", some[:4]), ("province", some[:2])):
        lo, hi = code_range(prefix)
        expired = PatientYearState.objects.filter(year=day.year, area_code__gte=lo, area_code__lte=hi).update(
            valid_until=day
        )
        patients, seconds, peak = traced(partial(refresh_area_state, prefix))
        lines.append(
            f"area refresh of the {label} {prefix}, its current-year rows expired ({expired} rows): {patients} patients"
            f" in {seconds:.1f} s, Python memory at most {peak:.1f} MB"
        )
    return lines


def main() -> None:
    setup()
    if REUSE:
        title = "the database as it was"
    elif SYNTHETIC:
        build_synthetic()
        title = f"synthetic province of {SYNTHETIC} patients"
    else:
        build_dataset()
        title = f"{PATIENTS} patients, {COUNTIES} counties"
    lines = [f"state bench, commit {commit()}, {dt.date.today()}, {title}, load average {os.getloadavg()[0]:.1f}"]
    lines += [] if REUSE else measure_rebuild()
    lines += measure_sizes()
    if not SYNTHETIC and not REUSE:
        lines += measure_reports()
    lines += measure_upkeep()
    lines += measure_nightly()
    lines += measure_area_refresh()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
