"""The report as a spreadsheet: a sheet for the area (indicators, counts, footer), then a sheet per level below
(one row per area: each indicator's numerator, denominator and rate, then the counts).

Figures are typed cells with number formats — rates as fractions shown as percentages, 报告患病率 in ‰ with a
custom format, counts as integers — so a reader can sort and sum them. Every text cell passes through
``casemgmt.exports.inert`` (an area name never becomes a formula).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from io import BytesIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import Cell, MergedCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from casemgmt.exports import inert, inert_row
from metrics.reports.rows import AreaSection, CountRow, Row

PERCENT = "0.00%"  # the screen's two decimals
PER_MILLE = '0.00"‰"'  # Excel has no per-mille scaling: the cell holds the value in ‰
COUNT = "0"


def _met_text(met: bool | None) -> str:
    return {True: _("达标"), False: _("未达标"), None: "—"}[met]


def _rate_cell(sheet: Worksheet, row: int, column: int, figure: Row) -> None:
    """The rate as a number (a fraction for %, the ‰ figure for prevalence), or its display text when hidden."""
    cell = sheet.cell(row=row, column=column)
    if figure.value is None:
        cell.value = inert(figure.rate)
    elif figure.per_mille:
        cell.value, cell.number_format = figure.value, PER_MILLE
    else:
        cell.value, cell.number_format = figure.value / 100, PERCENT


def _count_cell(sheet: Worksheet, row: int, column: int, value: int | str | None) -> None:
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, int):
        cell.value, cell.number_format = value, COUNT
    else:
        cell.value = inert(_("未知") if value is None else value)


def _bold(cells: Iterable[Cell | MergedCell]) -> None:
    for cell in cells:
        if isinstance(cell, Cell):  # the covered cells of a merged range carry no style of their own
            cell.font = Font(bold=True)


def _area_sheet(sheet: Worksheet, title: str, section: AreaSection, footer: Iterable[str]) -> None:
    sheet.append(inert_row([title]))
    sheet.append(inert_row([_("地区"), f"{section.area.name} ({section.area.code})"]))
    sheet.append([])
    sheet.append(inert_row([_("指标"), _("分子"), _("分母"), _("率"), _("目标"), _("是否达标")]))
    _bold(sheet[sheet.max_row])
    for figure in section.rows:
        at = sheet.max_row + 1
        sheet.cell(row=at, column=1, value=inert(figure.label))
        _count_cell(sheet, at, 2, figure.numerator)
        _count_cell(sheet, at, 3, figure.denominator)
        _rate_cell(sheet, at, 4, figure)
        sheet.cell(row=at, column=5, value=inert(figure.target))
        sheet.cell(row=at, column=6, value=inert(_met_text(figure.met)))
    if section.missing_population:
        sheet.append(inert_row([_("以下地区缺少常住人口数，报告患病率未知："), "、".join(section.missing_population)]))
    sheet.append([])
    sheet.append(inert_row([_("计数"), _("人数")]))
    _bold(sheet[sheet.max_row])
    for count in section.counts:
        at = sheet.max_row + 1
        sheet.cell(row=at, column=1, value=inert(count.label))
        _count_cell(sheet, at, 2, count.value)
    sheet.append([])
    for line in footer:
        sheet.append(inert_row([line]))
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 14


def _level_header(sheet: Worksheet, section: AreaSection) -> None:
    """Two header rows: each indicator's label over its three columns, then 分子/分母/率; counts after."""
    top: list[object] = [_("地区"), _("区划代码")]
    sub: list[object] = ["", ""]
    for figure in section.rows:
        top += [figure.label, "", ""]
        sub += [_("分子"), _("分母"), _("率")]
    top += [count.label for count in section.counts] + [_("缺少常住人口数的地区")]
    sheet.append(inert_row(top))
    sheet.append(inert_row(sub))
    for index in range(len(section.rows)):
        first = 3 + 3 * index
        sheet.merge_cells(start_row=1, start_column=first, end_row=1, end_column=first + 2)
    _bold([*sheet[1], *sheet[2]])
    for cell in sheet[1]:
        cell.alignment = Alignment(horizontal="center", wrap_text=True)


def _level_sheet(sheet: Worksheet, sections: Sequence[AreaSection]) -> None:
    _level_header(sheet, sections[0])
    for at, section in enumerate(sections, start=3):
        sheet.cell(row=at, column=1, value=inert(section.area.name))
        sheet.cell(row=at, column=2, value=inert(section.area.code))
        column = 3
        for figure in section.rows:
            _count_cell(sheet, at, column, figure.numerator)
            _count_cell(sheet, at, column + 1, figure.denominator)
            _rate_cell(sheet, at, column + 2, figure)
            column += 3
        counts: list[CountRow] = section.counts
        for offset, count in enumerate(counts):
            _count_cell(sheet, at, column + offset, count.value)
        sheet.cell(row=at, column=column + len(counts), value=inert("、".join(section.missing_population)))
    sheet.freeze_panes = "C3"
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 15
    for column in range(3, sheet.max_column + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 10


def build_workbook(
    title: str, own: AreaSection, levels: Sequence[tuple[str, Sequence[AreaSection]]], footer: Iterable[str]
) -> bytes:
    """*own* is the report's area; *levels* the areas below it, one sheet per level (metrics.reports.levels)."""
    book = Workbook()
    sheet = book.create_sheet(_("指标报告"), 0)
    book.remove(book.worksheets[1])  # the default empty sheet
    footer = [str(line) for line in footer]
    _area_sheet(sheet, title, own, footer)
    for name, sections in levels:
        if sections:
            _level_sheet(book.create_sheet(name), sections)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
