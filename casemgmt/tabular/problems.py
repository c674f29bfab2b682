"""What goes wrong reading a file: the whole source (``TabularError``), one cell (``CellError``), and a located
``Problem`` as the reports list it (sheet, row, column, plain Chinese message)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _


class TabularError(Exception):
    """The source as a whole cannot be read (missing, unknown type, corrupt, too large); the message is for the
    user and names the file as the user called it."""


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
