"""The report's query: an area code and a period key, both checked with a Chinese message."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from casemgmt.areas.models import Area
from metrics.engine import AreaNotFound, find_area
from metrics.periods import SHANGHAI, Period, PeriodError, parse_period


class QueryError(ValueError):
    """Bad input; the message is for the user."""


@dataclass(frozen=True)
class ReportQuery:
    area: Area
    period: Period
    children: bool


def parse_query(params: Any, default_area: str) -> ReportQuery:
    """Area (default: the user's own) and period (default: this year) from GET parameters."""
    area_text = (params.get("area") or default_area or "").strip()
    period_text = (params.get("period") or "").strip()
    if "\x00" in area_text or "\x00" in period_text:
        raise QueryError(_("参数含有无效字符。"))
    if not area_text:
        raise QueryError(_("请选择地区。"))
    try:
        period = parse_period(period_text) if period_text else parse_period(str(_this_year()))
        area = find_area(area_text)
    except (PeriodError, AreaNotFound) as error:
        raise QueryError(str(error)) from None
    return ReportQuery(area=area, period=period, children=params.get("children") in {"1", "true", "on"})


def _this_year() -> int:
    return dt.datetime.now(SHANGHAI).year
