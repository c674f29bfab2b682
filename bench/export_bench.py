"""Issue 15 §7 benchmark: the registry workbook round trip — export an area's whole registry
(``manage.py export_workbook``), load the file into an empty database (``import_workbook``) and compare the
indicator documents of every year, quarter and month in both databases.

The source is a synthetic province (``generate_synthetic``, built once and reused, with the cases the live system
would have opened, which the generator does not write) in its own database; the
target database is dropped and created empty on every run. Each phase runs in a child process of its own and
prints its wall time and peak resident memory (``ru_maxrss``); the last line is ``RESULT {json}``.

    .venv/bin/python bench/export_bench.py --patients 10000            # a province of about 4 counties
    .venv/bin/python bench/export_bench.py --patients 10000 --area 71  # the whole province

Databases: ``jf_export_bench_src`` and ``jf_export_bench_dst`` (``--reset`` also rebuilds the source).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCE = "postgres://postgres@127.0.0.1:5432/jf_export_bench_src"
TARGET = "postgres://postgres@127.0.0.1:5432/jf_export_bench_dst"
PROVINCE = "71"


def phase(name: str, database: str, *args: str) -> dict[str, Any]:
    """Run one phase in a child process against *database*; its JSON line."""
    env = {**os.environ, "DATABASE_URL": database}
    command = [sys.executable, str(Path(__file__).resolve()), "--phase", name, *args]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if out.returncode != 0:
        sys.stderr.write(out.stdout + out.stderr)
        raise SystemExit(f"phase {name} failed")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def drop(database: str) -> None:
    import psycopg

    name = database.rsplit("/", 1)[1]
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the phases (child processes) --------------------------------------------------------------------------


def run_phase(name: str, options: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from _django import setup

    setup()
    started = time.perf_counter()
    result: dict[str, Any] = {}
    if name == "generate":
        from django.db import transaction

        from devdata.synthetic.run import generate
        from followup.cases.bulk import open_cases_after_bulk_load
        from followup.management.commands.import_workbook import system_actor
        from followup.models import Case
        from registry.models import Patient

        if not Patient.objects.exists():
            summary = generate(patients=options.patients, years=options.years, seed=20261206, province=PROVINCE)
            result["generated"] = summary.patients
        if not Case.objects.exists():  # the generator writes no cases; the live system opens them as it goes
            ids = Patient.objects.values_list("pk", flat=True)
            with transaction.atomic():
                result["cases_opened"] = open_cases_after_bulk_load(actor=system_actor(), patient_ids=ids)
    elif name == "export":
        from casemgmt.areas import codes
        from casemgmt.areas.models import Area
        from followup.workbook.export import area_selection, export_workbook

        area = Area.objects.get(code=codes.code_from_prefix(options.area))
        written = export_workbook(area_selection(area), options.file, actor=None)
        result.update(patients=written.patients, rows=written.rows, bytes=Path(options.file).stat().st_size)
    elif name == "import":
        from followup.management.commands.import_workbook import system_actor
        from followup.workbook.loading import import_workbook

        report = import_workbook(options.file, actor=system_actor())
        result.update(ok=report.ok, problems=report.problem_total)
    elif name == "documents":
        result["documents"] = documents(options.area)
    result.update(seconds=round(time.perf_counter() - started, 1), peak_mb=round(peak_mb()))
    return result


def documents(prefix: str) -> dict[str, Any]:
    from casemgmt.areas import codes
    from casemgmt.areas.models import Area
    from metrics.indicators.periods import parse_period
    from metrics.reports.engine import compute
    from registry.models import Patient

    area = Area.objects.get(code=codes.code_from_prefix(prefix))
    first = Patient.objects.order_by("registered_on").values_list("registered_on", flat=True).first()
    today = dt.date.today()
    keys: list[str] = []
    for year in range(first.year if first else today.year, today.year + 1):
        keys.append(str(year))
        keys += [f"{year}-Q{q}" for q in range(1, 5) if dt.date(year, 3 * q - 2, 1) <= today]
        keys += [f"{year}-{m:02d}" for m in range(1, 13) if dt.date(year, m, 1) <= today]
    fixed = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return {key: compute(area, parse_period(key), children=True).document(computed_at=fixed) for key in keys}


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    """Where two documents differ, as paths with both values."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            d
            for key in sorted(set(before) | set(after))
            for d in differences(before.get(key), after.get(key), f"{path}.{key}")
        ]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            d for i, (b, a) in enumerate(zip(before, after, strict=True)) for d in differences(b, a, f"{path}[{i}]")
        ]
    return [] if before == after else [f"{path}: {before!r} -> {after!r}"]


# --- the run -----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=10000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--area", default=f"{PROVINCE}0101", help="the prefix exported (default: the first county)")
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--phase")
    parser.add_argument("--file", default=str(HERE.parent / "var" / "bench" / "export-roundtrip.xlsx"))
    options = parser.parse_args()
    if options.phase:
        print(json.dumps(run_phase(options.phase, options), ensure_ascii=False, default=str))
        return
    sys.path.insert(0, str(HERE))
    from _django import commit

    Path(options.file).parent.mkdir(parents=True, exist_ok=True)
    if options.reset:
        drop(SOURCE)
    args = ["--patients", str(options.patients), "--years", str(options.years), "--area", options.area]
    args += ["--file", options.file]
    generated = phase("generate", SOURCE, *args)
    exported = phase("export", SOURCE, *args)
    drop(TARGET)
    imported = phase("import", TARGET, *args)
    before = phase("documents", SOURCE, *args)["documents"]
    after = phase("documents", TARGET, *args)["documents"]
    differing = sorted(key for key in before if before[key] != after.get(key))
    rows = exported["rows"]
    print(f"commit {commit()}  area {options.area}  source province: {options.patients} patients")
    print(f"export: {exported['patients']} patients, {rows.get('followups', 0)} follow-ups, "
          f"{sum(rows.values())} rows, {exported['bytes'] / 1e6:.1f} MB in {exported['seconds']} s, "
          f"peak {exported['peak_mb']} MB")  # fmt: skip
    print(f"import into an empty database: {imported['seconds']} s, peak {imported['peak_mb']} MB, ok={imported['ok']}")
    print(f"indicator documents compared: {len(before)} periods, {len(differing)} differ {differing[:5]}")
    for key in differing[:3]:
        print(f"  {key}: " + "; ".join(differences(before[key], after[key])[:6]))
    summary = {"generate": generated, "export": exported, "import": imported, "periods": len(before)}
    print("RESULT " + json.dumps({**summary, "differing": differing}, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
