"""What a cell holds, and turning it into the value its column needs.

The sources hand over raw values; :func:`clean` makes each a :data:`Cell`: text stripped of stray spaces (ASCII,
full-width and ideographic spaces, zero-width marks) and, when it is nothing but full-width forms of ASCII
(``２０２５－０１－０２``, ``ＲＥＡＣＨＥＤ``), turned into ASCII; empty text becomes ``None`` (unknown). A value the
reader cannot pass on — a control character such as NUL, a cell longer than the limit, a formula whose result the
file does not hold — becomes a :class:`BadCell` carrying its message, so the importer reports it against that
row and column like any other bad value: every ``as_*`` helper raises :class:`CellError` for it.

Dates: real dates; ISO ``YYYY-MM-DD`` and the forms Chinese Excel writes into CSV (``2025/1/2``, ``2025年1月2日``,
``20250102``); Excel serial numbers (a number cell, or five digits of text: ``45000`` is 2023-03-15). Nothing
before 1900-01-01 is a date of the registry: such a date (Excel's day 0 is 1899-12-31) is reported as written.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .problems import CellError


@dataclass(frozen=True, slots=True)
class BadCell:
    """A cell that cannot be read at all; ``message`` says why (never the cell's content)."""

    message: str


Cell = str | int | float | dt.date | dt.datetime | dt.time | BadCell | None

EXCEL_EXACT_LIMIT = 10**15  # numbers from 16 digits up are stored by Excel with their last digits lost
EARLIEST_DATE = dt.date(1900, 1, 1)  # no date of the registry is earlier; Excel's day 0 is 1899-12-31
EXCEL_DAY_ZERO = dt.date(1899, 12, 31)
EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial n (n > 60) is EXCEL_EPOCH + n days (Excel's 1900-02-29 is serial 60)
STRIPPED = " \t\r\n\u3000\xa0\u200b\ufeff"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FULL_WIDTH = re.compile(r"[\uff01-\uff5e]")
SCIENTIFIC = re.compile(r"^[+-]?\d(?:\.\d+)?[eE][+-]?\d{1,3}$")
INTEGER = re.compile(r"^[+-]?\d+$")
MIDNIGHT = r"(?:[ T]0?0:00(?::00(?:\.0+)?)?)?"
DATE_FORMS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})" + MIDNIGHT + "$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})" + MIDNIGHT + "$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
SERIAL_TEXT = re.compile(r"^\d{5}(?:\.\d+)?$")  # a date serial exported as text (1927-05-18 … 2173-10-14)
LAST_SERIAL = 2958465  # 9999-12-31

FORMULA_WITHOUT_RESULT = object()  # what a source yields for a formula cell whose result the file does not hold


def formula_message() -> str:
    return _(
        "公式没有计算结果（文件中只有公式，没有保存数值）：请在Excel中打开并重新计算，"
        "或复制后“选择性粘贴为数值”，另存为数值后再导入。"
    )


def number_for_text_message() -> str:
    return _(
        "该列应以文本保存，却是数字：Excel只保留15位有效数字，末几位可能已丢失。请把该列设置为“文本”格式后重新录入。"
    )


def clean(value: object, *, max_chars: int) -> Cell:  # noqa: PLR0911  (one return per kind of value)
    """A raw value from a source as a :data:`Cell` (see the module's description)."""
    if value is None:
        return None
    if value is FORMULA_WITHOUT_RESULT:
        return BadCell(formula_message())
    if isinstance(value, str):
        return _clean_text(value, max_chars)
    if isinstance(value, float) and not math.isfinite(value):
        return BadCell(_("不是有效的数值。"))
    if isinstance(value, bool | int | float | dt.date | dt.time):  # datetime is a date
        return value
    if isinstance(value, dt.timedelta):  # a duration: only as text
        return _clean_text(str(value), max_chars)
    return _clean_text(str(value), max_chars)


def _clean_text(value: str, max_chars: int) -> Cell:
    if len(value) > max_chars:
        message = _("内容过长：共%(count)d个字符，一个单元格最多%(max)d个字符。")
        return BadCell(message % {"count": len(value), "max": max_chars})
    text = value.strip(STRIPPED)
    if not text:
        return None
    if text.isascii() and text.isprintable():  # the common case, at no further cost
        return text
    if CONTROL.search(text):
        return BadCell(_("含有不可见的控制字符（如NUL）：请删除这些字符后重新导入。"))
    if FULL_WIDTH.search(text):
        folded = unicodedata.normalize("NFKC", text)
        if folded.isascii():  # full-width digits, letters and signs typed with a Chinese input method
            text = folded.strip()
    return text


def _raise_if_bad(cell: Cell) -> None:
    if isinstance(cell, BadCell):
        raise CellError(cell.message)


def _check_exact(number: float) -> None:
    """Excel keeps 15 significant digits: a longer number typed into a number cell (an 18-digit ID number
    is the usual victim) comes back with its last digits replaced by zeros. Refuse it rather than guess."""
    if abs(number) >= EXCEL_EXACT_LIMIT:
        raise CellError(_("数字超过15位，Excel已丢失末几位：请把该列设置为“文本”格式后重新录入。"))


def as_text(cell: Cell) -> str | None:
    """Text as typed. Whole numbers lose Excel's ``.0`` (a code typed as a number reads back as digits); a number
    Excel shows in scientific notation (``1.10101E+17`` in a CSV) has lost its digits and is refused."""
    if type(cell) is str:  # most cells: text, already cleaned (no exponent without an "e")
        text = cell.strip()
        if ("e" in text or "E" in text) and SCIENTIFIC.match(text):
            raise CellError(scientific_message())
        return text or None
    _raise_if_bad(cell)
    if cell is None:
        return None
    if isinstance(cell, bool):
        raise CellError(_("应为文字，不是逻辑值。"))
    if isinstance(cell, float):
        _check_exact(cell)
        if cell.is_integer():
            return str(int(cell))
    if isinstance(cell, dt.date | dt.time):
        raise CellError(_("应为文字，不是日期。"))
    text = str(cell).strip()
    if SCIENTIFIC.match(text):
        raise CellError(scientific_message())
    return text or None


def scientific_message() -> str:
    return _("数字以科学计数法保存，原来的数字已丢失：请把该列设置为“文本”格式后重新录入。")


def as_int(cell: Cell) -> int | None:
    _raise_if_bad(cell)
    if cell is None:
        return None
    if isinstance(cell, bool | dt.date | dt.time):
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


def as_date(cell: Cell) -> dt.date | None:  # noqa: PLR0911  (one return per kind of cell)
    """A date: a real one, text in a form of the module's description, or an Excel serial number."""
    _raise_if_bad(cell)
    if cell is None:
        return None
    if isinstance(cell, dt.datetime):
        return _sane(cell.date())
    if isinstance(cell, dt.date):
        return _sane(cell)
    if isinstance(cell, dt.time):  # a date cell holding a serial below 1: Excel's day 0
        return _sane(EXCEL_DAY_ZERO)
    if isinstance(cell, bool):
        raise CellError(_("应为日期（如2025-01-31），不是逻辑值。"))
    if isinstance(cell, int | float):
        return _from_serial(cell, str(cell))
    text = str(cell).strip()
    for form in DATE_FORMS:
        match = form.match(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return _sane(dt.date(year, month, day))
            except ValueError:
                break
    else:
        if SERIAL_TEXT.match(text):
            return _from_serial(float(text), text)
    raise CellError(_("应为日期（如2025-01-31）：%(value)s") % {"value": text})


def _from_serial(serial: float, shown: str) -> dt.date:
    """An Excel serial (1900 date system): 1 is 1900-01-01, 60 Excel's non-existent 1900-02-29, 0 its day 0."""
    days = math.floor(serial)
    if 10_000_000 <= days <= 99_999_999 and serial == days:  # 20250102 typed as a number
        return as_date(str(days)) or EXCEL_DAY_ZERO
    if days == 60 or not 0 <= days <= LAST_SERIAL:
        raise CellError(_("应为日期（如2025-01-31）：%(value)s") % {"value": shown})
    day = EXCEL_DAY_ZERO + dt.timedelta(days=days) if days < 60 else EXCEL_EPOCH + dt.timedelta(days=days)
    return _sane(day)


def _sane(day: dt.date) -> dt.date:
    if day < EARLIEST_DATE:
        message = _("日期过早：%(value)s（不能早于%(earliest)s）。")
        raise CellError(message % {"value": day.isoformat(), "earliest": EARLIEST_DATE.isoformat()})
    return day
