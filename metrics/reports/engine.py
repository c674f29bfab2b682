"""The indicator engine: an area and a period in, the indicator document of exchange.md §2 out.

``compute`` reads the per-patient state (``metrics.state.read``): one grouped query over the area's rows, fresh
because every write of facts updates the state in its transaction; rows the calendar made stale are refreshed
first when they are few, else the report is served as of an earlier day while they are refreshed in the
background (``Report.as_of``, issue 17 §2). A period the state does not hold (a
running period computed for a day other than today, as some tests do) or a database upgraded with patients
whose state was never built (``rebuild_indicator_state``) falls back to ``compute_direct``.

``compute_direct`` is the direct definition: one pass over the area's patients (``metrics.indicators.facts``,
chunked) computes each patient's memberships once with the pure definitions; a patient also lands in the
child area whose prefix holds their record at C, so ``children=True`` costs no second pass. Populations
come from ``casemgmt.areas.population``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from casemgmt.areas import codes
from casemgmt.areas.history import in_force_on
from casemgmt.areas.models import Area
from casemgmt.areas.population import PopulationResult, Subtree, population_of
from casemgmt.readdb import read_alias
from metrics.indicators.definitions import Options, Tally, membership
from metrics.indicators.facts import iter_facts
from metrics.indicators.options import default_options
from metrics.indicators.periods import Period
from metrics.reports.document import AreaRef, AreaResult, build_document
from metrics.reports.source import after_primary_write
from metrics.state.calendar import answers, slot_of
from metrics.state.read import is_built, tallies
from metrics.state.tasks import refresh_in_background
from metrics.state.write import freshen


class AreaNotFound(LookupError):
    """The message is for the user."""


@dataclass
class Report:
    """Everything a report needs: the area's result, its children's, the period and the rules used."""

    area: AreaResult
    period: Period
    options: Options
    children: list[AreaResult] = field(default_factory=list)
    as_of: dt.date | None = None  # served from state older than the cut-off (``_fresh``)

    def document(self, computed_at: dt.datetime | None = None) -> dict[str, Any]:
        return build_document(
            result=self.area,
            period=self.period,
            options=self.options,
            children=self.children,
            computed_at=computed_at,
            as_of=self.as_of,
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
    area = Area.objects.using(read_alias()).filter(code=code).first()
    if area is None:
        raise AreaNotFound(_("未找到区划代码为“%(code)s”的行政区划。") % {"code": code})
    return area


def _children(area: Area, period: Period) -> list[Area]:
    """The area's children in force at the cut-off: a report for a period before an area change lists the areas
    of that time (``casemgmt.areas.history``)."""
    children = Area.objects.using(read_alias()).filter(in_force_on(period.cutoff_date), parent=area.code)
    return list(children.order_by("code"))


def _fresh(prefix: str, year: int, cutoff: dt.date) -> dt.date | None:
    """Refresh the few state rows the calendar made stale (on the primary; a report reading a replica then waits
    for it to hold them, or reads the primary), or, when there are more than ``METRICS_INLINE_REFRESH_LIMIT``
    patients, queue their refresh and return the day the state answers as of (``metrics.state.write.freshen``)."""
    freshness = freshen(prefix, year, cutoff, limit=settings.METRICS_INLINE_REFRESH_LIMIT)
    if freshness.refreshed:
        after_primary_write()
    if freshness.as_of is not None:
        refresh_in_background(prefix)
    return freshness.as_of


def _result(area: Area, tally: Tally, population: PopulationResult) -> AreaResult:
    return AreaResult(
        area=AreaRef(area.code, area.name, area.level),
        tally=tally,
        population=population.total,
        missing_population=tuple(population.missing),
        population_year=population.year,
    )


def _report(
    area: Area,
    total: Tally,
    by_child: list[tuple[Area, Tally]],
    period: Period,
    options: Options,
    *,
    as_of: dt.date | None = None,
) -> Report:
    """The report of *area* and its children's tallies, their populations resolved from one read of the subtree."""
    populations = Subtree(area.code, period.population_year)
    return Report(
        area=_result(area, total, populations.population(area.code)),
        period=period,
        options=options,
        children=[_result(child, tally, populations.population(child.code)) for child, tally in by_child],
        as_of=as_of,
    )


def compute(
    area: Area, period: Period, options: Options | None = None, *, children: bool = False, within: Report | None = None
) -> Report:
    """The report for *area* and *period*; options default to the METRICS_* settings. *within*: a report of an
    enclosing area for the same period just computed (a spreadsheet's levels below), whose freshening covered
    this area too: this one shares its "as of" instead of looking at the calendar again."""
    options = options or default_options()
    slot = slot_of(period)
    if slot is None or not answers(period) or not is_built():
        return compute_direct(area, period, options, children=children)
    prefix = codes.significant_prefix(area.code)
    as_of = within.as_of if within is not None else _fresh(prefix, period.year, period.cutoff_date)
    child_areas = _children(area, period) if children else []
    child_length = len(codes.significant_prefix(child_areas[0].code)) if child_areas else None
    groups = tallies(prefix, period.year, [slot], options, child_length=child_length)
    total = Tally()
    for by_slot in groups.values():
        total.merge(by_slot[slot])
    by_child = [
        (child, groups.get(codes.significant_prefix(child.code), {slot: Tally()})[slot]) for child in child_areas
    ]
    return _report(area, total, by_child, period, options, as_of=as_of)


def compute_months(area: Area, periods: list[Period], options: Options | None = None) -> list[AreaResult]:
    """The area's result for each month of one year (the report's trend): one query when the state holds them."""
    options = options or default_options()
    slots = [slot_of(period) for period in periods]
    if not periods or not all(answers(period) for period in periods) or not is_built():
        return [compute(area, period, options).area for period in periods]
    prefix = codes.significant_prefix(area.code)
    _fresh(prefix, periods[0].year, max(period.cutoff_date for period in periods))  # the report says as of when
    known = [slot for slot in slots if slot is not None]
    by_slot = tallies(prefix, periods[0].year, known, options).get("", {slot: Tally() for slot in known})
    population = population_of(area.code, periods[0].population_year)  # one year: one population
    return [_result(area, by_slot[slot], population) for slot in known]


def compute_direct(area: Area, period: Period, options: Options | None = None, *, children: bool = False) -> Report:
    """The report computed from the pure definitions over every candidate patient (the reference path)."""
    options = options or default_options()
    prefix = codes.significant_prefix(area.code)
    child_areas = _children(area, period) if children else []
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
    return _report(area, total, [(child, by_child[child.code]) for child in child_areas], period, options)


def compute_indicators(
    area_code: str,
    period: Period,
    options: Options | None = None,
    children: bool = False,
    computed_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The indicator JSON document (exchange.md §2). Raises AreaNotFound with a message for the user."""
    return compute(find_area(area_code), period, options, children=children).document(computed_at)
