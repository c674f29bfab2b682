"""The one reader of tabular files: .xlsx (Excel, WPS, LibreOffice), .xls (BIFF8), .ods, CSV in UTF-8 (with or
without a byte-order mark) or GB18030/GBK, a .zip of CSV files, a folder of CSV files.

Used by the area loader and the registry-workbook import (exchange.md §1). Every sheet's first row holds the
column keys, in English or as a Chinese label alias; the reader maps them to keys and yields each later row as
``(row_number, {key: cell})``, one row at a time, in memory bounded by the limits (``limits``, settings
``TABULAR_*``) whatever the file. Modules:

- ``sources``: :func:`open_source`, the kind of a file found from its bytes;
- ``sheets``: :class:`SheetSpec`, :class:`Sheet`, :class:`TabularSource` (hidden sheets, merged cells, unknown
  sheet names);
- ``cells``: cleaning a raw value and the ``as_*`` conversions, which raise :class:`CellError` with a plain
  Chinese message;
- ``csvfiles``, ``xlsx`` (openpyxl, streamed), ``calamine`` (.xls and .ods), ``archives`` (zip limits).
"""

from __future__ import annotations

from .cells import BadCell, Cell, as_date, as_int, as_text
from .limits import Limits
from .problems import CellError, Problem, TabularError
from .sheets import NumberedRows, Row, Sheet, SheetSpec, TabularSource
from .sources import SUFFIXES, open_source

__all__ = [
    "SUFFIXES",
    "BadCell",
    "Cell",
    "CellError",
    "Limits",
    "NumberedRows",
    "Problem",
    "Row",
    "Sheet",
    "SheetSpec",
    "TabularError",
    "TabularSource",
    "as_date",
    "as_int",
    "as_text",
    "open_source",
]
