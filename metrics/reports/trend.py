"""The monthly trend of the key rates for the year of a report: values for the PDF, SVG points for the page."""

from __future__ import annotations

from django.utils.translation import gettext as _

from casemgmt.areas.crosswalk import crosswalk, predecessor_villages
from casemgmt.areas.models import Area
from casemgmt.readdb import read_alias
from metrics.indicators.definitions import Options
from metrics.indicators.labels import INDICATOR_LABELS
from metrics.indicators.periods import Period, parse_period
from metrics.reports.document import AreaResult, area_json
from metrics.reports.engine import compute_months

TREND_INDICATORS = ("regular_management_rate", "medication_rate", "regular_medication_rate")
TREND_COLOURS = ("#1f6feb", "#2da44e", "#bf8700")
CHART_W, CHART_H, CHART_PAD = 600, 220, 36


def trend_results(area: Area, months: list[Period], options: Options | None = None) -> list[AreaResult]:
    """The area's result per month, each month before an area change with the figures of the retired villages
    whose records came to the area (``casemgmt.areas.crosswalk``): the trend runs on across the change."""
    results = compute_months(area, months, options)
    for predecessor in predecessor_villages(area.code):
        before = [i for i, month in enumerate(months) if month.cutoff_date < predecessor.retired_on]
        if not before:
            continue
        old_area = Area.objects.using(read_alias()).get(code=predecessor.code)
        theirs = compute_months(old_area, [months[i] for i in before], options)
        for i, result in zip(before, theirs, strict=True):
            results[i].tally.merge(result.tally)
    return results


def crosswalk_note(area_code: str) -> list[str]:
    """One line for the PDF's footer when area changes touch the area (the page shows the whole table)."""
    count = len(crosswalk(area_code))
    if not count:
        return []
    return [
        _("本地区有%(count)d项区划变更：趋势中变更以前的月份含已并入本地区的原村(居)的数据；对照表见报告页面。")
        % {"count": count}
    ]


def trend_values(area: Area, period: Period, options: Options) -> list[tuple[str, list[float | None]]]:
    """Month by month of the period's year up to the cut-off: the key rates in %."""
    year_period = parse_period(str(period.year), today=period.cutoff_date)
    results = trend_results(area, year_period.months(), options)
    monthly = [area_json(result, options)["indicators"] for result in results]
    return [(str(INDICATOR_LABELS[name]), [month[name]["value"] for month in monthly]) for name in TREND_INDICATORS]


def trend_series(area: Area, period: Period, options: Options) -> list[dict[str, object]]:
    """The key rates (0–100%) as SVG points, each month's point with its value for the label and the table."""
    step = (CHART_W - 2 * CHART_PAD) / 11
    series: list[dict[str, object]] = []
    for (label, values), colour in zip(trend_values(area, period, options), TREND_COLOURS, strict=True):
        marks = []
        for index, value in enumerate(values):
            if value is not None:
                y = CHART_H - CHART_PAD - min(value, 100.0) / 100 * (CHART_H - 2 * CHART_PAD)
                marks.append(
                    {"x": f"{CHART_PAD + index * step:.1f}", "y": f"{y:.1f}", "month": index + 1, "value": value}
                )
        series.append(
            {
                "label": label,
                "colour": colour,
                "points": " ".join(f"{m['x']},{m['y']}" for m in marks),
                "marks": marks,
                "values": [f"{v:.1f}%" if v is not None else "—" for v in values],
            }
        )
    return series


def chart_frame() -> dict[str, object]:
    """The chart's geometry and its axis labels: 0/50/100% on the left, the twelve months along the bottom."""
    step = (CHART_W - 2 * CHART_PAD) / 11
    bottom = CHART_H - CHART_PAD
    return {
        "width": CHART_W,
        "height": CHART_H,
        "pad": CHART_PAD,
        "bottom": bottom,
        "months": [{"x": f"{CHART_PAD + i * step:.1f}", "label": i + 1} for i in range(12)],
        "label_y": bottom + 16,
        "ticks": [
            {"y": f"{bottom - pct / 100 * (CHART_H - 2 * CHART_PAD):.1f}", "label": f"{pct}%"} for pct in (0, 50, 100)
        ],
    }
