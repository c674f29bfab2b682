"""Report periods: a year, a quarter, a month or year-to-date, with their cut-off (domain.md §11).

The cut-off C is the end of the period's last day in Asia/Shanghai. A period that has not ended yet is
computed as of today: its cut-off is the end of today, so a report pulled mid-quarter shows the quarter so far.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

SHANGHAI = ZoneInfo("Asia/Shanghai")
PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>\d)|YTD-(?P<ytd>\d{2})|(?P<month>\d{2})))?$")


class PeriodError(ValueError):
    """A malformed period; the message is for the user."""


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> dt.date:
        return month_end(self.year, 3 * self.number)


@dataclass(frozen=True)
class Period:
    kind: str  # "year", "quarter", "month", "ytd"
    key: str  # as given: 2025, 2025-Q3, 2025-07, 2025-YTD-08
    start: dt.date
    end: dt.date  # the period's nominal last day
    cutoff_date: dt.date  # min(end, today): the last day whose data counts

    @property
    def cutoff(self) -> dt.datetime:
        """End of the cut-off day in Asia/Shanghai."""
        return dt.datetime.combine(self.cutoff_date, dt.time.max, tzinfo=SHANGHAI)

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def is_partial(self) -> bool:
        """The period had not ended when computed: the figures are as of the cut-off, today."""
        return self.cutoff_date < self.end

    @property
    def population_year(self) -> int:
        """报告患病率 divides by the resident population of the year of C."""
        return self.cutoff_date.year

    @property
    def label(self) -> str:
        if self.kind == "year":
            return _("%(year)d年") % {"year": self.year}
        if self.kind == "quarter":
            return _("%(year)d年第%(q)d季度") % {"year": self.year, "q": (self.start.month + 2) // 3}
        if self.kind == "month":
            return _("%(year)d年%(month)d月") % {"year": self.year, "month": self.start.month}
        return _("%(year)d年1—%(month)d月") % {"year": self.year, "month": self.end.month}

    @property
    def full_label(self) -> str:
        """The label, plus the actual cut-off when the period had not ended yet."""
        if not self.is_partial:
            return self.label
        day = self.cutoff_date
        return _("%(label)s（截至%(year)d年%(month)d月%(day)d日）") % {
            "label": self.label,
            "year": day.year,
            "month": day.month,
            "day": day.day,
        }

    def quarters_within(self, since: dt.date, until: dt.date | None = None) -> list[Quarter]:
        """Calendar quarters lying wholly inside [max(start, since), min(cut-off, until)]."""
        lower = max(self.start, since)
        upper = self.cutoff_date if until is None else min(self.cutoff_date, until)
        result = []
        for number in range(1, 5):
            quarter = Quarter(self.year, number)
            if quarter.start >= lower and quarter.end <= upper:
                result.append(quarter)
        return result

    def months(self) -> list[Period]:
        """The calendar months of the period up to the cut-off (for trend charts)."""
        result = []
        month = self.start.month
        while month <= self.end.month and dt.date(self.year, month, 1) <= self.cutoff_date:
            result.append(parse_period(f"{self.year}-{month:02d}", today=self.cutoff_date))
            month += 1
        return result


def parse_period(text: str, *, today: dt.date | None = None) -> Period:
    today = today or dt.datetime.now(SHANGHAI).date()
    match = PATTERN.match(text.strip().upper())
    if not match:
        raise PeriodError(_("统计期格式不正确，应为 2025、2025-Q3、2025-07 或 2025-YTD-08。"))
    year = int(match["year"])
    if not 2000 <= year <= today.year:
        raise PeriodError(_("统计年份须在2000年至今年之间。"))
    if match["quarter"]:
        number = int(match["quarter"])
        if not 1 <= number <= 4:
            raise PeriodError(_("季度须为 Q1 至 Q4。"))
        kind, start, end = "quarter", Quarter(year, number).start, Quarter(year, number).end
    elif match["month"] or match["ytd"]:
        month = int(match["month"] or match["ytd"])
        if not 1 <= month <= 12:
            raise PeriodError(_("月份须在01至12之间。"))
        if match["month"]:
            kind, start = "month", dt.date(year, month, 1)
        else:
            kind, start = "ytd", dt.date(year, 1, 1)
        end = month_end(year, month)
    else:
        kind, start, end = "year", dt.date(year, 1, 1), dt.date(year, 12, 31)
    if start > today:
        raise PeriodError(_("统计期尚未开始。"))
    return Period(kind=kind, key=text.strip().upper(), start=start, end=end, cutoff_date=min(end, today))
