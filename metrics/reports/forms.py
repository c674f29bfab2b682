"""The report's query: an area code, a period and the configurable options, each checked with a Chinese message.

The period comes either as one key (``period=2025-Q3``, as in links and the JSON API) or from the page's
pickers (``period_kind`` year/quarter/month/ytd + ``period_year`` + ``period_quarter`` / ``period_month``),
which serialise to the same keys ``metrics.indicators.periods.parse_period`` reads. The options (domain.md §11) default
to the METRICS_* settings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.utils.translation import gettext as _

from casemgmt.areas.models import Area
from metrics.indicators.definitions import Options
from metrics.indicators.options import SETTINGS, default_options
from metrics.indicators.periods import SHANGHAI, Period, PeriodError, parse_period
from metrics.reports.engine import AreaNotFound, find_area

if TYPE_CHECKING:
    from collections.abc import Mapping

PERIOD_KINDS = ("year", "quarter", "month", "ytd")
OPTION_NAMES = tuple(SETTINGS)


class QueryError(ValueError):
    """Bad input; the message is for the user."""


@dataclass(frozen=True)
class ReportQuery:
    area: Area
    period: Period
    children: bool
    options: Options = field(default_factory=Options)

    def params(self) -> dict[str, str]:
        """The GET parameters that reproduce this query (links, drill-down, exports)."""
        return {"area": self.area.code, "period": self.period.key, **self.options.as_dict()}

    @property
    def querystring(self) -> str:
        return urlencode(self.params())


def period_key(params: Mapping[str, str]) -> str:
    """The period key: ``period`` as given, else composed from the pickers, else "" (this year)."""
    given = (params.get("period") or "").strip()
    if given or not params.get("period_year"):
        return given
    kind = params.get("period_kind") or "year"
    year = (params.get("period_year") or "").strip()
    if kind not in PERIOD_KINDS:
        raise QueryError(_("统计期类型无效。"))
    if kind == "year":
        return year
    if kind == "quarter":
        return f"{year}-Q{(params.get('period_quarter') or '').strip()}"
    month = (params.get("period_month") or "").strip().zfill(2)
    return f"{year}-{month}" if kind == "month" else f"{year}-YTD-{month}"


def parse_options(params: Mapping[str, str]) -> Options:
    """The options given (each one of its allowed values), the METRICS_* settings for the rest."""
    given: dict[str, str | None] = {}
    for name in OPTION_NAMES:
        value = (params.get(name) or "").strip() or None
        if value is not None and value not in SETTINGS[name][1]:
            raise QueryError(_("口径选项无效：%(name)s。") % {"name": name})
        given[name] = value
    return default_options(**given)


def parse_query(params: Mapping[str, str], default_area: str) -> ReportQuery:
    """Area (default: the user's own), period (default: this year) and options from GET parameters."""
    texts = [params.get(name) or "" for name in ("area", "period", "period_year", "period_quarter", "period_month")]
    if any("\x00" in text for text in texts):
        raise QueryError(_("参数含有无效字符。"))
    area_text = (params.get("area") or default_area or "").strip()
    if not area_text:
        raise QueryError(_("请选择地区。"))
    period_text = period_key(params)
    try:
        period = parse_period(period_text) if period_text else parse_period(str(_this_year()))
        area = find_area(area_text)
    except (PeriodError, AreaNotFound) as error:
        raise QueryError(str(error)) from None
    return ReportQuery(
        area=area,
        period=period,
        children=params.get("children") in {"1", "true", "on"},
        options=parse_options(params),
    )


def _this_year() -> int:
    return dt.datetime.now(SHANGHAI).year
