"""Shared set-up for benchmarks: Django against a dedicated PostgreSQL database (never the demo's or tests')."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jingfang_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devdata.settings")


def setup() -> None:
    """Create the bench database if needed, configure Django and migrate."""
    import django
    import psycopg

    name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def commit() -> str:
    git = ["git", "rev-parse", "--short", "HEAD"]  # git from PATH is intended
    out = subprocess.run(git, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    return out.stdout.strip() or "unknown"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def summarize(label: str, millis: list[float], queries: list[int]) -> str:
    return (
        f"{label:<58} n={len(millis):<4} p50={statistics.median(millis):7.1f} ms  "
        f"p95={percentile(millis, 95):7.1f} ms  max={max(millis):7.1f} ms  queries={sorted(set(queries))}"
    )


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000
