"""Loading the jurisdiction tree and yearly populations from a workbook (exchange.md §1, sheets ``areas`` and
``population``), for ``manage.py load_areas``.

Whole or nothing: every row of both sheets is checked first and every problem is reported with its sheet, row
and column; only a file without problems is written, in one transaction, parents before children. Codes are
never reused for another place (domain.md §3), so a code already in the database under a different name is an
error, while the same code with the same name is simply unchanged — loading a file twice changes nothing.
A population figure for an (area, year) already present is replaced when it differs: statistics get revised.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.areas import codes
from casemgmt.areas.models import Area, AreaLevel, AreaPopulation
from casemgmt.tabular import (
    Cell,
    CellError,
    Problem,
    Row,
    Sheet,
    SheetSpec,
    TabularError,
    as_int,
    as_text,
    open_source,
)

AREAS = SheetSpec(
    name="areas",
    columns={"code": ("区划代码",), "name": ("名称",), "level": ("级别",)},
    required=frozenset({"code", "name", "level"}),
)
POPULATION = SheetSpec(
    name="population",
    columns={"area_code": ("区划代码",), "year": ("年份",), "population": ("常住人口",)},
    required=frozenset({"area_code", "year", "population"}),
)
SHEET_ORDER = {AREAS.name: 0, POPULATION.name: 1}
MIN_YEAR = 1990  # the earliest population year worth loading (no electronic registry predates it)
MAX_POPULATION = 2_000_000_000  # above any area on earth; guards the 32-bit column
NAME_MAX_LENGTH = Area._meta.get_field("name").max_length or 100
DB_CHUNK = 5000  # codes per ``IN (...)`` lookup


class AreaLoadError(Exception):
    """The file cannot be read at all (missing, unknown type, corrupt); the message is for the operator."""


@dataclass(frozen=True)
class AreaRow:
    row: int
    code: str
    name: str
    level: int


@dataclass(frozen=True)
class PopulationRow:
    row: int
    code: str
    year: int
    population: int


@dataclass
class LoadReport:
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    areas_created: int = 0
    areas_unchanged: int = 0
    populations_created: int = 0
    populations_updated: int = 0
    populations_unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Plan:
    new_areas: list[AreaRow] = field(default_factory=list)
    new_populations: list[PopulationRow] = field(default_factory=list)
    changed_populations: list[AreaPopulation] = field(default_factory=list)


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), DB_CHUNK):
        yield items[start : start + DB_CHUNK]


def _names_in_database(wanted: Iterable[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(set(wanted))):
        found.update(Area.objects.filter(code__in=chunk).values_list("code", "name"))
    return found


def _level_label(level: int) -> str:
    return f"{level}（{AreaLevel(level).label}）"


class SheetRowReader:
    """Reads and checks the rows of one sheet, collecting problems instead of stopping at the first (the area
    sheets here, the change list in ``casemgmt.areas.changes``)."""

    def __init__(self, sheet: Sheet, problems: list[Problem]) -> None:
        self.sheet = sheet
        self.problems = problems

    def add(self, row: int | None, key: str | None, message: str) -> None:
        self.problems.append(self.sheet.problem(row, key, message))

    def rows(self) -> Iterator[Row]:
        try:
            yield from self.sheet
        except TabularError as exc:  # e.g. a CSV that is not UTF-8, found part-way through
            self.add(None, None, str(exc))

    def text(self, row: int, key: str, cell: Cell) -> str | None:
        try:
            return as_text(cell)
        except CellError as exc:
            self.add(row, key, str(exc))
            return None

    def code(self, row: int, key: str, cell: Cell, *, required: bool = True) -> str | None:
        text = self.text(row, key, cell)
        if text is None and cell is not None:
            return None  # not text at all: reported already
        if text is None:
            if required:
                self.add(row, key, _("区划代码不能为空。"))
            return None
        if not codes.is_valid_code(text):
            self.add(row, key, _("区划代码“%(code)s”格式不正确：应为12位数字。") % {"code": text[:20]})
            return None
        return text

    def integer(self, row: int, key: str, cell: Cell) -> int | None:
        try:
            value = as_int(cell)
        except CellError as exc:
            self.add(row, key, str(exc))
            return None
        if value is None:
            self.add(row, key, _("不能为空。"))
        return value


def read_areas(sheet: Sheet, problems: list[Problem]) -> tuple[dict[str, AreaRow], set[str]]:
    """Valid rows by code, and every well-formed code the sheet names (so later checks do not pile up)."""
    reader = SheetRowReader(sheet, problems)
    rows: dict[str, AreaRow] = {}
    first_row: dict[str, int] = {}
    for number, cells in reader.rows():
        code = reader.code(number, "code", cells["code"])
        name = reader.text(number, "name", cells["name"])
        level = reader.integer(number, "level", cells["level"])
        if name is None:
            if cells["name"] is None:
                reader.add(number, "name", _("名称不能为空。"))
        elif len(name) > NAME_MAX_LENGTH:
            reader.add(number, "name", _("名称过长：最多%(max)d个字。") % {"max": NAME_MAX_LENGTH})
            name = None
        if level is not None and level not in AreaLevel.values:
            reader.add(number, "level", _("级别应为1至5（1省，2市，3县/区，4乡镇/街道，5村/社区）。"))
            level = None
        if code is None:
            continue
        if code in first_row:
            reader.add(
                number, "code", _("区划代码%(code)s重复：第%(row)d行已有。") % {"code": code, "row": first_row[code]}
            )
            continue
        first_row[code] = number
        if level is not None and level != codes.level_of(code):
            reader.add(
                number,
                "level",
                _("级别为%(given)s，但区划代码%(code)s表示%(actual)s。")
                % {"given": _level_label(level), "code": code, "actual": _level_label(codes.level_of(code))},
            )
            continue
        if name and level is not None:
            rows[code] = AreaRow(number, code, name, level)
    return rows, set(first_row)


def read_populations(sheet: Sheet, problems: list[Problem], *, today: dt.date) -> list[PopulationRow]:
    reader = SheetRowReader(sheet, problems)
    rows: list[PopulationRow] = []
    first_row: dict[tuple[str, int], int] = {}
    for number, cells in reader.rows():
        code = reader.code(number, "area_code", cells["area_code"])
        year = reader.integer(number, "year", cells["year"])
        population = reader.integer(number, "population", cells["population"])
        if year is not None and not MIN_YEAR <= year <= today.year:
            reader.add(number, "year", _("年份应在%(min)d至%(max)d之间。") % {"min": MIN_YEAR, "max": today.year})
            year = None
        if population is not None and population < 0:
            reader.add(number, "population", _("常住人口不能为负数。"))
            population = None
        elif population is not None and population > MAX_POPULATION:
            reader.add(number, "population", _("常住人口数值过大。"))
            population = None
        if code is None or year is None:
            continue
        key = (code, year)
        if key in first_row:
            reader.add(
                number,
                "year",
                _("%(code)s的%(year)d年人口重复：第%(row)d行已有。")
                % {"code": code, "year": year, "row": first_row[key]},
            )
            continue
        first_row[key] = number
        if population is not None:
            rows.append(PopulationRow(number, code, year, population))
    return rows


def check_areas(
    sheet: Sheet, rows: dict[str, AreaRow], file_codes: set[str], problems: list[Problem], plan: _Plan
) -> int:
    """Names against the database, and every parent present; returns how many rows are already loaded."""
    parents = {p for p in (codes.parent_code(c) for c in file_codes) if p is not None and p not in file_codes}
    in_db = _names_in_database([*rows, *parents])
    unchanged = 0
    for area in rows.values():
        parent = codes.parent_code(area.code)
        if parent is not None and parent not in file_codes and parent not in in_db:
            problems.append(
                sheet.problem(
                    area.row, "code", _("上级区划%(parent)s既不在文件中，也不在数据库中。") % {"parent": parent}
                )
            )
        existing = in_db.get(area.code)
        if existing is None:
            plan.new_areas.append(area)
        elif existing != area.name:
            problems.append(
                sheet.problem(
                    area.row,
                    "name",
                    _("区划代码%(code)s已用于“%(existing)s”，不能用于“%(name)s”：区划代码不得重复使用。")
                    % {"code": area.code, "existing": existing, "name": area.name},
                )
            )
        else:
            unchanged += 1
    return unchanged


def check_populations(
    sheet: Sheet, rows: list[PopulationRow], file_codes: set[str] | None, problems: list[Problem], plan: _Plan
) -> int:
    """Every area known; figures compared with the database. Returns how many are already loaded as given.

    *file_codes* is None when the areas sheet could not be read: then unknown codes are not reported, since
    they may well be in that sheet (its own problems are reported instead).
    """
    known = file_codes or set()
    in_db = _names_in_database(r.code for r in rows if r.code not in known)
    existing: dict[tuple[str, int], AreaPopulation] = {}
    for chunk in _chunks(sorted({r.code for r in rows})):
        for stored in AreaPopulation.objects.filter(area_id__in=chunk, year__in={r.year for r in rows}):
            existing[(stored.area_id, stored.year)] = stored
    unchanged = 0
    for row in rows:
        if file_codes is not None and row.code not in known and row.code not in in_db:
            problems.append(
                sheet.problem(
                    row.row, "area_code", _("区划代码%(code)s既不在文件中，也不在数据库中。") % {"code": row.code}
                )
            )
            continue
        figure = existing.get((row.code, row.year))
        if figure is None:
            plan.new_populations.append(row)
        elif figure.population != row.population:
            figure.population = row.population
            plan.changed_populations.append(figure)
        else:
            unchanged += 1
    return unchanged


def write(plan: _Plan) -> None:
    """Parents before children: one insert per level, from province down."""
    for level in AreaLevel.values:
        Area.objects.bulk_create(
            [
                Area(code=a.code, name=a.name, level=a.level, parent_id=codes.parent_code(a.code))
                for a in plan.new_areas
                if a.level == level
            ],
            batch_size=2000,
        )
    AreaPopulation.objects.bulk_create(
        [AreaPopulation(area_id=p.code, year=p.year, population=p.population) for p in plan.new_populations],
        batch_size=2000,
    )
    AreaPopulation.objects.bulk_update(plan.changed_populations, ["population"], batch_size=2000)


def load_areas(path: str | Path, *, dry_run: bool = False, today: dt.date | None = None) -> LoadReport:
    """Check the whole file, then write it all (unless *dry_run* or a problem was found) in one transaction."""
    today = today or timezone.localdate()
    report = LoadReport(dry_run=dry_run)
    plan = _Plan()
    try:
        source = open_source(path)
    except TabularError as exc:
        raise AreaLoadError(str(exc)) from exc
    with source, transaction.atomic():
        areas_sheet = source.sheet(AREAS)
        population_sheet = source.sheet(POPULATION)
        if areas_sheet is None and population_sheet is None:
            raise AreaLoadError(_("文件中没有“areas”或“population”工作表。"))
        file_codes: set[str] | None = set()
        if areas_sheet is not None:
            report.problems += areas_sheet.header_problems
            if areas_sheet.header_problems:
                file_codes = None
            else:
                rows, file_codes = read_areas(areas_sheet, report.problems)
                report.areas_unchanged = check_areas(areas_sheet, rows, file_codes, report.problems, plan)
        if population_sheet is not None:
            report.problems += population_sheet.header_problems
            if not population_sheet.header_problems:
                figures = read_populations(population_sheet, report.problems, today=today)
                report.populations_unchanged = check_populations(
                    population_sheet, figures, file_codes, report.problems, plan
                )
        report.problems.sort(key=lambda p: (SHEET_ORDER.get(p.sheet, 9), p.row or 0))
        if report.problems:
            return report
        report.areas_created = len(plan.new_areas)
        report.populations_created = len(plan.new_populations)
        report.populations_updated = len(plan.changed_populations)
        if not dry_run:
            try:
                write(plan)
            except IntegrityError as exc:  # another load wrote the same rows since they were checked
                raise AreaLoadError(_("导入期间数据库中的行政区划被他人修改，请重新运行。")) from exc
    return report
