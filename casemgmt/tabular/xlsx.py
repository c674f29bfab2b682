""".xlsx workbooks (Excel, WPS, LibreOffice), rows streamed with openpyxl's read-only parser.

Before openpyxl parses anything, the archive is checked (``archives``): the parts it reads whole into memory —
shared strings, styles, the workbook — may not inflate beyond ``TABULAR_MAX_PART_BYTES`` (a 425 KB file whose
shared strings inflate to hundreds of megabytes is refused in a moment instead of taking gigabytes), and each
worksheet, streamed, not beyond ``TABULAR_MAX_INFLATED_BYTES``. That first pass over a worksheet also collects its
merged ranges, which the file lists after the rows.

Formula cells: the value Excel stored with the formula is read (what the user sees). A formula without a stored
value (files written by programs that never calculated them) is not read as empty: the cell is reported, saying
to save the values (see ``cells.formula_message``).
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
import zipfile
from collections.abc import Container, Generator, Iterator, Sequence
from pathlib import Path
from typing import IO, Protocol, cast

from django.utils.translation import gettext as _
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import DATA_TAG, FORMULA_TAG, ROW_TAG, WorkSheetParser
from openpyxl.xml.functions import iterparse

from .archives import GuardedZip
from .cells import FORMULA_WITHOUT_RESULT
from .limits import Limits
from .problems import TabularError
from .sheets import Merged, TabularSource

MERGE_CELL = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Za-z]+[0-9]+:[A-Za-z]+[0-9]+)\"")
WORKSHEETS = re.compile(r"^xl/worksheets/[^/]+\.xml$")


def broken_workbook(label: str) -> TabularError:
    message = _("无法打开Excel文件“%(name)s”：文件可能已损坏，请在Excel中打开并另存为.xlsx后再试。")
    return TabularError(message % {"name": label})


class _Element(Protocol):
    """A parsed XML element, as much of it as ``parse_cell`` looks at."""

    def find(self, path: str, /) -> object: ...


class _BookInternals(Protocol):
    """The private parts of openpyxl's workbook that its own reader uses (not in its type stubs)."""

    epoch: dt.datetime
    _sheets: list[object]
    _date_formats: Container[int]
    _timedelta_formats: Container[int]


class _SheetInternals(Protocol):
    """The private parts of openpyxl's read-only worksheet that its own reader uses."""

    _worksheet_path: str
    _shared_strings: Sequence[str]


class _Parser(WorkSheetParser):
    """openpyxl's streaming parser, telling a formula without a stored value from an empty cell, and letting go of
    each row once read (openpyxl's own loop keeps every cleared row element under the sheet's data: 10 million
    empty ``<row/>`` tags, 100 KB of file, would hold 600 MB)."""

    def parse(self) -> Generator[tuple[int, list[tuple[int, object]]], None, None]:
        """(row number, [(column number, value), ...]) for each row that the file holds."""
        data = None
        for event, element in iterparse(self.source, events=("start", "end")):
            if event == "start":
                if element.tag == DATA_TAG:
                    data = element
                continue
            if element.tag == ROW_TAG:
                index, cells = self.parse_row(element)
                yield index, [(cell["column"], cell["value"]) for cell in cells]
                element.clear()
                if data is not None:
                    del data[:]

    def parse_cell(self, element: _Element) -> dict[str, object]:
        cell: dict[str, object] = super().parse_cell(element)
        if cell["value"] is None and element.find(FORMULA_TAG) is not None:
            cell["value"] = FORMULA_WITHOUT_RESULT
        return cell


class _Worksheet(ReadOnlyWorksheet):
    """A read-only worksheet that does not measure itself when the file is opened: openpyxl reads a sheet without
    a ``<dimension>`` tag whole for that (openpyxl's own write-only mode writes none), keeping an element per row.
    The reader streams the rows itself and needs no size."""

    def _get_size(self) -> None:
        return None


class _Reader(ExcelReader):
    """openpyxl's reader in read-only mode, with worksheets that do not measure themselves; chart sheets, which
    hold no cells, are left out."""

    def read_worksheets(self) -> None:
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                continue
            worksheet = _Worksheet(self.wb, sheet.name, rel.target, self.shared_strings)
            worksheet.sheet_state = sheet.state or "visible"
            book = cast("_BookInternals", self.wb)
            book._sheets.append(worksheet)  # as openpyxl's own read_worksheets does


class XlsxSource(TabularSource):
    def __init__(self, archive: GuardedZip, path: Path, limits: Limits | None = None) -> None:
        super().__init__(archive.label, limits)
        self._zip = archive
        parsed = (m for m in archive.members if m.filename.endswith((".xml", ".rels")))
        whole = [m for m in parsed if not WORKSHEETS.match(m.filename)]
        try:
            archive.check_parts(whole, self.limits.part_bytes)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about extensions and styles it does not read
                reader = _Reader(path, read_only=True, data_only=True)
                reader.read()
                self._book = reader.wb
        except TabularError:
            archive.close()
            raise
        except Exception as exc:  # openpyxl raises many types for a damaged file
            archive.close()
            raise broken_workbook(self.label) from exc
        states = {ws.title: ws.sheet_state for ws in self._book.worksheets}
        self._shown = [name for name, state in states.items() if state == "visible"]
        self._hidden = [name for name, state in states.items() if state != "visible"]

    def sheet_names(self) -> list[str]:
        return list(self._shown)

    def hidden_sheet_names(self) -> list[str]:
        return list(self._hidden)

    def _worksheet(self, name: str) -> _SheetInternals:
        """openpyxl's read-only worksheet (its private path and shared strings are what its own reader uses)."""
        return cast("_SheetInternals", self._book[name])

    def _member(self, name: str) -> zipfile.ZipInfo:
        info = self._zip.info(self._worksheet(name)._worksheet_path)
        if info is None:
            raise broken_workbook(self.label)
        return info

    def _merged(self, name: str) -> list[Merged]:
        found = self._zip.inflate_all(self._member(name), scan=MERGE_CELL)
        merged = []
        for ref in found:
            first_col, first_row, last_col, last_row = range_boundaries(ref.decode("ascii"))
            if first_col and first_row and last_col and last_row:
                merged.append((first_row, first_col, last_row, last_col))
        return merged

    def _raw_rows(self, name: str) -> Iterator[Sequence[object]]:
        book = cast("_BookInternals", self._book)
        worksheet = self._worksheet(name)
        source = self._zip.open(self._member(name))
        parser = _Parser(
            source,
            worksheet._shared_strings,
            data_only=True,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        return self._rows(parser, source)

    def _rows(self, parser: _Parser, source: IO[bytes]) -> Iterator[Sequence[object]]:
        expected = 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a date serial out of range: openpyxl warns and gives "#VALUE!"
                for index, cells in parser.parse():
                    while expected < index:  # rows the file leaves out are empty
                        yield ()
                        expected += 1
                    width = max((column for column, _value in cells), default=0)
                    row: list[object] = [None] * width
                    for column, value in cells:
                        row[column - 1] = value
                    yield row
                    expected = index + 1
        except TabularError:
            raise
        except Exception as exc:  # a damaged sheet: bad XML, a shared string that does not exist
            raise broken_workbook(self.label) from exc
        finally:
            source.close()

    def close(self) -> None:
        self._book.close()
        self._zip.close()
