"""Issue 6 growth series: the report benchmark at 10,000, 100,000 and 500,000 patients, one database each.

    .venv/bin/python bench/scale_bench.py                 # all three sizes
    .venv/bin/python bench/scale_bench.py 10k 100k        # some of them

Each size runs ``report_bench.py --build N`` in a child process against its own database
(``jf_bench_10k``, ``jf_bench_100k``, ``jf_bench_500k`` on 127.0.0.1, created if needed): the synthetic province
is generated once (and reused later), the indicator state rebuilt when the project has the command, then the
latencies are measured. The table at the end puts the sizes side by side: a county report should stay roughly
flat while the province grows; province and city reports grow with their own size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SIZES = {"10k": 10_000, "100k": 100_000, "500k": 500_000}


def run(label: str, extra: list[str]) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/jf_bench_{label}"}
    command = [sys.executable, str(HERE / "report_bench.py"), f"--build={SIZES[label]}", *extra]
    print(f"=== {label}: {' '.join(command[1:])}", flush=True)
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    sys.stdout.write(out.stdout)
    sys.stderr.write(out.stderr[-2000:])
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode or not lines:
        raise SystemExit(f"{label}: report_bench failed ({out.returncode})")
    return json.loads(lines[-1][len("RESULT ") :])


def table(results: dict[str, dict[str, Any]]) -> str:
    labels = list(results)
    rows = [
        "| | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]

    def row(name: str, cell: Any) -> None:
        rows.append(f"| {name} | " + " | ".join(cell(results[label]) for label in labels) + " |")

    def build_field(key: str, field: str) -> Any:
        return lambda r: str(r["build"].get(key, {}).get(field, "reused"))

    row("patients", lambda r: f"{r['patients']:,}")
    row("generate: wall s", build_field("generate", "seconds"))
    row("generate: patients/s", lambda r: str(r["build"].get("patients_per_second", "reused")))
    row("generate: peak RSS MB", build_field("generate", "peak_rss_mb"))
    row("rebuild state: wall s", build_field("rebuild_state", "seconds"))
    row("rebuild state: peak RSS MB", build_field("rebuild_state", "peak_rss_mb"))
    for level in ("province", "city", "county", "township"):
        row(f"{level} report p50 / p95 ms", lambda r, lv=level: f"{r['levels'][lv]['p50']} / {r['levels'][lv]['p95']}")
        row(
            f"{level} API p50 / p95 ms",
            lambda r, lv=level: f"{r['levels'][lv]['api_p50']} / {r['levels'][lv]['api_p95']}",
        )
    row(
        "county ~2,500, last year, p50 / p95 ms",
        lambda r: f"{r['issue5']['county']['p50']} / {r['issue5']['county']['p95']}",
    )
    row(
        "city ~30,000, last year, p50 / p95 ms",
        lambda r: f"{r['issue5']['city']['p50']} / {r['issue5']['city']['p95']}",
    )
    row("county PDF p50 / p95 ms", lambda r: f"{r['issue5']['county_pdf']['p50']} / {r['issue5']['county_pdf']['p95']}")
    row("benchmark process peak RSS MB", lambda r: str(r["bench_peak_rss_mb"]))
    return "\n".join(rows)


def main() -> None:
    args = sys.argv[1:]
    labels = [a for a in args if a in SIZES] or list(SIZES)
    extra = [a for a in args if a not in SIZES]
    results = {label: run(label, extra) for label in labels}
    first = next(iter(results.values()))["machine"]
    print(
        f"\n{first['date']}, commit {first['commit']}, {first['nproc']} cores, {first['memory_gb']} GB, "
        f"PostgreSQL {first['postgresql']}, Python {first['python']}"
    )
    print(table(results))


if __name__ == "__main__":
    main()
