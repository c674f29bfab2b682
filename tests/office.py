"""LibreOffice as the second program that makes test fixtures: files written by the project (openpyxl, csv) are
converted with ``soffice --headless --convert-to``. A missing soffice fails the test, never skips it (.ci/run
installs libreoffice-calc-nogui). Each call gets a profile directory of its own, so tests may run side by side;
a call converts many files at once (one start-up of LibreOffice costs seconds)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

# LibreOffice's CSV filter options: separator 44 (,), text delimiter 34 ("), character set (rtl_TextEncoding).
CSV_UTF8 = "csv:Text - txt - csv (StarCalc):44,34,76"
CSV_GB18030 = "csv:Text - txt - csv (StarCalc):44,34,85"  # GBK's superset; the same bytes for GBK's characters
TIMEOUT = 180


def soffice() -> str:
    found = shutil.which("soffice")
    assert found, "LibreOffice (soffice) is missing: install libreoffice-calc-nogui (.ci/run does)"
    return found


def convert(files: Sequence[Path], target: str, out: Path) -> list[Path]:
    """Convert *files* to *target* (``xls``, ``ods``, ``xlsx``, or a CSV filter above) into folder *out*."""
    out.mkdir(parents=True, exist_ok=True)
    suffix = "csv" if target.startswith("csv") else target
    with tempfile.TemporaryDirectory(prefix="soffice-profile-") as profile:
        command = [
            soffice(),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(out),
            *map(str, files),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=TIMEOUT)  # noqa: S603
    made = [out / f"{f.stem}.{suffix}" for f in files]
    missing = [p.name for p in made if not p.is_file()]
    assert not missing, f"soffice did not write {missing}"
    return made
