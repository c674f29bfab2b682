"""Issue 3 benchmarks: saving a follow-up through the real web stack, and the doctor's work list.

1. Saving: gunicorn (4 sync workers, as in production) on PostgreSQL over loopback. N concurrent doctors, each
   a thread with its own logged-in session, using only the standard library (http.client + a cookie dict): GET
   the form (CSRF token and submission key), then POST a complete reached follow-up with a medication row.
   Reported: p50/p95 of the POST (the save) and of the GET (the form), errors, throughput. Run with 20 and 50
   doctors, each closed loop (no think time: every doctor saves again the moment the last save returns, the
   worst case for 2 cores) and paced (one save every 5 s per doctor, starting at random offsets: still far more
   than people filling a form in a village, but no longer a queue behind the server's two cores). One doctor
   alone gives the baseline: server time plus loopback, no contention.
2. The work list of a township of 2,000 patients: server time through the whole Django stack in-process
   (test Client: sessions, auth, view, template, audit write) and its SQL query count; and the county staff's
   overdue counts per township.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jingfang_bench_fu .venv/bin/python bench/followup_bench.py

Targets (issue 3): save p95 < 150 ms with 0 errors at 20 doctors; work list < 200 ms. Prints figures only;
never fails on a timing. The dataset (its own database) is built once and reused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.client
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import Any

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jingfang_bench_fu")

from _django import ROOT, commit, percentile, setup, summarize, timed

from casemgmt.dates import add_months

COUNTY = "340102"
TOWNSHIPS = 10
VILLAGES_PER_TOWNSHIP = 10
IN_TOWNSHIP_ONE = 2_000
PER_OTHER_TOWNSHIP = 200
DOCTORS = 50  # five per township
PASSWORD = "Bench-Followup-2026"  # noqa: S105  (synthetic accounts in a throw-away benchmark database)
NOT_REACHED_SHARE = 0.08
ROUNDS = 30
# (doctors, seconds between one doctor's saves: 0 = no think time, saves per doctor)
SCENARIOS = ((1, 0.0, 30), (20, 0.0, 20), (20, 5.0, 8), (50, 0.0, 10), (50, 5.0, 8))


# --- the dataset ------------------------------------------------------------------------------------------------


def township_code(t: int) -> str:
    return f"{COUNTY}{t:03d}000"


def doctor_name(i: int) -> str:
    return f"fu_doctor_{i:02d}"


def build_dataset() -> None:
    from django.contrib.auth.hashers import make_password

    from casemgmt.accounts.models import AreaMembership, Role, User
    from casemgmt.areas.models import Area, AreaLevel
    from devdata.registry_bulk import create_synthetic_patients
    from registry.models import Patient

    province, _ = Area.objects.get_or_create(
        code="340000000000", defaults={"name": "随访基准省", "level": AreaLevel.PROVINCE}
    )
    city, _ = Area.objects.get_or_create(
        code="340100000000", defaults={"name": "随访基准市", "level": AreaLevel.CITY, "parent": province}
    )
    county, _ = Area.objects.get_or_create(
        code=f"{COUNTY}000000", defaults={"name": "随访基准县", "level": AreaLevel.COUNTY, "parent": city}
    )
    villages: dict[int, list[Area]] = {}
    for t in range(1, TOWNSHIPS + 1):
        township, _ = Area.objects.get_or_create(
            code=township_code(t), defaults={"name": f"随访镇{t}", "level": AreaLevel.TOWNSHIP, "parent": county}
        )
        villages[t] = [
            Area.objects.get_or_create(
                code=f"{COUNTY}{t:03d}{v:03d}",
                defaults={"name": f"随访村{t}-{v}", "level": AreaLevel.VILLAGE, "parent": township},
            )[0]
            for v in range(1, VILLAGES_PER_TOWNSHIP + 1)
        ]
    hashed = make_password(PASSWORD)  # once: the default hasher is deliberately slow
    for i in range(1, DOCTORS + 1):
        doctor, created = User.objects.get_or_create(
            username=doctor_name(i), defaults={"role": Role.DOCTOR, "password": hashed, "display_name": f"医生{i}"}
        )
        if created:
            AreaMembership.objects.create(user=doctor, area=Area.objects.get(code=township_code((i - 1) % 10 + 1)))
    staff, created = User.objects.get_or_create(
        username="fu_county", defaults={"role": Role.AREA_STAFF, "password": hashed}
    )
    if created:
        AreaMembership.objects.create(user=staff, area=county)

    today = dt.date.today()
    for t in range(1, TOWNSHIPS + 1):
        wanted = IN_TOWNSHIP_ONE if t == 1 else PER_OTHER_TOWNSHIP
        have = Patient.objects.filter(village__code__startswith=f"{COUNTY}{t:03d}").count()
        if have < wanted:
            actor = User.objects.get(username=doctor_name(t))
            print(f"building township {t}: {wanted - have} patients ...", flush=True)
            create_synthetic_patients(villages=villages[t], count=wanted - have, actor=actor, seed=t, today=today)
    build_history(today)


def build_history(today: dt.date) -> None:
    """One reached follow-up per patient 1–100 days ago (so some are overdue, some due soon, some unstable) and,
    for a few, three not-reached attempts since; written through the real service."""
    from casemgmt.accounts.models import User
    from followup import codes
    from followup.models import FollowUp
    from followup.visits import forms, rules, services
    from followup.visits.values import FollowUpEntry
    from registry.models import Patient

    patients = list(
        Patient.objects.filter(village__code__startswith=COUNTY, status="ACTIVE")
        .exclude(followups__isnull=False)
        .select_related("village")
        .order_by("id")
    )
    if not patients:
        return
    print(f"building follow-up history for {len(patients)} patients ...", flush=True)
    doctors = {t: User.objects.get(username=doctor_name(t)) for t in range(1, TOWNSHIPS + 1)}
    rng = random.Random(3)
    start = time.perf_counter()
    for patient in patients:
        actor = doctors[int(patient.village_id[6:9])]
        day = max(patient.registered_on, today - dt.timedelta(days=rng.randrange(1, 100)))
        medications = [{"drug": "利培酮", "shape": "schedule", "morning_mg": "1", "evening_mg": "2"}]
        entry = forms.parse_followup(reached_visit(rng, day), medications, today=today)
        classification = services.suggestion_for(entry).classification
        next_date = rules.next_followup_date(classification, day)
        entry = dataclasses.replace(entry, classification=classification, next_date=next_date)
        services.record_followup(actor=actor, patient=patient, entry=entry, submission_key=uuid.uuid4())
        if rng.random() < NOT_REACHED_SHARE:
            for offset in (3, 2, 1):
                attempt_day = today - dt.timedelta(days=offset)
                if attempt_day > day:
                    attempt = FollowUpEntry(date=attempt_day, mode=3, outcome=codes.Outcome.NOT_REACHED)
                    services.record_followup(actor=actor, patient=patient, entry=attempt, submission_key=uuid.uuid4())
    elapsed = time.perf_counter() - start
    print(f"  {FollowUp.objects.count()} follow-ups, {len(patients) / elapsed:.0f} patients/s", flush=True)


def reached_visit(rng: random.Random, day: dt.date) -> dict[str, Any]:
    risk = rng.choices((0, 1, 2, 3, 4), weights=(72, 12, 6, 7, 3))[0]
    return {
        "date": day,
        "mode": rng.choice((1, 2, 3)),
        "contacts": [1, 2],
        "outcome": "REACHED",
        "risk_level": risk,
        "symptoms": [1] if risk else [],
        "insight": 1 if risk < 3 else 3,
        "sleep": 1,
        "diet": 1,
        "social_selfcare": 1,
        "social_housework": 1,
        "social_work": 9,
        "social_learning": 1,
        "social_contact": 1,
        "locking": 1,
        "hospitalisation": 0,
        "lab": 1,
        "adherence": rng.choice((1, 1, 1, 2)),
        "adverse_reaction": 1,
        "treatment_effect": 2,
        "referral": 1,
        "family_support": True,
    }


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("registry_patient", "followup_followup", "followup_patientcarestate", "followup_medicationrow"):
            cursor.execute(f"VACUUM ANALYZE {table}")


# --- the work list, in-process ------------------------------------------------------------------------------------


def measure_work_list() -> list[str]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from casemgmt.accounts.models import User
    from followup.visits.queries import WORK_LIST_LIMIT, work_list

    lines = []
    for label, username in (
        (f"work list, township of {IN_TOWNSHIP_ONE:,} (doctor)", doctor_name(1)),
        (f"overdue counts per township, county of {IN_TOWNSHIP_ONE + 9 * PER_OTHER_TOWNSHIP:,} (staff)", "fu_county"),
    ):
        client = Client(HTTP_HOST="localhost")
        client.force_login(User.objects.get(username=username))
        client.get("/followup/worklist/")  # warm caches, session, templates
        millis: list[float] = []
        queries: list[int] = []
        for _ in range(ROUNDS):
            with CaptureQueriesContext(connection) as ctx:
                millis.append(timed(partial(_get_ok, client, "/followup/worklist/")))
            queries.append(len(ctx.captured_queries))
        lines.append(summarize(label, millis, queries))
        if username == doctor_name(1):
            work = work_list(User.objects.get(username=username), dt.date.today())
            lines.append(f"  section sizes (rows shown are capped at {WORK_LIST_LIMIT}): {work.totals}")
    return lines


def _get_ok(client: Any, url: str) -> None:
    status = client.get(url).status_code
    if status != 200:
        raise SystemExit(f"unexpected HTTP {status} for {url}")


# --- saving through gunicorn ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DJANGO_SECURE_COOKIES": "false", "DJANGO_DEBUG": "false"}
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "casemgmt.wsgi",
        "--workers",
        "4",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    log = (ROOT / "var" / "bench_gunicorn.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/login/")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not start; see var/bench_gunicorn.log")


CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY_RE = re.compile(r'name="submission_key" value="([^"]+)"')


class Browser:
    """A logged-in session: one connection and a cookie dict, standard library only."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None) -> tuple[int, str, str]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.connection.close()  # a sync worker closed the connection: open a new one and retry once
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers.get("Location", ""), text

    def log_in(self, username: str) -> None:
        _status, _location, page = self.request("GET", "/login/")
        token = CSRF_RE.search(page)
        if token is None:
            raise RuntimeError("no CSRF token on the login page")
        form = [("csrfmiddlewaretoken", token.group(1)), ("username", username), ("password", PASSWORD)]
        status, _location, _page = self.request("POST", "/login/", form)
        if status != 302:
            raise RuntimeError(f"login of {username} failed: HTTP {status}")


def followup_form(csrf: str, key: str, today: dt.date, rng: random.Random) -> list[tuple[str, str]]:
    """A complete, stable, reached follow-up with one medication row, as the browser posts it."""
    visit = reached_visit(rng, today)
    visit.update(risk_level=0, symptoms=[], insight=1, classification=3)
    form: list[tuple[str, str]] = [("csrfmiddlewaretoken", csrf), ("submission_key", key)]
    for name, value in visit.items():
        if isinstance(value, list):
            form += [(name, str(v)) for v in value]
        elif isinstance(value, bool):
            if value:
                form.append((name, "on"))
        elif isinstance(value, dt.date):
            form.append((name, value.isoformat()))
        else:
            form.append((name, str(value)))
    form.append(("next_date", add_months(today, 3).isoformat()))
    form += [
        ("med-TOTAL_FORMS", "1"),
        ("med-INITIAL_FORMS", "0"),
        ("med-MIN_NUM_FORMS", "0"),
        ("med-MAX_NUM_FORMS", "20"),
        ("med-0-drug", "奥氮平"),
        ("med-0-shape", "frequency"),
        ("med-0-times_per_day", "1"),
        ("med-0-mg_per_dose", str(rng.choice((5, 10, 15)))),
    ]
    return form


@dataclass
class Results:
    saves: list[float] = field(default_factory=list)
    forms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Job:
    """What one doctor thread does: log in, then save ``saves`` follow-ups for their own patients."""

    port: int
    username: str
    patients: list[str]
    saves: int
    pace: float  # seconds between the starts of two saves; 0 = no think time


def doctor_thread(job: Job, results: Results, start: threading.Barrier) -> None:
    rng = random.Random(job.username)
    today = dt.date.today()
    browser = Browser(job.port)
    try:
        browser.log_in(job.username)
    except Exception as exc:  # a failed login is reported as an error, never a crash of the benchmark
        with results.lock:
            results.errors.append(f"{job.username}: {exc}")
        start.wait()
        return
    start.wait()
    if job.pace:
        time.sleep(rng.uniform(0, job.pace))  # doctors do not all press "save" in the same instant
    for index in range(job.saves):
        began = time.perf_counter()
        path = f"/followup/patients/{job.patients[index % len(job.patients)]}/new/"
        try:
            form_ms, save_ms = save_one(browser, path, today, rng)
        except Exception as exc:  # counted, not raised: the benchmark reports errors
            with results.lock:
                results.errors.append(f"{job.username}: {exc}")
            continue
        with results.lock:
            results.forms.append(form_ms)
            results.saves.append(save_ms)
        if job.pace:
            time.sleep(max(0.0, job.pace - (time.perf_counter() - began)))


def save_one(browser: Browser, path: str, today: dt.date, rng: random.Random) -> tuple[float, float]:
    """GET the form, POST it; returns both latencies in ms, or raises with what went wrong."""
    t0 = time.perf_counter()
    status, _location, page = browser.request("GET", path)
    form_ms = (time.perf_counter() - t0) * 1000
    csrf, key = CSRF_RE.search(page), KEY_RE.search(page)
    if status != 200 or csrf is None or key is None:
        raise RuntimeError(f"form: HTTP {status}")
    t0 = time.perf_counter()
    status, location, page = browser.request("POST", path, followup_form(csrf.group(1), key.group(1), today, rng))
    save_ms = (time.perf_counter() - t0) * 1000
    if status != 302 or "/timeline/" not in location:
        raise RuntimeError(f"save: HTTP {status} {re.findall(r'class=.error.>([^<]+)<', page)[:3]}")
    return form_ms, save_ms


def patients_by_doctor() -> dict[str, list[str]]:
    """Each doctor gets their own patients of their township (two doctors never save for the same patient)."""
    from registry.models import Patient

    out: dict[str, list[str]] = {}
    for t in range(1, TOWNSHIPS + 1):
        uuids = [
            str(u)
            for u in Patient.objects.filter(village__code__startswith=f"{COUNTY}{t:03d}", status="ACTIVE")
            .order_by("id")
            .values_list("uuid", flat=True)
        ]
        doctors = [doctor_name(i) for i in range(t, DOCTORS + 1, TOWNSHIPS)]
        for slot, name in enumerate(doctors):
            out[name] = uuids[slot :: len(doctors)]
    return out


def run_load(port: int, concurrency: int, saves: int, pace: float = 0.0) -> list[str]:
    assignments = patients_by_doctor()
    results = Results()
    doctors = [doctor_name(i) for i in range(1, concurrency + 1)]
    start = threading.Barrier(concurrency + 1)
    threads = [
        threading.Thread(
            target=doctor_thread, args=(Job(port, name, assignments[name], saves, pace), results, start), daemon=True
        )
        for name in doctors
    ]
    for thread in threads:
        thread.start()
    start.wait()  # everyone is logged in: the clock starts now
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    mode = f"paced, one save per {pace:g} s each" if pace else "closed loop, no think time"
    label = f"{concurrency} doctors, {mode}"
    lines = [f"{label}: {len(results.saves)} saves in {elapsed:.1f} s ({len(results.saves) / elapsed:.1f}/s), "
             f"errors={len(results.errors)}"]  # fmt: skip
    if results.saves:
        lines.append(_latency("  save (POST, redirect)", results.saves))
        lines.append(_latency("  form (GET)", results.forms))
    lines += [f"  error: {e}" for e in results.errors[:5]]
    return lines


def _latency(label: str, millis: list[float]) -> str:
    return (
        f"{label:<28} p50={statistics.median(millis):7.1f} ms  p95={percentile(millis, 95):7.1f} ms  "
        f"max={max(millis):7.1f} ms"
    )


def measure_saves() -> list[str]:
    port = free_port()
    process = start_gunicorn(port)
    lines: list[str] = []
    try:
        run_load(port, 20, 3)  # warm-up: every worker imports, connects and renders once
        for doctors, pace, saves in SCENARIOS:
            lines += run_load(port, doctors, saves, pace)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return lines


def main() -> None:
    setup()
    build_dataset()
    analyze()
    work_list = measure_work_list()
    saves = measure_saves()
    print(
        f"\nfollow-up benchmark — {dt.datetime.now():%Y-%m-%d %H:%M}, commit {commit()}, "
        f"{platform.machine()} {platform.python_version()}, {sys.platform}, {os.cpu_count()} CPUs"
    )
    for line in (*work_list, "", "saving a follow-up through gunicorn (4 workers) on PostgreSQL, loopback:", *saves):
        print(line)


if __name__ == "__main__":
    main()
