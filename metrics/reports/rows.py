"""The one Row builder shared by the report page, the spreadsheet and the PDF: one row per indicator.

Each row carries display values (rate rounded for display only, the target and whether it is met) and the
figures themselves, with small counts replaced by "<5" when a suppression policy applies
(metrics.indicators.suppression).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from metrics.indicators.definitions import INDICATOR_NAMES, Options
from metrics.indicators.labels import INDICATOR_LABELS, format_rate
from metrics.indicators.suppression import NONE, POPULATION_DENOMINATOR, Suppression
from metrics.indicators.targets import is_met, targets_for
from metrics.reports.document import AreaResult, area_json
from metrics.reports.engine import Report


@dataclass(frozen=True)
class Row:
    label: str
    numerator: int | str
    denominator: int | str | None  # None: unknown (a population is missing)
    rate: str
    target: str
    met: bool | None
    name: str = ""  # the indicator's key (metrics.indicators.definitions.INDICATOR_NAMES)
    suppressed: bool = False


def indicator_rows(result: AreaResult, year: int, options: Options, suppression: Suppression = NONE) -> list[Row]:
    body = area_json(result, options)["indicators"]
    targets = targets_for(result.area.code, year)
    level = result.area.level
    rows = []
    for name in INDICATOR_NAMES:
        figure = body[name]
        target = targets.get(name)
        numerator: int | str = figure["numerator"]
        denominator: int | str | None = figure["denominator"]
        hide_numerator = suppression.hides(figure["numerator"], level)
        hide_denominator = name not in POPULATION_DENOMINATOR and suppression.hides(figure["denominator"], level)
        if hide_numerator:
            numerator = suppression.mark
        if hide_denominator:
            denominator = suppression.mark
        if hide_numerator or hide_denominator:
            rate, met = "—", None
        else:
            rate = format_rate(figure["value"], name) if figure["denominator"] is not None else _("未知")
            met = is_met(target, figure["value"])
        rows.append(
            Row(
                label=str(INDICATOR_LABELS[name]),
                numerator=numerator,
                denominator=denominator,
                rate=rate,
                target=f"≥{target.value.normalize():f}{target.unit}" if target else "—",
                met=met,
                name=name,
                suppressed=hide_numerator or hide_denominator,
            )
        )
    return rows


def report_sections(report: Report, year: int, suppression: Suppression = NONE) -> list[tuple[str, list[Row]]]:
    """The area's rows, then each child's: the body of the spreadsheet and the PDF."""
    results = [report.area, *report.children]
    return [(result.area.name, indicator_rows(result, year, report.options, suppression)) for result in results]
