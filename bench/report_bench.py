"""Issue 6 and issue 5 benchmarks: report latency per area level on a synthetic province, and the county PDF.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jf_bench_10k .venv/bin/python bench/report_bench.py --build 10000

With ``--build N`` the database is filled first by ``manage.py generate_synthetic`` (in a child process, whose
wall time and peak RSS are reported) unless it already holds the synthetic province; when the project has a
``rebuild_indicator_state`` command, the generator runs with ``--no-state`` and the state is rebuilt after
(``--state announce`` keeps the per-batch announcements instead). Then, for each level (province, city,
county, township), K random areas and random periods (a year, a quarter, a month) are timed through
``metrics.reports.engine.compute`` (children included, as the report page and the PDF use it) and through the
``/reports/api/indicators`` endpoint (Django test client, whole stack). The issue-5 cases follow: the county
closest to 2,500 patients and the city closest to 30,000, last full year (target < 500 ms), and the county's
PDF (compute + reportlab, target < 2 s). The last line is the summary as JSON, read by ``scale_bench.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from typing import Any

from _django import ROOT, commit, percentile, setup

PROVINCE = "71"  # the invented province; "" with --country (every code)
LEVELS = {1: "province", 2: "city", 3: "county", 4: "township"}


def run_child(args: list[str]) -> dict[str, float]:
    """Run a manage.py command in a child process; its wall time (s), CPU time (s) and peak RSS (MB)."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT)  # noqa: S603
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{args[0]} failed with exit code {child.returncode}")
    return {
        "seconds": round(time.perf_counter() - start, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
    }


def build(patients: int, years: int, seed: int, state_mode: str) -> dict[str, Any]:
    from django.core.management import get_commands

    from casemgmt.areas.models import Area
    from registry.models import Patient

    rebuild = "rebuild_indicator_state" in get_commands() and state_mode == "rebuild"
    result: dict[str, Any] = {}
    exists = Patient.objects.exists() if not PROVINCE else Area.objects.filter(code=PROVINCE.ljust(12, "0")).exists()
    if exists:
        result["reused"] = True
    else:
        args = ["generate_synthetic", f"--years={years}", f"--seed={seed}"]
        # The country: the real map at 4.6‰ of each county's census population (issue 17 §3).
        args += ["--country"] if not PROVINCE else [f"--patients={patients}", f"--province={PROVINCE}"]
        print(
            f"generating {'the country' if not PROVINCE else f'{patients:,} patients'}, {years} years ...", flush=True
        )
        result["generate"] = run_child([*args, "--no-state"] if rebuild else args)
        made = Patient.objects.count()
        result["patients_per_second"] = round(made / result["generate"]["seconds"])
    if rebuild:  # also on a reused dataset: it may predate the state table, and the rebuild time is a figure
        print("rebuilding the indicator state ...", flush=True)
        # A full rebuild: only that marks the state as built (before it, reports take the direct path).
        result["rebuild_state"] = run_child(["rebuild_indicator_state", "--workers=2"])
    return result


def analyze() -> None:
    """Bulk-loaded tables have no planner statistics until autovacuum reaches them; gather them now."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def periods(rng: random.Random, today: dt.date) -> list[str]:
    """A year, a quarter and a month, each picked at random among those already started."""
    year = rng.choice((today.year - 1, today.year))
    quarters = [(y, q) for y in (today.year - 1, today.year) for q in range(1, 5) if dt.date(y, 3 * q - 2, 1) <= today]
    months = [(y, m) for y in (today.year - 1, today.year) for m in range(1, 13) if dt.date(y, m, 1) <= today]
    q, m = rng.choice(quarters), rng.choice(months)
    return [str(year), f"{q[0]}-Q{q[1]}", f"{m[0]}-{m[1]:02d}"]


def timed_ms(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def staff_client() -> Any:
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from casemgmt.accounts.models import AreaMembership, Role, User
    from casemgmt.areas.models import Area

    user, created = User.objects.get_or_create(username="bench_province_staff", defaults={"role": Role.AREA_STAFF})
    if created:
        provinces = (
            [PROVINCE.ljust(12, "0")] if PROVINCE else Area.objects.filter(level=1).values_list("code", flat=True)
        )
        AreaMembership.objects.bulk_create(AreaMembership(user=user, area_id=code) for code in provinces)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    # Area staff pass a second factor: the session is marked verified by a confirmed authenticator, as the code
    # page does after a correct code.
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    device = device or TOTPDevice.objects.create(user=user, name="bench authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def measure_levels(rounds: int, seed: int) -> dict[str, dict[str, float]]:
    from casemgmt.areas.models import Area
    from metrics.indicators.periods import parse_period
    from metrics.reports.engine import compute

    rng = random.Random(seed)
    today = dt.date.today()
    client = staff_client()
    results = {}
    for level, label in LEVELS.items():
        codes = list(Area.objects.filter(code__startswith=PROVINCE, level=level).values_list("code", flat=True))
        engine_ms: list[float] = []
        api_ms: list[float] = []
        for _ in range(rounds):
            area = Area.objects.get(code=rng.choice(codes))
            for text in periods(rng, today):
                period = parse_period(text)
                engine_ms.append(timed_ms(lambda a=area, p=period: compute(a, p, children=True)))
                url = f"/reports/api/indicators?area={area.code}&period={text}"
                api_ms.append(timed_ms(lambda u=url: _ok(client.get(u))))
        results[label] = summary(engine_ms) | {f"api_{k}": v for k, v in summary(api_ms).items()}
        print(f"{label:<9} areas={len(codes):<6} {fmt(results[label])}", flush=True)
    if not PROVINCE:
        millis = []
        for _ in range(rounds):
            for text in periods(rng, today):
                period = parse_period(text)
                millis.append(timed_ms(lambda p=period: country_report(p)))
        results["country"] = summary(millis)
        print(f"country   areas=1      compute {fmt_plain(results['country'])} (engine only)", flush=True)
    return results


def country_report(period: Any) -> Any:
    """The whole country with its provinces, as ``engine.compute(children=True)`` computes an area's report, at the
    root of the tree (no area row stands for the country): the calendar's freshening of every code, the provinces'
    tallies from the township totals in one query, and each province's population."""
    from casemgmt.areas.models import Area
    from casemgmt.areas.population import population_of
    from metrics.indicators.definitions import Tally
    from metrics.indicators.options import default_options
    from metrics.reports import engine
    from metrics.state.calendar import slot_of
    from metrics.state.read import tallies

    slot = slot_of(period)
    if slot is None:
        raise SystemExit(f"no state slot holds {period}")
    engine._fresh("", period.year, period.cutoff_date)
    groups = tallies("", period.year, [slot], default_options(), child_length=2)
    provinces = [
        engine._result(p, groups.get(p.code[:2], {slot: Tally()})[slot], population_of(p.code, period.population_year))
        for p in Area.objects.filter(level=1)
    ]
    total = sum((p.population or 0) for p in provinces)
    return total, provinces


def summary(millis: list[float]) -> dict[str, float]:
    return {
        "n": len(millis),
        "p50": round(percentile(millis, 50), 1),
        "p95": round(percentile(millis, 95), 1),
        "max": round(max(millis), 1),
    }


def fmt(s: dict[str, float]) -> str:
    return (
        f"compute n={s['n']:<3} p50={s['p50']:7.1f} ms p95={s['p95']:7.1f} ms | "
        f"api p50={s['api_p50']:7.1f} ms p95={s['api_p95']:7.1f} ms"
    )


def _ok(response: Any) -> None:
    if response.status_code != 200:
        raise SystemExit(f"unexpected HTTP {response.status_code}: {response.content[:200]!r}")


def closest(level: int, target: int) -> tuple[Any, int]:
    """The area of *level* whose registered patients are closest to *target*."""
    from django.db.models import Count
    from django.db.models.functions import Substr

    from casemgmt.areas import codes
    from casemgmt.areas.models import Area
    from registry.models import Patient

    digits = codes.LEVEL_DIGITS[level]
    counts = (
        Patient.objects.filter(village__code__startswith=PROVINCE)
        .annotate(prefix=Substr("village_id", 1, digits))
        .values("prefix")
        .annotate(n=Count("id"))
    )
    best = min(counts, key=lambda row: abs(row["n"] - target))
    return Area.objects.get(code=best["prefix"].ljust(12, "0")), best["n"]


def measure_issue5(rounds: int) -> dict[str, Any]:
    from casemgmt.accounts.models import User
    from metrics.indicators.periods import parse_period
    from metrics.models import PdfExport
    from metrics.reports.engine import compute
    from metrics.reports.pdf import content_for_export, render_pdf

    year = str(dt.date.today().year - 1)
    period = parse_period(year)
    out: dict[str, Any] = {}
    for key, level, target in (("county", 3, 2_500), ("city", 2, 30_000)):
        area, patients = closest(level, target)
        compute(area, period, children=True)  # warm
        millis = [timed_ms(lambda a=area: compute(a, period, children=True)) for _ in range(rounds)]
        out[key] = {"area": area.code, "patients": patients, **summary(millis)}
        print(f"issue 5: {key} {area.code} ({patients:,} patients), {year}: {fmt_plain(out[key])}", flush=True)
    county = out["county"]["area"]
    user = User.objects.get(username="bench_province_staff")
    export = PdfExport(requested_by=user, area_code=county, period=year, options={})

    def pdf() -> None:
        content, _ = content_for_export(export)
        if not render_pdf(content).startswith(b"%PDF"):
            raise SystemExit("the PDF did not render")

    pdf()  # warm: fonts load once per process
    millis = [timed_ms(pdf) for _ in range(max(3, rounds // 4))]
    out["county_pdf"] = {"area": county, **summary(millis)}
    print(f"issue 5: county PDF {county}: {fmt_plain(out['county_pdf'])}", flush=True)
    return out


def fmt_plain(s: dict[str, Any]) -> str:
    return f"n={s['n']} p50={s['p50']:.1f} ms p95={s['p95']:.1f} ms max={s['max']:.1f} ms"


def machine() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "date": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "commit": commit(),
        "nproc": os.cpu_count(),
        "memory_gb": round(memory_gb),
        "postgresql": pg,
        "python": platform.python_version(),
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=int, default=10_000, help="patients to generate when the database is empty")
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=10, help="random areas per level (3 periods each)")
    parser.add_argument("--state", choices=("rebuild", "announce"), default="rebuild")
    parser.add_argument("--country", action="store_true", help="the whole country on the real map (--build unused)")
    options = parser.parse_args()
    if options.country:
        global PROVINCE  # noqa: PLW0603
        PROVINCE = ""
    setup()
    result: dict[str, Any] = {"machine": machine()}
    result["build"] = build(options.build, options.years, options.seed, options.state)
    analyze()
    from registry.models import Patient

    result["patients"] = Patient.objects.filter(village__code__startswith=PROVINCE).count()
    result["levels"] = measure_levels(options.rounds, options.seed)
    result["issue5"] = measure_issue5(options.rounds)
    result["bench_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
