"""Peak memory and time of the tabular reader on hostile files (issue 15 §9): a 425 KB .xlsx whose shared strings
inflate to hundreds of MB, zip bombs of CSV files (declared sizes, and a header that lies about them).

The files are made in one child process, and each case runs in a child process of its own, so its peak RSS
(``ru_maxrss``, which Linux keeps across fork and exec) is its own: it opens the file the
way the registry import does (``casemgmt.tabular.open_source``, then the patients and followups sheets read to the
end) and prints the outcome — the message, or the rows read. ``--unbounded`` adds the shared-strings bomb read
with the limits lifted (what the reader did before them: openpyxl parses the whole shared-string table).

    .venv/bin/python bench/hostile_files_bench.py [--unbounded]

Needs no database; LibreOffice (soffice) makes the .xls and .ods.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devdata.settings")

STRINGS_INFLATED = 425 * 1024**2  # ~425 KB of file
ZIP_INFLATED = 16 * 1024**3  # 16 GB of blank lines: ~16 MB of file
UNBOUNDED = 1 << 62
LYING_LINES = 100 * 1024**2  # 200 MB inflated, declared as 1000 bytes


def make(folder: Path) -> dict[str, Path]:
    from devdata.hostile_files import shared_strings_bomb, understate_size, zip_bomb

    files = {"shared-strings bomb (.xlsx)": shared_strings_bomb(folder / "strings.xlsx", STRINGS_INFLATED)}
    files["zip bomb, sizes declared (.zip)"] = zip_bomb(folder / "declared.zip", ZIP_INFLATED)
    lying = folder / "lying.zip"
    with zipfile.ZipFile(lying, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("patients.csv", b"ref,national_id,name,village_code,disorder,registered_on\r\n")
        archive.writestr("followups.csv", b"ref,patient_ref,date,mode,outcome\r\n" + b"\r\n" * LYING_LINES)
    files["zip bomb, sizes understated (.zip)"] = understate_size(lying, "followups.csv", 1000)
    files["blank lines, 40 M (.zip)"] = zip_bomb(folder / "blank.zip", 80 * 1024**2)
    files.update(grid_corners(folder))
    return files


def grid_corners(folder: Path) -> dict[str, Path]:
    """.xls and .ods of a few KB whose sheet spans A1 to IV65536, made by LibreOffice (calamine's dense grid)."""
    import openpyxl

    from tests.office import convert

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101
    sheet.title = "patients"
    sheet["A1"], sheet["IV65536"] = "ref", "x"
    book.save(folder / "corner.xlsx")
    return {
        f"grid A1:IV65536 (.{target})": convert([folder / "corner.xlsx"], target, folder / target)[0]
        for target in ("xls", "ods")
    }


def child(path: str, unbounded: bool) -> None:
    """Open and read *path* as the import does; print one JSON line."""
    import django

    django.setup()
    from django.conf import settings

    from casemgmt.tabular import TabularError, open_source
    from followup.workbook.schema import FOLLOWUPS, PATIENTS

    if unbounded:
        settings.TABULAR_MAX_INFLATED_BYTES = settings.TABULAR_MAX_PART_BYTES = UNBOUNDED
    started = time.perf_counter()
    outcome: str
    try:
        rows = 0
        problems: list[str] = []
        with open_source(path) as source:
            for spec in (PATIENTS, FOLLOWUPS):
                sheet = source.sheet(spec)
                if sheet is not None:
                    problems += [str(p) for p in sheet.header_problems]
                    try:
                        rows += sum(1 for _ in sheet)
                    except TabularError as exc:
                        problems.append(str(exc))
        outcome = f"{rows} rows; " + ("; ".join(problems) or "no problem")
    except TabularError as exc:
        outcome = str(exc)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    probe = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # calamine's capped measuring child
    print(json.dumps({"seconds": seconds, "peak": peak, "probe": probe, "outcome": outcome}, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unbounded", action="store_true", help="also read the strings bomb without the limits")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--make", help=argparse.SUPPRESS)
    parser.add_argument("--lifted", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.lifted)
        return
    if args.make:  # in a process of its own: the children measured later must not inherit its peak
        print(json.dumps({label: str(path) for label, path in make(Path(args.make)).items()}, ensure_ascii=False))
        return
    git = ["git", "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, check=False, cwd=ROOT, capture_output=True, text=True)  # noqa: S603
    print(f"hostile files bench, commit {commit.stdout.strip()}, limits from casemgmt/settings.py (TABULAR_*)")
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        made = subprocess.run([sys.executable, __file__, "--make", tmp], capture_output=True, text=True, check=True)  # noqa: S603
        files = {label: Path(path) for label, path in json.loads(made.stdout.strip().splitlines()[-1]).items()}
        runs = [(label, path, False) for label, path in files.items()]
        if args.unbounded:
            runs.append(("shared-strings bomb, limits lifted", files["shared-strings bomb (.xlsx)"], True))
        for label, path, lifted in runs:
            command = [sys.executable, __file__, "--child", str(path), *(["--lifted"] if lifted else [])]
            result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
            if result.returncode != 0:
                print(f"{label}: child failed ({result.returncode}): {result.stderr.strip()[-300:]}")
                continue
            figures = json.loads(result.stdout.strip().splitlines()[-1])
            size, peak, probe = path.stat().st_size / 1024, figures["peak"] / 1024**2, figures["probe"] / 1024**2
            outcome = figures["outcome"][:150]
            print(
                f"{label:<38} file {size:7.0f} KB  peak RSS {peak:4.0f} MB (probe child {probe:4.0f} MB)  "
                f"{figures['seconds']:6.2f} s  → {outcome}"
            )


if __name__ == "__main__":
    main()
