"""Loading the real map: the NBS 2023 statistical division codes (统计用区划代码) of a province, city or county —
or of the whole country — with the 2020 census populations, for ``manage.py load_areas --nbs2023 PREFIX``.

What is loaded for a prefix (``34``, ``3402``, ``340202``, or ``all``):

- every area whose code starts with the prefix, and the prefix's ancestors (province, city), five levels, codes
  padded to 12 digits, names as the 2023 list gives them. Placeholder cities (1101 市辖区, 4190 省直辖县级行政区划)
  and statistics-only development zones (5th digit 7, e.g. 340271 芜湖经济技术开发区) are areas like any other:
  they are in the list, and villages belong to them. A row whose code pads to its parent's — the county-level
  rows 441900 东莞市, 442000 中山市, 460400 儋州市 of cities without counties, whose townships hang directly under
  the city, and 金门县's township and village 350527000(000) — is that parent, written once.
- the 2020 census resident population, as the figure for year 2020, of every area within the prefix (the prefix's
  own area and its descendants, never its ancestors: a city loaded alone does not get its province's total) whose
  code the census names — provinces, cities and counties. A census code that no longer exists in 2023 (340208
  三山区, merged) is skipped and counted; a code that kept its number under a new name (340210 芜湖县 → 湾沚区)
  gives its figure to the area of that code, which keeps its 2023 name. A county-level area the census does not
  name (most development zones, districts created after 2020) has no population: its 报告患病率 is unknown until a
  figure is loaded (the population sheet of ``load_areas PATH``), and the summary counts such areas. A figure
  already stored for 2020 — the county's own, loaded from its population sheet — is kept, never replaced.

Codes are never reused (domain.md §3): a code already stored under another name is an error and nothing is
written. Reloading changes nothing. The whole load is one transaction. Rows stream level by level in batches
(bounded memory); on PostgreSQL new areas are written with COPY.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from casemgmt.areas import codes
from casemgmt.areas.models import Area, AreaPopulation
from casemgmt.areas.nbs2023_files import CENSUS_FILE, CENSUS_YEAR, EXTRACT_DIR, LEVEL_FILES, census_rows, level_rows

WHOLE_COUNTRY = "all"
PREFIX_DIGITS = (codes.LEVEL_DIGITS[codes.PROVINCE], codes.LEVEL_DIGITS[codes.CITY], codes.LEVEL_DIGITS[codes.COUNTY])
BATCH = 20_000  # rows checked against the database and written at a time
MAX_PROBLEMS_SHOWN = 50
NAME_MAX_LENGTH = Area._meta.get_field("name").max_length or 100


class Nbs2023Error(Exception):
    """The prefix or the source cannot be used; the message is for the operator."""


@dataclass(frozen=True)
class SkippedCensusRow:
    code: str  # 6 digits, as of 2020
    name: str
    population: int


@dataclass
class Nbs2023Report:
    prefix: str  # "" for the whole country
    dry_run: bool = False
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0  # may exceed len(problems): only the first MAX_PROBLEMS_SHOWN are kept
    created_by_level: dict[int, int] = field(default_factory=dict)
    unchanged_by_level: dict[int, int] = field(default_factory=dict)
    populations_created: int = 0
    populations_kept: int = 0  # a 2020 figure was already stored (the same, or the county's own): left as it is
    census_skipped: list[SkippedCensusRow] = field(default_factory=list)  # codes gone by 2023
    census_renamed: list[tuple[str, str, str]] = field(default_factory=list)  # (12-digit code, 2020 name, 2023 name)
    counties_without_population: list[tuple[str, str]] = field(default_factory=list)  # (12-digit code, name)
    # Rows whose code pads to their parent's (441900 东莞市 under the city 4419 without counties; 350527000 and
    # 350527000000 金门县): the parent is that area, so nothing more is written for them.
    same_as_parent: list[tuple[str, str]] = field(default_factory=list)  # (code as in the file, name)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problem_count

    @property
    def areas_created(self) -> int:
        return sum(self.created_by_level.values())

    @property
    def areas_unchanged(self) -> int:
        return sum(self.unchanged_by_level.values())

    def add_problem(self, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_SHOWN:
            self.problems.append(message)


def parse_prefix(text: str) -> str:
    """The significant prefix asked for ("" for the whole country), or Nbs2023Error saying what is accepted."""
    value = text.strip()
    if value.lower() == WHOLE_COUNTRY:
        return ""
    if not re.fullmatch(r"[0-9]+", value) or len(value) not in PREFIX_DIGITS or value.startswith("00"):
        raise Nbs2023Error(
            _("区划前缀“%(prefix)s”格式不正确：应为2位（省）、4位（市）或6位（县/区）数字，或 all（全国）。")
            % {"prefix": text}
        )
    return value


def _batches(rows: Iterable[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    batch: list[tuple[str, str]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert_areas(rows: list[tuple[str, str, int, str | None]]) -> None:
    """(code, name, level, parent code) rows: COPY on PostgreSQL, bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Area._meta.db_table)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} (code, name, level, parent_id) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    else:
        Area.objects.bulk_create(
            [Area(code=code, name=name, level=level, parent_id=parent) for code, name, level, parent in rows],
            batch_size=2000,
        )


class _Loader:
    def __init__(self, prefix: str, source: Path, report: Nbs2023Report) -> None:
        self.prefix = prefix
        self.source = source
        self.report = report
        self.names: dict[str, str] = {}  # 12-digit code -> 2023 name, of the province/city/county levels only
        self.found_prefix = prefix == ""

    def load_levels(self) -> None:
        parents: set[str] = set()
        for level in LEVEL_FILES:
            parents = self.load_level(level, parents)

    def load_level(self, level: int, parents: set[str]) -> set[str]:
        """Check and write one level; returns the codes of this level in the load (the next level's parents)."""
        digits = codes.LEVEL_DIGITS[level]
        parent_digits = codes.LEVEL_DIGITS.get(level - 1, 0)
        seen: set[str] = set()
        created = unchanged = 0
        for batch in _batches(level_rows(self.source, level, prefix=self.prefix)):
            new: list[tuple[str, str, int, str | None]] = []
            stored = dict(
                Area.objects.filter(code__in=[c.ljust(12, "0") for c, _n in batch]).values_list("code", "name")
            )
            for short, name in batch:
                if not self.well_formed(level, short, name, digits):
                    continue
                code = short.ljust(12, "0")
                if short == self.prefix:
                    self.found_prefix = True
                parent = short[:parent_digits].ljust(12, "0") if parent_digits else None
                if code in seen:
                    self.report.add_problem(_("区划代码%(code)s在文件中重复。") % {"code": code})
                    continue
                seen.add(code)
                if code == parent:  # a zero segment: the row stands for its parent, whose code it pads to
                    self.report.same_as_parent.append((short, name))
                    continue
                if parent is not None and parent not in parents:
                    self.report.add_problem(
                        _("区划%(code)s（%(name)s）的上级区划%(parent)s不在文件中。")
                        % {"code": code, "name": name, "parent": parent}
                    )
                    continue
                if level <= codes.COUNTY:
                    self.names[code] = name
                existing = stored.get(code)
                if existing is None:
                    new.append((code, name, level, parent))
                elif existing != name:
                    self.report.add_problem(
                        _("区划代码%(code)s已用于“%(existing)s”，不能用于“%(name)s”：区划代码不得重复使用。")
                        % {"code": code, "existing": existing, "name": name}
                    )
                else:
                    unchanged += 1
            if not self.report.problem_count:
                _insert_areas(new)
            created += len(new)
        self.report.created_by_level[level] = created
        self.report.unchanged_by_level[level] = unchanged
        return seen

    def well_formed(self, level: int, short: str, name: str, digits: int) -> bool:
        if len(short) != digits or not short.isdigit() or not codes.is_valid_code(short.ljust(12, "0")):
            self.report.add_problem(
                _("%(file)s中的区划代码“%(code)s”格式不正确：应为%(digits)d位数字。")
                % {"file": LEVEL_FILES[level], "code": short, "digits": digits}
            )
            return False
        if not name or len(name) > NAME_MAX_LENGTH:
            self.report.add_problem(_("区划%(code)s的名称为空或过长。") % {"code": short})
            return False
        return True

    def load_census(self, census: Path) -> None:
        """The 2020 figure of every area within the prefix that the census names; existing figures are kept."""
        figures: dict[str, int] = {}
        for short, name, population in census_rows(census):
            if not short.startswith(self.prefix):
                continue
            code = short.ljust(12, "0")
            if code not in self.names:
                self.report.census_skipped.append(SkippedCensusRow(short, name, population))
                continue
            if codes.level_of(code) == codes.COUNTY and name != self.names[code]:
                self.report.census_renamed.append((code, name, self.names[code]))
            figures[code] = population
        stored = set(
            AreaPopulation.objects.filter(area_id__in=list(figures), year=CENSUS_YEAR).values_list("area_id", flat=True)
        )
        new = [
            AreaPopulation(area_id=code, year=CENSUS_YEAR, population=population)
            for code, population in figures.items()
            if code not in stored
        ]
        AreaPopulation.objects.bulk_create(new, batch_size=2000)
        self.report.populations_created = len(new)
        self.report.populations_kept = len(stored)
        with_figure = stored | set(figures)
        self.report.counties_without_population = [
            (code, name)
            for code, name in sorted(self.names.items())
            if codes.level_of(code) == codes.COUNTY and code.startswith(self.prefix) and code not in with_figure
        ]


def load_nbs2023(
    prefix: str, *, source: Path | None = None, census: Path | None = None, dry_run: bool = False
) -> Nbs2023Report:
    """Load the areas of *prefix* (``"34"``, ``"3402"``, ``"340202"`` or ``"all"``) and their 2020 census figures.

    *source* is a folder of division files (the npm package's ``dist/``); by default the bundled extract.
    *census* is the census table; by default the bundled one. Raises Nbs2023Error for a malformed or unknown
    prefix or a missing source; a file whose rows conflict with the database returns a report listing the
    problems, with nothing written (nor when *dry_run*).
    """
    started = time.monotonic()
    wanted = parse_prefix(prefix)
    directory = source or EXTRACT_DIR
    census_file = census or CENSUS_FILE
    missing = [str(p) for p in (census_file, *(directory / f"{s}.csv" for s in LEVEL_FILES.values())) if not _exists(p)]
    if missing:
        raise Nbs2023Error(_("找不到区划数据文件：%(files)s。") % {"files": "、".join(missing)})
    report = Nbs2023Report(prefix=wanted, dry_run=dry_run)
    loader = _Loader(wanted, directory, report)
    try:
        with transaction.atomic():
            loader.load_levels()
            if not loader.found_prefix:
                raise Nbs2023Error(_("2023年统计用区划代码中没有区划“%(prefix)s”。") % {"prefix": wanted})
            if report.ok:
                loader.load_census(census_file)
            if dry_run or not report.ok:
                transaction.set_rollback(True)
    except IntegrityError as exc:  # another load wrote the same rows since they were checked
        raise Nbs2023Error(_("导入期间数据库中的行政区划被他人修改，请重新运行。")) from exc
    report.seconds = time.monotonic() - started
    return report


def _exists(path: Path) -> bool:
    return path.exists() or path.with_name(path.name + ".gz").exists()
