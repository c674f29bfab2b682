"""Area changes (issue 15 §4): checking and applying a township merge whose villages hold many records.

Dataset (built once, reused): one county, township A with VILLAGES villages holding PATIENTS synthetic patients
(``devdata.registry_bulk``), township B empty; the indicator state is built. Measured: the dry run of a change list
merging A into B (every village of A re-coded under B), and the real load — records, custody, audit and the
indicator state of every moved patient — inside a transaction that is then rolled back, so the run can be
repeated. Environment: BENCH_PATIENTS (default 5000), BENCH_VILLAGES (20).

    cd bench && ../.venv/bin/python area_change_bench.py
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jingfang_bench_areas")  # before _django

from _django import commit, setup, timed

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "5000"))
VILLAGES = int(os.environ.get("BENCH_VILLAGES", "20"))
COUNTY = "340202"
TOWN_A, TOWN_B = f"{COUNTY}012", f"{COUNTY}013"


def build_dataset() -> None:
    from casemgmt.accounts.models import Role, User
    from casemgmt.areas.models import Area, AreaLevel
    from devdata.registry_bulk import Mix, create_synthetic_patients
    from metrics.state.rebuild import rebuild
    from metrics.state.write import suspended
    from registry.models import Patient

    parent = None
    for code, name, level in (
        ("340000000000", "安徽省", AreaLevel.PROVINCE),
        ("340200000000", "芜湖市", AreaLevel.CITY),
        (f"{COUNTY}000000", "镜湖区", AreaLevel.COUNTY),
    ):
        parent, _ = Area.objects.get_or_create(code=code, defaults={"name": name, "level": level, "parent": parent})
    towns = {
        prefix: Area.objects.get_or_create(
            code=f"{prefix}000", defaults={"name": name, "level": AreaLevel.TOWNSHIP, "parent": parent}
        )[0]
        for prefix, name in ((TOWN_A, "方村街道"), (TOWN_B, "张家山街道"))
    }
    villages = [
        Area.objects.get_or_create(
            code=f"{TOWN_A}{v:03d}", defaults={"name": f"甲村{v}", "level": AreaLevel.VILLAGE, "parent": towns[TOWN_A]}
        )[0]
        for v in range(1, VILLAGES + 1)
    ]
    actor, _ = User.objects.get_or_create(username="area_bench_doctor", defaults={"role": Role.DOCTOR})
    have = Patient.objects.count()
    if have < PATIENTS:
        print(f"building {PATIENTS - have} patients ...", flush=True)
        with suspended():
            create_synthetic_patients(
                villages=villages, count=PATIENTS - have, actor=actor, seed=have + 1, today=dt.date.today(),
                mix=Mix(years_back=3),
            )  # fmt: skip
        rebuild()


def change_list(folder: Path, day: dt.date) -> Path:
    path = folder / "area_changes.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["kind", "old_code", "new_code", "new_name", "effective_date", "takes_patients"])
        writer.writerow(["MERGE", f"{TOWN_A}000", f"{TOWN_B}000", "", day.isoformat(), ""])
        for v in range(1, VILLAGES + 1):
            writer.writerow(["RECODE", f"{TOWN_A}{v:03d}", f"{TOWN_B}{v:03d}", "", day.isoformat(), ""])
    return path


class Rollback(Exception):
    pass


def main() -> None:
    setup()
    build_dataset()
    from django.db import transaction

    from casemgmt.areas.changes import load_area_changes

    day = dt.date.today() - dt.timedelta(days=100)
    with tempfile.TemporaryDirectory() as folder:
        path = change_list(Path(folder), day)
        dry = timed(lambda: load_area_changes(path, dry_run=True))
        moved: list[int] = []

        def apply() -> None:
            try:
                with transaction.atomic():
                    report = load_area_changes(path)
                    assert report.ok, report.problems  # noqa: S101  (a bench must not time a refused list)
                    moved.append(report.patients_moved)
                    raise Rollback
            except Rollback:
                pass

        real = timed(apply)
    print(f"area changes, commit {commit()}: {PATIENTS} patients in {VILLAGES} villages, township merge")
    print(f"  dry run (check {VILLAGES + 1} rows):            {dry:8.1f} ms")
    print(f"  load (move {moved[0]} records, state kept):  {real:8.1f} ms  = {moved[0] / real * 1000:,.0f} patients/s")


if __name__ == "__main__":
    main()
