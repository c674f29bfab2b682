"""The indicator engine: an area and a period in, the indicator document of exchange.md §2 out.

One pass over the area's patients (``metrics.facts``, chunked) computes each patient's memberships once with
the pure definitions; a patient also lands in the child area whose prefix holds their record at C, so
``children=True`` costs no second pass. Populations come from ``casemgmt.areas.population``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from casemgmt.areas import codes
from casemgmt.areas.models import Area
from casemgmt.areas.population import population_of
from metrics.definitions import Options, Tally, membership
from metrics.document import AreaRef, AreaResult, build_document
from metrics.facts import iter_facts
from metrics.options import default_options
from metrics.periods import Period


class AreaNotFound(LookupError):
    """The message is for the user."""


@dataclass
class Report:
    """Everything a report needs: the area's result, its children's, the period and the rules used."""

    area: AreaResult
    period: Period
    options: Options
    children: list[AreaResult] = field(default_factory=list)

    def document(self, computed_at: dt.datetime | None = None) -> dict[str, Any]:
        return build_document(
            result=self.area, period=self.period, options=self.options, children=self.children, computed_at=computed_at
        )


def find_area(code_or_prefix: str) -> Area:
    """An area by its 12-digit code or significant prefix (2, 4, 6, 9 or 12 digits)."""
    text = (code_or_prefix or "").strip()
    try:
        code = text if codes.is_valid_code(text) else codes.code_from_prefix(text)
    except codes.AreaCodeError:
        raise AreaNotFound(
            _("区划代码“%(code)s”格式不正确：应为12位代码，或其2、4、6、9位有效前缀。") % {"code": text[:20]}
        ) from None
    area = Area.objects.filter(code=code).first()
    if area is None:
        raise AreaNotFound(_("未找到区划代码为“%(code)s”的行政区划。") % {"code": code})
    return area


def _result(area: Area, tally: Tally, period: Period) -> AreaResult:
    population = population_of(area.code, period.population_year)
    return AreaResult(
        area=AreaRef(area.code, area.name, area.level),
        tally=tally,
        population=population.total,
        missing_population=tuple(population.missing),
    )


def compute(area: Area, period: Period, options: Options | None = None, *, children: bool = False) -> Report:
    """The report for *area* and *period*; options default to the METRICS_* settings."""
    options = options or default_options()
    prefix = codes.significant_prefix(area.code)
    child_areas = list(Area.objects.filter(parent=area).order_by("code")) if children else []
    child_prefixes = [(codes.significant_prefix(child.code), child.code) for child in child_areas]
    total = Tally()
    by_child = {child.code: Tally() for child in child_areas}
    for facts in iter_facts(prefix, period):
        member = membership(facts, prefix, period, options)
        total.add(member)
        if child_prefixes:
            holder = facts.holder_on(period.cutoff_date) or ""
            for child_prefix, child_code in child_prefixes:
                if holder.startswith(child_prefix):
                    by_child[child_code].add(member)
                    break
    return Report(
        area=_result(area, total, period),
        period=period,
        options=options,
        children=[_result(child, by_child[child.code], period) for child in child_areas],
    )


def compute_indicators(
    area_code: str,
    period: Period,
    options: Options | None = None,
    children: bool = False,
    computed_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The indicator JSON document (exchange.md §2). Raises AreaNotFound with a message for the user."""
    return compute(find_area(area_code), period, options, children=children).document(computed_at)
