"""Reading one row's cells as typed values, collecting every problem with its sheet, row and column.

``ProblemLog`` keeps the first ``cap`` problems for the report and counts them all, so a workbook with a
hundred thousand bad rows neither floods memory nor hides how much is wrong. ``RowCheck`` wraps one row: each
getter returns the value (or None) and records a plain Chinese message when the cell is impossible.
Messages never repeat identity cells (names, ID numbers, phones): the report may be shown and stored.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import TypeVar, overload

from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from casemgmt.tabular import BadCell, Cell, CellError, Problem, Row, Sheet, TabularError, as_date, as_int, as_text
from followup.visits import bounds

Code = int | str  # the value of a code of a models.Choices (IntegerChoices or TextChoices)
T = TypeVar("T")
REPORT_CAP = 1000  # problems kept for the report; the total is always counted
DATE_TEXT_LENGTH = len("2025-01-01")  # longer text in a date-or-time column carries a time


class ProblemLog:
    def __init__(self, cap: int = REPORT_CAP) -> None:
        self.cap = cap
        self.shown: list[Problem] = []
        self.total = 0

    def add(self, problem: Problem) -> None:
        self.total += 1
        if len(self.shown) < self.cap:
            self.shown.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.add(problem)

    def __bool__(self) -> bool:
        return self.total > 0


@functools.cache
def code_lookup(choices: type[models.Choices], language: str | None) -> dict[str, Code | None]:
    """Each code by its value and by its label in *language* (rendering lazy labels per cell is slow)."""
    lookup = {str(label): value for value, label in choices.choices}
    lookup.update({str(value): value for value, _label in choices.choices})
    return lookup


@functools.cache
def numbered_lookup(choices: type[models.Choices], language: str | None) -> dict[str, Code | None]:
    """As :func:`code_lookup`, and each code also by its number (1, 2, … in the order of the list)."""
    lookup = {str(number): value for number, (value, _label) in enumerate(choices.choices, start=1)}
    lookup.update(code_lookup(choices, language))
    return lookup


def choices_text(choices: type[models.Choices]) -> str:
    return "、".join(f"{value} {label}" for value, label in choices.choices)


def numbered_choices_text(choices: type[models.Choices]) -> str:
    """The codes with their numbers: ``day（1）日间康复机构、clubhouse（2）康复会所 …``."""
    return "、".join(f"{value}（{n}）{label}" for n, (value, label) in enumerate(choices.choices, start=1))


class SheetReader:
    """The rows of one sheet, each wrapped in a :class:`RowCheck`; a sheet that breaks mid-way is reported."""

    def __init__(self, sheet: Sheet, problems: ProblemLog, today: dt.date) -> None:
        self.sheet = sheet
        self.problems = problems
        self.today = today
        self.language = get_language()  # asked once per sheet: per cell it costs more than the code lookup

    def add(self, row: int | None, key: str | None, message: str) -> None:
        self.problems.add(self.sheet.problem(row, key, message))

    def rows(self) -> Iterator[RowCheck]:
        try:
            for number, cells in self.sheet:
                yield RowCheck(self, number, cells)
        except TabularError as exc:  # e.g. a CSV that is not UTF-8, found part-way through
            self.add(None, None, str(exc))


class RowCheck:
    def __init__(self, reader: SheetReader, number: int, cells: Mapping[str, Cell]) -> None:
        self.reader = reader
        self.number = number
        self.cells = cells
        self.failed = False

    def add(self, key: str | None, message: str) -> None:
        self.failed = True
        self.reader.add(self.number, key, message)

    def _convert(self, key: str, convert: Callable[[Cell], T | None]) -> T | None:
        cell = self.cells.get(key)
        if cell is None:  # an empty cell, most of a sheet's: every conversion gives None
            return None
        try:
            return convert(cell)
        except CellError as exc:
            self.add(key, str(exc))
            return None

    def _missing(self, key: str, value: object, required: bool) -> bool:
        if value is None:
            if required and self.cells.get(key) is None:
                self.add(key, _("不能为空。"))
            return True
        return False

    def text(self, key: str, *, max_length: int, required: bool = False) -> str | None:
        value = self._convert(key, as_text)
        if self._missing(key, value, required) or value is None:
            return None
        if len(value) > max_length:
            self.add(key, _("内容过长：最多%(max)d个字。") % {"max": max_length})
            return None
        return str(value)

    def integer(self, key: str, *, required: bool = False) -> int | None:
        value = self._convert(key, as_int)
        if self._missing(key, value, required) or value is None:
            return None
        return int(value)

    @overload
    def code(self, key: str, choices: type[models.IntegerChoices], *, required: bool = False) -> int | None: ...
    @overload
    def code(self, key: str, choices: type[models.TextChoices], *, required: bool = False) -> str | None: ...
    @overload
    def code(self, key: str, choices: type[models.Choices], *, required: bool = False) -> Code | None: ...
    def code(self, key: str, choices: type[models.Choices], *, required: bool = False) -> Code | None:
        """A code of *choices*, by its value (``1``, ``REACHED``) or its Chinese label."""
        raw = self._convert(key, as_text)
        if self._missing(key, raw, required) or raw is None:
            return None
        lookup = code_lookup(choices, self.reader.language)
        if raw in lookup:
            return lookup[raw]
        self.add(key, _("代码“%(value)s”无效，可填：%(allowed)s。") % {"value": raw, "allowed": choices_text(choices)})
        return None

    def keyed_code(self, key: str, choices: type[models.TextChoices], *, required: bool = False) -> str | None:
        """A code of *choices* by its key (``clubhouse``), its Chinese name, or its number in the list (``2``)."""
        raw = self._convert(key, as_text)
        if self._missing(key, raw, required):
            return None
        return self._keyed(key, str(raw), choices)

    def keyed_codes(self, key: str, choices: type[models.TextChoices]) -> list[str]:
        """Keyed codes (as :meth:`keyed_code`) separated by commas, in the order of the list, each once."""
        raw = self._convert(key, as_text)
        if raw is None:
            return []
        found = set()
        for piece in str(raw).replace("，", ",").replace("、", ",").split(","):
            part = piece.strip()
            if not part:
                continue
            value = self._keyed(key, part, choices)
            if value is None:
                return []
            found.add(value)
        return [value for value, _label in choices.choices if value in found]

    def _keyed(self, key: str, raw: str, choices: type[models.TextChoices]) -> str | None:
        lookup = numbered_lookup(choices, get_language())
        for spelling in (raw, raw.lower(), raw.upper()):  # keys in any case: Clubhouse, unstable
            if spelling in lookup:
                found = lookup[spelling]
                return None if found is None else str(found)
        allowed = numbered_choices_text(choices)
        self.add(key, _("代码“%(value)s”无效，可填：%(allowed)s。") % {"value": raw, "allowed": allowed})
        return None

    def code_list(self, key: str, choices: type[models.Choices]) -> list[int]:
        """Codes separated by commas (Chinese or Western), e.g. ``1,3,10``."""
        raw = self._convert(key, as_text)
        if raw is None:
            return []
        values: list[int] = []
        for piece in str(raw).replace("，", ",").replace("、", ",").split(","):
            part = piece.strip()
            if not part:
                continue
            if not part.isdigit() or str(int(part)) not in code_lookup(choices, self.reader.language):
                message = _("代码“%(value)s”无效，可填：%(allowed)s。")
                self.add(key, message % {"value": part, "allowed": choices_text(choices)})
                return []
            values.append(int(part))
        return sorted(set(values))

    def flag(self, key: str) -> bool | None:
        raw = self._convert(key, as_text)
        if raw is None:
            return None
        if raw in ("1", "是"):
            return True
        if raw in ("0", "否"):
            return False
        self.add(key, _("应填1（是）或0（否）：%(value)s") % {"value": raw})
        return None

    def count(self, key: str) -> int:
        """A count of events (0 when empty), within the follow-up's bounds."""
        value = self.integer(key)
        if value is None:
            return 0
        if not bounds.COUNT_MIN <= value <= bounds.COUNT_MAX:
            message = _("次数应为%(low)d至%(high)d的整数。")
            self.add(key, message % {"low": bounds.COUNT_MIN, "high": bounds.COUNT_MAX})
            return 0
        return value

    def decimal(self, key: str) -> Decimal | int | None:
        cell = self.cells.get(key)
        if cell is None:
            return None
        if isinstance(cell, BadCell):  # unreadable (a control character, a formula without its value...)
            self.add(key, cell.message)
            return None
        if isinstance(cell, bool | dt.date | dt.time):
            self.add(key, _("应为数字。"))
            return None
        try:
            number = Decimal(str(cell).strip())
        except InvalidOperation:
            self.add(key, _("应为数字：%(value)s") % {"value": cell})
            return None
        if not number.is_finite():
            self.add(key, _("应为数字：%(value)s") % {"value": cell})
            return None
        return int(number) if number == number.to_integral_value() and "." not in str(cell) else number

    def moment(self, key: str, *, required: bool = False) -> dt.datetime | None:
        """A date, or a date and time (``2025-03-01 14:30``, a real Excel date-time), never in the future; a date
        alone is midnight. Local time (Asia/Shanghai), returned aware."""
        cell = self.cells.get(key)
        if isinstance(cell, dt.datetime):
            moment = cell
        elif isinstance(cell, str) and len(cell.strip()) > DATE_TEXT_LENGTH:
            try:
                moment = dt.datetime.fromisoformat(cell.strip().replace("T", " "))
            except ValueError:
                self.add(key, _("应为日期或日期时间（YYYY-MM-DD HH:MM）：%(value)s") % {"value": cell})
                return None
        else:
            day = self.date(key, required=required)
            return None if day is None else timezone.make_aware(dt.datetime.combine(day, dt.time()))
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        if moment.date() > self.reader.today:
            self.add(key, _("日期不能晚于今天（%(today)s）。") % {"today": self.reader.today.isoformat()})
            return None
        if moment.year < 1900:
            self.add(key, _("日期过早：%(value)s") % {"value": moment.date().isoformat()})
            return None
        return moment

    def date(self, key: str, *, required: bool = False) -> dt.date | None:
        """A date, never after today (records describe the past)."""
        value = self._convert(key, as_date)
        if self._missing(key, value, required) or value is None:
            return None
        if value > self.reader.today:
            self.add(key, _("日期不能晚于今天（%(today)s）。") % {"today": self.reader.today.isoformat()})
            return None
        if value.year < 1900:
            self.add(key, _("日期过早：%(value)s") % {"value": value.isoformat()})
            return None
        return value

    def later_date(self, key: str, *, after: dt.date | None) -> dt.date | None:
        """A date that may lie in the future (e.g. the next follow-up), not before *after*."""
        value = self._convert(key, as_date)
        if value is None:
            return None
        if after is not None and value < after:
            self.add(key, _("日期不能早于%(day)s。") % {"day": after.isoformat()})
            return None
        return value


__all__ = ["REPORT_CAP", "ProblemLog", "Row", "RowCheck", "SheetReader", "choices_text"]
