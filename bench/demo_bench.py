"""Issue 15 benchmark: the steps of ``bin/demo`` after the bootstrap, on the embedded default (SQLite).

    .venv/bin/python bench/demo_bench.py                 # the demo as bin/demo loads it (4.5 per 1,000)
    .venv/bin/python bench/demo_bench.py --per-thousand 1

Runs ``migrate``, ``load_demo`` and ``load_demo_followups`` in child processes against a fresh SQLite file in a
temporary folder (``DATABASE_URL`` and ``REDIS_URL`` unset, as bin/demo does), and prints each step's wall time
and CPU time (user + system of the child), then the totals and the machine's load average: on a shared machine
the wall time follows the load, the CPU time does not. Ends with the report's 报告患病率 of the demo county and
of the city for the current year.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds of the child, and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    out = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, env=env)  # noqa: S603
    wall = time.perf_counter() - start
    if out.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{out.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-thousand", default="4.5")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env["DJANGO_SETTINGS_MODULE"] = "devdata.settings"
        env["DATABASE_URL"] = f"sqlite:///{folder}/demo.sqlite3"
        steps = [
            ("migrate", ["migrate", "--no-input", "-v0"]),
            ("load_demo", ["load_demo", "--per-thousand", options.per_thousand]),
            ("load_demo_followups", ["load_demo_followups"]),
        ]
        total_wall = total_cpu = 0.0
        for name, args in steps:
            wall, cpu, output = run(args, env)
            total_wall, total_cpu = total_wall + wall, total_cpu + cpu
            first = output.strip().splitlines()[0] if output.strip() else ""
            print(f"{name:<20} {wall:7.1f} s wall  {cpu:7.1f} s CPU  {first}")
        print(f"{'total':<20} {total_wall:7.1f} s wall  {total_cpu:7.1f} s CPU")
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        year = time.strftime("%Y")
        for area in ("340223", "3402"):
            _wall, _cpu, report = run(["indicators", "--area", area, "--period", year, "--format", "table"], env)
            lines = report.splitlines()
            print(lines[0].strip(), next(line for line in lines if line.startswith("报告患病率")))


if __name__ == "__main__":
    main()
