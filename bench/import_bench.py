"""Issue 5 point 3 benchmark: loading a registry workbook (exchange.md §1) of 100,000 patients and 400,000
follow-ups through the real code path (``followup.workbook.loading.import_workbook``), on PostgreSQL.

The synthetic workbook is generated once per size (streamed with openpyxl's write-only mode, in a child process
so its memory does not count) under var/bench/: one county of 10 townships x 50 villages in its ``areas`` sheet,
patients with synthetic names and valid ID numbers, 2 % transferred once, four follow-ups each, a medication row
for every fourth follow-up, rehabilitation for 5 % and a health check for 30 %. The import then runs in this
process; the script prints the time of the checking and the writing pass, rows per second and the peak resident
memory (``ru_maxrss``), then loads the same file again (nothing may change) and prints that run's figures.
Each run's time is split into its phases: reading and checking the file, the write pass (COPY on PostgreSQL),
and the upkeep after the write (care states, cases, the indicator state).

``--format csv`` writes the same sheets as a .zip of CSV files instead (exchange.md §1 accepts both): the
reader then parses text instead of spreadsheet XML. Issue 15 §8 asks for 10,000 rows/s at the full size.

    .venv/bin/python bench/import_bench.py --patients 10000          # a quick run while developing
    .venv/bin/python bench/import_bench.py --patients 100000 --reset # the issue's size, from an empty database
    .venv/bin/python bench/import_bench.py --patients 100000 --reset --format csv

Uses its own database (``jf_import_bench`` unless DATABASE_URL says otherwise); ``--reset`` drops it first.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jf_import_bench")

from _django import ROOT, commit, setup

COUNTY = "340102"
TOWNSHIPS = 10
VILLAGES = 50
FOLLOWUPS_PER_PATIENT = 4


def villages() -> list[str]:
    return [f"{COUNTY}{t:03d}{v:03d}" for t in range(1, TOWNSHIPS + 1) for v in range(1, VILLAGES + 1)]


Planned = list[tuple[str, dt.date, str, str | None]]  # ref, registered on, village now, village before a move


class CsvBook:
    """The few methods of a write-only openpyxl workbook the generator uses, writing a .zip of CSV files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: list[Any] = []

    def create_sheet(self, name: str) -> Any:
        handle = (self.folder / f"{name}.csv").open("w", encoding="utf-8", newline="")
        self.files.append(handle)
        return CsvSheet(csv.writer(handle))

    def save(self, path: Path) -> None:
        for handle in self.files:
            handle.close()
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for handle in self.files:
                member = Path(handle.name)
                archive.write(member, member.name)


class CsvSheet:
    def __init__(self, writer: Any) -> None:
        self.writer = writer

    def append(self, values: list[object]) -> None:
        self.writer.writerow(["" if v is None else v.isoformat() if isinstance(v, dt.date) else v for v in values])


def generate(path: Path, patients: int, seed: int = 20261130) -> None:
    """Write the synthetic workbook (.xlsx or a .zip of CSV files), streaming: no sheet is held in memory."""
    import django

    django.setup()
    import openpyxl

    rng = random.Random(seed)
    if path.suffix == ".zip":
        with tempfile.TemporaryDirectory() as folder:
            _generate(CsvBook(Path(folder)), path, patients, rng)
    else:
        _generate(openpyxl.Workbook(write_only=True), path, patients, rng)


def _generate(book: Any, path: Path, patients: int, rng: random.Random) -> None:
    write_areas(book.create_sheet("areas"))
    planned = write_patients(book.create_sheet("patients"), rng, patients)
    transfers = book.create_sheet("transfers")
    transfers.append(["patient_ref", "from_village_code", "to_village_code", "requested_on", "accepted_on"])
    for ref, registered, village, before in planned:
        if before is not None and before != village:
            moved = registered + dt.timedelta(days=100)
            transfers.append([ref, before, village, moved, moved + dt.timedelta(days=3)])
    write_histories(book, rng, planned)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def write_areas(sheet: Any) -> None:
    sheet.append(["code", "name", "level"])
    sheet.append(["340000000000", "基准省", 1])
    sheet.append(["340100000000", "基准市", 2])
    sheet.append([f"{COUNTY}000000", "基准县", 3])
    for t in range(1, TOWNSHIPS + 1):
        sheet.append([f"{COUNTY}{t:03d}000", f"基准镇{t}", 4])
        for v in range(1, VILLAGES + 1):
            sheet.append([f"{COUNTY}{t:03d}{v:03d}", f"基准村{t}-{v}", 5])


def write_patients(sheet: Any, rng: random.Random, patients: int) -> Planned:
    from devdata.identities import synthetic_address, synthetic_birth_date, synthetic_name, synthetic_phone
    from devdata.registry_bulk import NationalIdAllocator

    today = dt.date.today()
    codes = villages()
    ids = NationalIdAllocator()
    sheet.append(["档案编号", "身份证号", "姓名", "性别", "联系电话", "现住址区划代码", "现住址", "诊断类别",
                  "确诊日期", "建档日期", "知情同意", "状态", "状态日期", "死亡原因"])  # fmt: skip
    planned: Planned = []
    for n in range(patients):
        registered = today - dt.timedelta(days=rng.randint(400, 365 * 5))
        sex = rng.choice((1, 2))
        born = synthetic_birth_date(rng, registered, min_age=16, max_age=80)
        village = rng.choice(codes)
        before = rng.choice(codes) if rng.random() < 0.02 else None
        status, status_date, cause = "ACTIVE", None, None
        if rng.random() < 0.03:
            status, status_date, cause = "DEAD", today - dt.timedelta(days=rng.randint(1, 300)), rng.randint(1, 6)
        ref = f"P{n:07d}"
        sheet.append([ref, ids.allocate(COUNTY, born, sex), synthetic_name(rng), sex, synthetic_phone(rng), village,
                      synthetic_address(rng), rng.choice((1, 1, 1, 4, 6)), registered, registered, 1, status,
                      status_date, cause])  # fmt: skip
        planned.append((ref, registered, village, before))
    return planned


def write_histories(book: Any, rng: random.Random, planned: Planned) -> None:
    followups = book.create_sheet("followups")
    followups.append(["随访编号", "档案编号", "随访日期", "随访方式", "随访结果", "危险性评估", "自知力", "目前症状",
                      "用药依从性", "住院情况", "本次随访分类", "下次随访日期", "家属心理支持"])  # fmt: skip
    medications = book.create_sheet("medications")
    medications.append(["随访编号", "药物名称", "早(mg)", "中(mg)", "晚(mg)"])
    rehab = book.create_sheet("rehab")
    rehab.append(["patient_ref", "provider_type", "start_date", "end_date"])
    checks = book.create_sheet("health_checks")
    checks.append(["patient_ref", "date"])
    count = 0
    for ref, registered, _village, _before in planned:
        for k in range(FOLLOWUPS_PER_PATIENT):
            day = registered + dt.timedelta(days=90 * k + 7)
            fref = f"F{count:08d}"
            if rng.random() < 0.9:
                followups.append([fref, ref, day, rng.choice((1, 2, 3)), "REACHED", rng.choice((0, 0, 0, 1, 2, None)),
                                  1, "1,3", 1, 0, 3, day + dt.timedelta(days=90), 1])  # fmt: skip
                if count % 4 == 0:
                    medications.append([fref, "利培酮", 1, None, 2])
            else:
                followups.append([fref, ref, day, 3, "NOT_REACHED", None, None, None, None, None, None, None, None])
            count += 1
        if rng.random() < 0.05:
            rehab.append([ref, "clubhouse", registered + dt.timedelta(days=30), None])
        if rng.random() < 0.3:
            checks.append([ref, registered + dt.timedelta(days=200)])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def backend_cpu_seconds() -> float:
    """CPU time of this connection's PostgreSQL backend process (same machine: read from /proc)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def clocks() -> tuple[float, float, float]:
    """Wall time, this process's CPU and its database backend's CPU."""
    return time.perf_counter(), cpu_seconds(), backend_cpu_seconds()


def reset_database() -> None:
    import psycopg

    name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_import(path: Path, label: str) -> None:
    from followup.management.commands.import_workbook import system_actor
    from followup.workbook.loading import import_workbook

    marks: dict[str, tuple[float, float, float]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in marks:
            marks[stage] = clocks()

    start = clocks()
    report = import_workbook(path, actor=system_actor(), progress=progress)
    end = clocks()
    elapsed = end[0] - start[0]
    if not report.ok:
        print("\n".join(report.lines()[:20]))
        raise SystemExit(1)
    rows = sum(c.created + c.unchanged + c.updated for c in report.counts.values())
    load = marks.get("load", end)
    upkeep = marks.get("upkeep", end)
    cpu = (end[1] - start[1]) + (end[2] - start[2])
    print(
        f"{label}: {elapsed:7.1f} s  {rows:,} rows, {rows / elapsed:,.0f} rows/s"
        f"  peak RSS so far {peak_rss_mb():.0f} MB\n"
        f"    CPU: this process {end[1] - start[1]:.1f} s + its PostgreSQL backend {end[2] - start[2]:.1f} s"
        f" = {rows / max(cpu, 0.001):,.0f} rows per CPU second (the wall time above includes waiting for a core)"
    )
    for phase, (a, b) in {"read+check": (start, load), "write": (load, upkeep), "upkeep": (upkeep, end)}.items():
        wall, here, there = b[0] - a[0], b[1] - a[1], b[2] - a[2]
        print(f"    {phase:<11} {wall:7.1f} s wall, CPU {here:6.1f} s here + {there:6.1f} s database")
    for name, count in report.sheet_rows():
        print(
            f"    {name:<14} created {count.created:>8,}  unchanged {count.unchanged:>8,}  updated {count.updated:>4,}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--reset", action="store_true", help="drop the bench database first")
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx", help="csv: a .zip of CSV files")
    parser.add_argument("--generate-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        generate(args.generate_only, args.patients)
        return
    suffix = "zip" if args.format == "csv" else "xlsx"
    path = ROOT / "var" / "bench" / f"workbook-{args.patients}.{suffix}"
    if not path.exists():
        start = time.perf_counter()
        command = [sys.executable, __file__, "--patients", str(args.patients), "--generate-only", str(path)]
        subprocess.run(command, check=True)  # noqa: S603
        print(f"generated {path.name} in {time.perf_counter() - start:.0f} s ({path.stat().st_size / 2**20:.0f} MB)")
    if args.reset:
        reset_database()
    setup()
    from registry.models import Patient

    print(f"import_bench  {dt.datetime.now():%Y-%m-%d %H:%M}  commit {commit()}  Python {platform.python_version()}")
    follow_ups = args.patients * FOLLOWUPS_PER_PATIENT
    print(f"workbook: {args.patients:,} patients, {follow_ups:,} follow-ups; patients already in the database: "
          f"{Patient.objects.count():,}; RSS after set-up {peak_rss_mb():.0f} MB")  # fmt: skip
    run_import(path, "first load ")
    run_import(path, "second load")


if __name__ == "__main__":
    main()
