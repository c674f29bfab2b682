"""Sheets: which columns a sheet may have (``SheetSpec``), its header read against them, its rows streamed as
``(row_number, {key: cell})``; and ``TabularSource``, what every kind of file offers (sheet names, hidden sheets,
merged ranges, raw rows).

Sheets are found case-insensitively, spaces around a name ignored. A hidden sheet that bears a name the reader is
asked for is refused rather than read or skipped: its rows are invisible to whoever checked the file, and skipping
it would silently drop them; the user unhides (and checks) or deletes it. Hidden sheets with other names (lists
behind drop-downs) are nobody's business. Merged cells are refused: only the first cell of a merged range holds
the value, so the rows or columns it spans would silently read as empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from .cells import BadCell, Cell, clean, number_for_text_message
from .limits import Limits
from .problems import Problem, TabularError

Row = tuple[int, dict[str, Cell]]
NumberedRows = Iterator[tuple[int, Sequence[object]]]  # raw rows with their 1-based row numbers
Merged = tuple[int, int, int, int]  # first row, first column, last row, last column (1-based)
MERGES_REPORTED = 100


@dataclass(frozen=True)
class SheetSpec:
    """The columns a sheet may have: each key with its accepted aliases (usually the Chinese label).

    ``text_only``: columns whose values must have been typed as text (an 18-digit ID number cannot survive as an
    Excel number): a number there is a problem of the cell that says to format the column as text.
    """

    name: str
    columns: Mapping[str, Sequence[str]]
    required: frozenset[str] = frozenset()
    allow_unknown: bool = False  # extra columns are reported unless the sheet allows them
    text_only: frozenset[str] = frozenset()

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
    _max_chars: int = 4000
    _max_rows: int = 10_000_000

    def label(self, key: str) -> str:
        """How the file names this column (for messages); the key when the file lacks the column."""
        return self.labels.get(key, key)

    def problem(self, row: int | None, key: str | None, message: str) -> Problem:
        return Problem(self.spec.name, row, self.label(key) if key else None, message)

    def __iter__(self) -> Iterator[Row]:
        # Every key of the spec, in its order, with the column it is read from (None: the file lacks it).
        columns = [(key, self._positions.get(key), key in self.spec.text_only) for key in self.spec.columns]
        max_chars = self._max_chars
        for number, values in self._rows:
            if number > self._max_rows:
                message = _("工作表“%(sheet)s”超过%(max)d行（空行也计算在内）：请删除空行或拆分后再导入。")
                raise TabularError(message % {"sheet": self.spec.name, "max": self._max_rows})
            cells: dict[str, Cell] = {}
            blank, width = True, len(values)
            for key, pos, text_only in columns:
                raw = values[pos] if pos is not None and pos < width else None
                # An empty CSV cell is "" (most cells of most sheets): clean() would make it None too.
                cell = None if raw is None or raw == "" else clean(raw, max_chars=max_chars)
                if text_only and isinstance(cell, int | float) and not isinstance(cell, bool):
                    cell = BadCell(number_for_text_message())
                cells[key] = cell
                blank = blank and cell is None
            if blank:
                continue  # blank rows (Excel keeps formatted empty rows) are not data
            yield number, cells


def _read_header(
    spec: SheetSpec, rows: NumberedRows, max_chars: int
) -> tuple[dict[str, int], list[Problem], dict[str, str]]:
    positions: dict[str, int] = {}
    labels: dict[str, str] = {}
    problems: list[Problem] = []
    first = next(rows, None)
    header = first[1] if first else ()
    if first is not None and all(clean(raw, max_chars=max_chars) is None for raw in header):
        first = None  # a blank first row: nothing here names a column
    for pos, raw in enumerate(header):
        text = clean(raw, max_chars=max_chars)
        if text is None:
            continue  # unnamed (usually empty trailing) columns are ignored
        if isinstance(text, BadCell):
            problems.append(Problem(spec.name, 1, get_column_letter(pos + 1), text.message))
            continue
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


def _merge_problems(
    spec: SheetSpec, merged: Iterable[Merged], labels: dict[str, str], positions: dict[str, int]
) -> list[Problem]:
    by_position = {pos: labels[key] for key, pos in positions.items()}
    problems = []
    for first_row, first_col, last_row, last_col in sorted(merged)[:MERGES_REPORTED]:
        cells = f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{last_row}"
        column = by_position.get(first_col - 1, get_column_letter(first_col))
        message = _("合并单元格（%(cells)s）：请取消合并，在每个单元格中都填写内容后再导入。") % {"cells": cells}
        problems.append(Problem(spec.name, first_row, column, message))
    return problems


class TabularSource:
    """An opened workbook, CSV folder or zip. Use as a context manager. ``label`` is the file's name as the user
    knows it (an upload is stored under another name), used in every message."""

    def __init__(self, label: str, limits: Limits | None = None) -> None:
        self.label = label
        self.limits = limits or Limits.current()

    def sheet_names(self) -> list[str]:
        """The sheets the file shows (hidden ones left out)."""
        raise NotImplementedError

    def hidden_sheet_names(self) -> list[str]:
        return []

    def _raw_rows(self, name: str) -> Iterator[Sequence[object]]:
        raise NotImplementedError

    def _merged(self, name: str) -> list[Merged]:
        """The merged ranges of a sheet (kinds without merged cells have none)."""
        return []

    def close(self) -> None:
        """Release the underlying file (subclasses holding one override this)."""

    def __enter__(self) -> TabularSource:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @staticmethod
    def _match(names: Iterable[str], name: str) -> str | None:
        wanted = name.strip().casefold()
        return next((n for n in names if n.strip().casefold() == wanted), None)

    def find(self, name: str) -> str | None:
        return self._match(self.sheet_names(), name)

    def has_sheet(self, name: str) -> bool:
        return self.find(name) is not None or self._match(self.hidden_sheet_names(), name) is not None

    def is_blank(self, name: str) -> bool:
        """Does the named sheet hold no text at all, not even a header row? (Stops at the first filled cell.) A
        hidden sheet counts too: one with something in it is not blank, and is refused for being hidden."""
        actual = self.find(name) or self._match(self.hidden_sheet_names(), name)
        if actual is None:
            return True
        max_chars = self.limits.cell_chars
        try:
            return all(clean(value, max_chars=max_chars) is None for row in self._raw_rows(actual) for value in row)
        except TabularError:
            return False  # unreadable is not blank: the sheet's own reading reports it

    def unknown_sheets(self, specs: Iterable[SheetSpec], *, also: Iterable[str] = ()) -> list[Problem]:
        """A problem for each shown sheet that is none of *specs* (nor named in *also*): a sheet named 随访 or
        followup instead of followups would otherwise be silently ignored."""
        expected = [spec.name for spec in specs]
        known = {name.casefold() for name in [*expected, *also]}
        message = _("无法识别的工作表：工作表名应为 %(names)s 之一（请改名，或删除该工作表）。")
        return [
            Problem(name, None, None, message % {"names": "、".join(expected)})
            for name in self.sheet_names()
            if name.strip().casefold() not in known
        ]

    def sheet(self, spec: SheetSpec) -> Sheet | None:
        """The named sheet, header read; None when the source has no such sheet."""
        actual = self.find(spec.name)
        if actual is None:
            hidden = self._match(self.hidden_sheet_names(), spec.name)
            if hidden is None:
                return None
            message = _("这是隐藏的工作表，其中的内容看不见：请在Excel中取消隐藏并核对后再导入，或删除该工作表。")
            return Sheet(spec, [Problem(spec.name, None, None, message)], {}, {}, iter(()))
        max_chars = self.limits.cell_chars
        try:
            merged = self._merged(actual)
            rows = enumerate(self._raw_rows(actual), start=1)
            positions, problems, labels = _read_header(spec, rows, max_chars)
        except TabularError as exc:  # e.g. a CSV in no known encoding: the sheet has no readable rows
            return Sheet(spec, [Problem(spec.name, None, None, str(exc))], {}, {}, iter(()))
        problems += _merge_problems(spec, merged, labels, positions)
        return Sheet(spec, problems, labels, positions, rows, max_chars, self.limits.rows)
