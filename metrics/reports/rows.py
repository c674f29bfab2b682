"""The one Row builder shared by the report page, the spreadsheet and the PDF: one row per indicator, and one
per count of the period (domain.md §11: new registrations, deaths by cause, 肇事/肇祸/轻度滋事, emergencies,
open cases, overdue).

Each row carries display values (rate rounded for display only, the target and whether it is met) and the
figures themselves, with small counts replaced by "<5" when a suppression policy applies
(metrics.indicators.suppression).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from casemgmt.areas.population import name_missing
from metrics.indicators.definitions import INDICATOR_NAMES, Options
from metrics.indicators.labels import COUNT_LABELS, DEATH_CAUSE_LABELS, INDICATOR_LABELS, PER_MILLE, format_rate
from metrics.indicators.suppression import NONE, POPULATION_DENOMINATOR, Suppression
from metrics.indicators.targets import is_met, targets_for
from metrics.reports.document import AreaRef, AreaResult, area_json
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
    value: float | None = None  # the unrounded rate in % (‰ for prevalence); None when not shown

    @property
    def per_mille(self) -> bool:
        return self.name in PER_MILLE


@dataclass(frozen=True)
class CountRow:
    """One count of the period: a number, or the suppression mark."""

    label: str
    value: int | str
    key: str = ""


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
                value=None if hide_numerator or hide_denominator else figure["value"],
            )
        )
    return rows


def count_rows(result: AreaResult, options: Options, suppression: Suppression = NONE) -> list[CountRow]:
    """Every count of the JSON document's ``counts`` in the order of COUNT_LABELS, then deaths by cause."""
    counts = area_json(result, options)["counts"]
    level = result.area.level

    def shown(value: int) -> int | str:
        return suppression.mark if suppression.hides(value, level) else value

    rows = [CountRow(str(label), shown(int(counts[key])), key) for key, label in COUNT_LABELS.items()]  # type: ignore[literal-required]
    rows += [
        CountRow(_("死亡：%(cause)s") % {"cause": DEATH_CAUSE_LABELS[cause]}, shown(n), f"deaths_by_cause.{cause}")
        for cause, n in counts["deaths_by_cause"].items()
    ]
    return rows


@dataclass(frozen=True)
class AreaSection:
    """One area's part of a report: its indicator rows, its counts and the areas lacking a population."""

    area: AreaRef
    rows: list[Row]
    counts: list[CountRow]
    missing_population: list[str]


def area_section(result: AreaResult, year: int, options: Options, suppression: Suppression = NONE) -> AreaSection:
    return AreaSection(
        area=result.area,
        rows=indicator_rows(result, year, options, suppression),
        counts=count_rows(result, options, suppression),
        missing_population=name_missing(list(result.missing_population), result.area.code)
        if result.population is None
        else [],
    )


def report_sections(report: Report, year: int, suppression: Suppression = NONE) -> list[AreaSection]:
    """The area's section, then each child's: the body of the spreadsheet and the PDF."""
    return [area_section(result, year, report.options, suppression) for result in [report.area, *report.children]]
