"""The report table as a spreadsheet: one row per indicator of the area, then of each child area."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from io import BytesIO
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from openpyxl import Workbook

if TYPE_CHECKING:
    from metrics.reports.rows import Row


def build_workbook(title: str, sections: Iterable[tuple[str, Sequence[Row]]], footer: Iterable[str]) -> bytes:
    book = Workbook(write_only=False)
    sheet = book.create_sheet(index=0)
    book.remove(book.worksheets[1])
    sheet.title = _("指标报告")
    sheet.append([title])
    sheet.append([_("地区"), _("指标"), _("分子"), _("分母"), _("率"), _("目标"), _("是否达标")])
    met_text = {True: _("达标"), False: _("未达标"), None: "—"}
    for area_name, rows in sections:
        for row in rows:
            denominator = row.denominator if row.denominator is not None else _("未知")
            sheet.append([area_name, row.label, row.numerator, denominator, row.rate, row.target, met_text[row.met]])
    sheet.append([])
    for line in footer:
        sheet.append([str(line)])
    out = BytesIO()
    book.save(out)
    return out.getvalue()
