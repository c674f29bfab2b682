"""Inert text for spreadsheets and CSV files: a cell the product writes is never evaluated as a formula.

Excel, LibreOffice and Google Sheets treat a text cell starting with ``=``, ``+``, ``-`` or ``@`` (and, after
trimming, a tab or carriage return) as a formula: an area named ``=HYPERLINK("http://…"&A1,"y")`` would run
in the reader's spreadsheet (OWASP "CSV injection"). Every text the product writes to xlsx or CSV goes through
:func:`inert`, which prefixes such text with an apostrophe — shown as text, never evaluated. Numbers, dates
and None pass unchanged (they are typed cells, not text).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

ExportCell = str | int | float | dt.date | dt.datetime | None


def inert(text: str) -> str:
    """*text* as it may be written into a spreadsheet or CSV cell without being evaluated."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def inert_cell(value: object) -> ExportCell:
    """A cell value for a sheet row: text (and lazy translations) made inert, numbers and dates kept typed."""
    if value is None or isinstance(value, int | float | dt.date):
        return value
    return inert(str(value))


def inert_row(values: Iterable[object]) -> list[ExportCell]:
    return [inert_cell(value) for value in values]
