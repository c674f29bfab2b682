"""A streaming reader of tabular sheets: an .xlsx workbook, a folder of CSV files, or a .zip of CSV files.

Used by the area loader and the registry-workbook import (exchange.md §1). Every sheet's first row holds the
column keys, in English or as a Chinese label alias; the reader maps them to keys and yields each later row
as ``(row_number, {key: cell})``, one row at a time — a workbook of 100,000 patients is never held in memory
(openpyxl in read-only mode; CSV through the csv module over a text stream).

Cells are what the source holds: from Excel ``str``, ``int``, ``float``, ``datetime`` or ``None``; from CSV
``str`` or ``None``. Empty strings become ``None`` (an empty cell means unknown). The ``as_*`` helpers turn a
cell into a typed value or raise :class:`CellError` with a plain Chinese message.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, TypeVar, cast

from django.utils.translation import gettext as _

Cell = str | int | float | dt.date | dt.datetime | None
Row = tuple[int, dict[str, Cell]]
NumberedRows = Iterator[tuple[int, Sequence[object]]]  # raw rows with their 1-based row numbers
FileT = TypeVar("FileT")

CSV_ENCODING = "utf-8-sig"  # UTF-8, with or without a byte-order mark (Excel writes one)
ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]00:00(?::00)?)?$")  # a date, or midnight of it
INTEGER = re.compile(r"^[+-]?\d+$")
EXCEL_EXACT_LIMIT = 10**15  # numbers from 16 digits up are stored by Excel with their last digits lost


class TabularError(Exception):
    """The source as a whole cannot be read (missing, unknown type, corrupt, not UTF-8)."""


class CellError(ValueError):
    """A cell cannot be read as the value its column needs; the message is for the user."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong, located as precisely as known. ``row`` and ``column`` are None for a whole sheet."""

    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = {"sheet": self.sheet, "row": self.row, "column": self.column}
        if self.row is not None and self.column is not None:
            prefix = _("工作表“%(sheet)s”第%(row)d行“%(column)s”列") % where
        elif self.row is not None:
            prefix = _("工作表“%(sheet)s”第%(row)d行") % where
        elif self.column is not None:
            prefix = _("工作表“%(sheet)s”“%(column)s”列") % where
        else:
            prefix = _("工作表“%(sheet)s”") % where
        return f"{prefix}：{self.message}"


@dataclass(frozen=True)
class SheetSpec:
    """The columns a sheet may have: each key with its accepted aliases (usually the Chinese label)."""

    name: str
    columns: Mapping[str, Sequence[str]]
    required: frozenset[str] = frozenset()
    allow_unknown: bool = False  # extra columns are reported unless the sheet allows them

    def key_for(self, header: str) -> str | None:
        wanted = header.strip()
        for key, aliases in self.columns.items():
            if wanted.casefold() == key.casefold() or wanted in aliases:
                return key
        return None


@dataclass
class Sheet:
    """One sheet being read: header problems are known at once, rows stream on iteration."""

    spec: SheetSpec
    header_problems: list[Problem]
    labels: dict[str, str]  # key -> the header text the file used for it
    _positions: dict[str, int]
    _rows: NumberedRows = field(repr=False)

    def label(self, key: str) -> str:
        """How the file names this column (for messages); the key when the file lacks the column."""
        return self.labels.get(key, key)

    def problem(self, row: int | None, key: str | None, message: str) -> Problem:
        return Problem(self.spec.name, row, self.label(key) if key else None, message)

    def __iter__(self) -> Iterator[Row]:
        keys = list(self.spec.columns)
        for number, values in self._rows:
            cells = {key: _clean(values[pos]) if pos < len(values) else None for key, pos in self._positions.items()}
            if all(cell is None for cell in cells.values()):
                continue  # blank rows (Excel keeps formatted empty rows) are not data
            yield number, {key: cells.get(key) for key in keys}


def _clean(value: object) -> Cell:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return cast(Cell, value)  # a workbook or CSV cell holds nothing else


def _read_header(spec: SheetSpec, rows: NumberedRows) -> tuple[dict[str, int], list[Problem], dict[str, str]]:
    positions: dict[str, int] = {}
    labels: dict[str, str] = {}
    problems: list[Problem] = []
    first = next(rows, None)
    header = first[1] if first else ()
    for pos, raw in enumerate(header):
        text = _clean(raw)
        if text is None:
            continue  # unnamed (usually empty trailing) columns are ignored
        text = str(text)
        key = spec.key_for(text)
        if key is None:
            if not spec.allow_unknown:
                problems.append(Problem(spec.name, 1, text, _("未知的列，请核对列名。")))
        elif key in positions:
            problems.append(Problem(spec.name, 1, text, _("与“%(other)s”列重复。") % {"other": labels[key]}))
        else:
            positions[key] = pos
            labels[key] = text
    if first is None:
        problems.append(Problem(spec.name, None, None, _("工作表是空的，第一行应为列名。")))
    for key in spec.columns:
        if key in spec.required and key not in positions and first is not None:
            aliases = "、".join(spec.columns[key])
            label = f"{key}（{aliases}）" if aliases else key
            problems.append(Problem(spec.name, 1, label, _("缺少必需的列。")))
    return positions, problems, labels


class TabularSource:
    """An opened workbook, CSV folder or zip. Use as a context manager; sheets are found case-insensitively."""

    def sheet_names(self) -> list[str]:
        raise NotImplementedError

    def _raw_rows(self, name: str) -> Iterator[Sequence[object]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the underlying file (subclasses holding one override this)."""

    def __enter__(self) -> TabularSource:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def find(self, name: str) -> str | None:
        wanted = name.strip().casefold()
        return next((n for n in self.sheet_names() if n.strip().casefold() == wanted), None)

    def has_sheet(self, name: str) -> bool:
        return self.find(name) is not None

    def is_blank(self, name: str) -> bool:
        """Does the named sheet hold no text at all, not even a header row? (Stops at the first filled cell.)"""
        actual = self.find(name)
        if actual is None:
            return True
        try:
            return all(_clean(value) is None for row in self._raw_rows(actual) for value in row)
        except TabularError:
            return False  # unreadable is not blank: the sheet's own reading reports it

    def sheet(self, spec: SheetSpec) -> Sheet | None:
        """The named sheet, header read; None when the source has no such sheet."""
        actual = self.find(spec.name)
        if actual is None:
            return None
        rows = enumerate(self._raw_rows(actual), start=1)
        try:
            positions, problems, labels = _read_header(spec, rows)
        except TabularError as exc:  # e.g. a CSV that is not UTF-8: the sheet has no readable rows
            return Sheet(spec, [Problem(spec.name, None, None, str(exc))], {}, {}, iter(()))
        return Sheet(spec, problems, labels, positions, rows)


class XlsxSource(TabularSource):
    def __init__(self, path: Path) -> None:
        import openpyxl

        try:
            self._book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise TabularError(_("无法打开Excel文件，文件可能已损坏：%(name)s") % {"name": path.name}) from exc

    def sheet_names(self) -> list[str]:
        return list(self._book.sheetnames)

    def _raw_rows(self, name: str) -> Iterator[Sequence[object]]:
        worksheet = self._book[name]
        # In read-only mode openpyxl stops at the size the file's <dimension> tag claims; some exporters write
        # a wrong one (e.g. "A1"), which would silently drop rows and columns. Read what the sheet holds.
        worksheet.reset_dimensions()
        yield from worksheet.iter_rows(values_only=True)

    def close(self) -> None:
        self._book.close()


def _csv_rows(stream: IO[str], label: str) -> Iterator[Sequence[object]]:
    try:
        yield from csv.reader(stream)
    except UnicodeDecodeError as exc:
        raise TabularError(_("%(name)s 不是UTF-8编码，请另存为UTF-8格式的CSV。") % {"name": label}) from exc
    except csv.Error as exc:
        raise TabularError(_("%(name)s 不是有效的CSV文件。") % {"name": label}) from exc
    finally:
        stream.close()


def _by_sheet_name(files: Iterable[tuple[str, FileT]]) -> dict[str, FileT]:
    """Index CSV files, given as (path, handle), by sheet name: the file name without ``.csv``.

    Two files for one sheet (``areas.csv`` in two folders of a zip, or ``Areas.csv`` beside ``areas.csv``) are
    refused: reading either would be a guess, and the other's rows would be silently ignored.
    """
    found: dict[str, FileT] = {}
    paths: dict[str, str] = {}
    for path, handle in files:
        sheet = PurePosixPath(path.replace("\\", "/")).stem  # some Windows tools write backslashes in zips
        key = sheet.casefold()
        if key in paths:
            raise TabularError(
                _("有两个文件都对应工作表“%(sheet)s”：%(first)s 和 %(second)s，请只保留一个。")
                % {"sheet": sheet, "first": paths[key], "second": path}
            )
        paths[key] = path
        found[sheet] = handle
    return found


class CsvFolderSource(TabularSource):
    """A folder holding ``<sheet>.csv`` files (a single .csv file is a source with one sheet)."""

    def __init__(self, files: Sequence[Path]) -> None:
        self._files = _by_sheet_name((f.name, f) for f in sorted(files))

    def sheet_names(self) -> list[str]:
        return list(self._files)

    def _raw_rows(self, name: str) -> Iterator[Sequence[object]]:
        path = self._files[name]
        return _csv_rows(path.open(encoding=CSV_ENCODING, newline=""), path.name)


class ZipCsvSource(TabularSource):
    """A .zip of ``<sheet>.csv`` files, at its root or in one folder; members are streamed, not extracted."""

    def __init__(self, path: Path) -> None:
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise TabularError(_("无法打开压缩文件，文件可能已损坏：%(name)s") % {"name": path.name}) from exc
        members = [
            info
            for info in self._zip.infolist()
            if not info.is_dir() and info.filename.lower().endswith(".csv") and "__MACOSX" not in info.filename
        ]
        try:
            self._members = _by_sheet_name((m.filename, m) for m in members)
        except TabularError:
            self._zip.close()
            raise

    def sheet_names(self) -> list[str]:
        return list(self._members)

    def _raw_rows(self, name: str) -> Iterator[Sequence[object]]:
        info = self._members[name]
        stream = io.TextIOWrapper(self._zip.open(info), encoding=CSV_ENCODING, newline="")
        return _csv_rows(stream, info.filename)

    def close(self) -> None:
        self._zip.close()


def open_source(path: str | Path) -> TabularSource:
    """Open *path* by its kind: a folder of CSV files, an .xlsx workbook, a .zip of CSV files, or one .csv."""
    path = Path(path)
    if path.is_dir():
        return CsvFolderSource([p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".csv"])
    if not path.is_file():
        raise TabularError(_("找不到文件或文件夹：%(path)s") % {"path": path})
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return XlsxSource(path)
    if suffix == ".zip":
        return ZipCsvSource(path)
    if suffix == ".csv":
        return CsvFolderSource([path])
    raise TabularError(
        _("不支持的文件类型：%(name)s（请提供 .xlsx、.zip，或装有CSV文件的文件夹）") % {"name": path.name}
    )


# --- Cell conversion --------------------------------------------------------------------------------------


def _check_exact(number: float) -> None:
    """Excel keeps 15 significant digits: a longer number typed into a number cell (an 18-digit ID number
    is the usual victim) comes back with its last digits replaced by zeros. Refuse it rather than guess."""
    if abs(number) >= EXCEL_EXACT_LIMIT:
        raise CellError(_("数字超过15位，Excel已丢失末几位：请把该列设为文本格式后重新录入。"))


def as_text(cell: Cell) -> str | None:
    """Text as typed. Whole numbers lose Excel's ``.0`` (a code typed as a number reads back as digits)."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        raise CellError(_("应为文字，不是逻辑值。"))
    if isinstance(cell, float):
        _check_exact(cell)
        if cell.is_integer():
            return str(int(cell))
    if isinstance(cell, dt.datetime | dt.date):
        raise CellError(_("应为文字，不是日期。"))
    return str(cell).strip() or None


def as_int(cell: Cell) -> int | None:
    if cell is None:
        return None
    if isinstance(cell, bool | dt.date):
        raise CellError(_("应为整数。"))
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        _check_exact(cell)
        if cell.is_integer():
            return int(cell)
        raise CellError(_("应为整数，不能有小数：%(value)s") % {"value": cell})
    text = str(cell).strip()
    if INTEGER.match(text):
        return int(text)
    raise CellError(_("应为整数：%(value)s") % {"value": text})


def as_date(cell: Cell) -> dt.date | None:
    """A real Excel date, or an ISO ``YYYY-MM-DD`` string."""
    if cell is None:
        return None
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    text = str(cell).strip()
    match = ISO_DATE.match(text)
    if match:
        try:
            return dt.date.fromisoformat(match.group(1))
        except ValueError:
            pass
    raise CellError(_("应为日期（YYYY-MM-DD）：%(value)s") % {"value": text})
