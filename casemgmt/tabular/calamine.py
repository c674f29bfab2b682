""".xls (Excel 97–2003, BIFF8, what the national information system exports) and .ods (OpenDocument) workbooks,
read with python-calamine.

calamine reads every sheet whole into a dense grid when it opens a file (it has no streaming reader for these
formats), so the grids are measured first in a child process with capped memory (``probe``) and a sheet beyond
``TABULAR_MAX_GRID_CELLS`` is refused; an .ods's content is also checked against ``TABULAR_MAX_PART_BYTES``.
Formula cells in these formats always carry their calculated value, which is read. Merged
ranges are refused (calamine reports those of an .xls; an .ods's are found by ``ods_merged``), hidden sheets as in
``sheets``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import python_calamine
from django.utils.translation import gettext as _

from . import probe
from .archives import GuardedZip
from .limits import Limits
from .problems import TabularError
from .sheets import Merged, TabularSource


def _failure(label: str, exc: BaseException) -> TabularError:
    if isinstance(exc, python_calamine.PasswordError):
        return TabularError(_("文件“%(name)s”设置了密码：请取消密码保护后再导入。") % {"name": label})
    message = _("无法打开工作簿“%(name)s”：文件可能已损坏，请在Excel中打开并另存为.xlsx后再试。")
    return TabularError(message % {"name": label})


def _is_panic(exc: BaseException) -> bool:
    """pyo3 turns a panic of the Rust reader into PanicException, a BaseException."""
    return type(exc).__name__ == "PanicException"


class CalamineSource(TabularSource):
    def __init__(self, path: Path, label: str, limits: Limits | None = None, archive: GuardedZip | None = None) -> None:
        super().__init__(label, limits)
        self._ods_merged: dict[str, list[Merged]] | None = None
        if archive is not None:  # an .ods: its content is parsed whole
            try:
                parts = [m for m in archive.members if m.filename.endswith(".xml") and m.filename != "content.xml"]
                archive.check_parts(parts, self.limits.part_bytes)
                self._ods_merged = ods_merged(archive)
            finally:
                archive.close()
        self._check_sizes(path)
        try:
            self._book = python_calamine.CalamineWorkbook.from_path(str(path))
            metadata = self._book.sheets_metadata
        except BaseException as exc:
            if isinstance(exc, Exception) or _is_panic(exc):
                raise _failure(label, exc) from exc
            raise
        shown = python_calamine.SheetVisibleEnum.Visible
        worksheet = python_calamine.SheetTypeEnum.WorkSheet
        sheets = [m for m in metadata if m.typ == worksheet]
        self._shown = [m.name for m in sheets if m.visible == shown]
        self._hidden = [m.name for m in sheets if m.visible != shown]

    def _check_sizes(self, path: Path) -> None:
        """Measured in a capped child first (``probe``): calamine reads every sheet whole when it opens a file."""
        try:
            sizes = probe.sheet_sizes(path)
        except probe.ProbeFailed as exc:
            if "PasswordError" in str(exc):
                raise _failure(self.label, python_calamine.PasswordError()) from exc
            message = _(
                "无法读取工作簿“%(name)s”：文件已损坏，或者工作表的范围过大，读取所需的内存超过上限。"
                "请在Excel中打开，删除多余的行和列，另存为.xlsx后再导入。"
            )
            raise TabularError(message % {"name": self.label}) from exc
        for sheet, (rows, cols) in sizes.items():
            if rows * cols > self.limits.grid_cells:
                message = _(
                    "工作簿“%(name)s”的工作表“%(sheet)s”范围过大（%(rows)d行×%(cols)d列，超过%(max)d个单元格）："
                    "请删除多余的行和列，或另存为.xlsx后再导入。"
                )
                values = {"name": self.label, "sheet": sheet, "rows": rows, "cols": cols, "max": self.limits.grid_cells}
                raise TabularError(message % values)

    def sheet_names(self) -> list[str]:
        return list(self._shown)

    def hidden_sheet_names(self) -> list[str]:
        return list(self._hidden)

    def _sheet(self, name: str) -> python_calamine.CalamineSheet:
        try:
            return self._book.get_sheet_by_name(name)
        except BaseException as exc:
            if isinstance(exc, Exception) or _is_panic(exc):
                raise _failure(self.label, exc) from exc
            raise

    def _merged(self, name: str) -> list[Merged]:
        if self._ods_merged is not None:
            return self._ods_merged.get(name, [])
        ranges = self._sheet(name).merged_cell_ranges or []
        return [(top + 1, left + 1, bottom + 1, right + 1) for (top, left), (bottom, right) in ranges]

    def _raw_rows(self, name: str) -> Iterator[Sequence[object]]:
        sheet = self._sheet(name)
        start = sheet.start or (0, 0)
        padding = [None] * start[1]  # calamine's rows begin at the first column that holds something
        yield from [()] * start[0]
        for row in sheet.iter_rows():
            yield [*padding, *row] if padding else row

    def close(self) -> None:
        self._book.close()


ODS_TAG = re.compile(rb"<(table:table-row|table:table-cell|table:covered-table-cell|table:table)(?=[\s/>])([^>]*)>")
ODS_REPEAT = {
    b"table:table-row": re.compile(rb'table:number-rows-repeated="(\d+)"'),
    b"table:table-cell": re.compile(rb'table:number-columns-repeated="(\d+)"'),
    b"table:covered-table-cell": re.compile(rb'table:number-columns-repeated="(\d+)"'),
}
ODS_NAME = re.compile(rb'table:name="([^"]*)"')
ODS_SPAN = re.compile(rb'table:number-(rows|columns)-spanned="(\d+)"')


def ods_merged(archive: GuardedZip) -> dict[str, list[Merged]]:
    """The merged ranges of each table of an .ods (calamine does not report them), from one pass over its content:
    rows and cells are counted, repeats included, and a cell spanning more than itself is a merged range."""
    content = archive.info("content.xml")
    merged: dict[str, list[Merged]] = {}
    if content is None:
        return merged
    table, row, col = "", 0, 1
    for tag, attrs in archive.matches(content, archive.limits.part_bytes, scan=ODS_TAG):
        if tag == b"table:table":
            name = ODS_NAME.search(attrs)
            table, row = html.unescape(name.group(1).decode()) if name else "", 0
            continue
        repeat = ODS_REPEAT[tag].search(attrs)
        count = int(repeat.group(1)) if repeat else 1
        if tag == b"table:table-row":
            row, col = row + 1, 1
            if count > 1:
                row += count - 1  # the rows it stands for, counted as one row further down per repeat
            continue
        spans = {kind: int(size) for kind, size in ODS_SPAN.findall(attrs)}
        rows, cols = spans.get(b"rows", 1), spans.get(b"columns", 1)
        if rows > 1 or cols > 1:
            top = row  # repeated rows hold no merge in practice; a merge sits in the row just counted
            merged.setdefault(table, []).append((top, col, top + rows - 1, col + cols - 1))
        col += count
    return merged
