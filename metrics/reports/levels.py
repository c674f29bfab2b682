"""The report's areas level by level below its own area, down to townships: the children, then theirs.

A city's spreadsheet has a sheet of its counties and one of their townships; a county's, one of its townships.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casemgmt.areas import codes
from casemgmt.areas.models import Area
from casemgmt.readdb import read_alias
from metrics.indicators.suppression import NONE, Suppression
from metrics.reports.document import AreaResult
from metrics.reports.engine import Report, compute
from metrics.reports.rows import AreaSection, area_section

# Sheet names: Excel forbids "/" in them.
LEVEL_NAMES: dict[int, Promise] = {
    codes.PROVINCE: _("省"),
    codes.CITY: _("市"),
    codes.COUNTY: _("县区"),
    codes.TOWNSHIP: _("乡镇"),
    codes.VILLAGE: _("村社区"),
}


def _grandchildren(report: Report, results: list[AreaResult]) -> list[AreaResult]:
    areas = Area.objects.using(read_alias()).in_bulk([result.area.code for result in results], field_name="code")
    return [
        child
        for result in results
        for child in compute(
            areas[result.area.code], report.period, report.options, children=True, within=report
        ).children
    ]


def levels_below(report: Report, suppression: Suppression = NONE) -> list[tuple[str, list[AreaSection]]]:
    """(level name, one section per area of that level), from the children down to the township level."""
    year = report.period.year
    levels: list[tuple[str, list[AreaSection]]] = []
    results = report.children
    while results:
        level = results[0].area.level
        sections = [area_section(result, year, report.options, suppression) for result in results]
        levels.append((str(LEVEL_NAMES[level]), sections))
        if level >= codes.TOWNSHIP:
            break
        results = _grandchildren(report, results)
    return levels
