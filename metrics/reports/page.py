"""The report page's context: the area's rows linked to their patient lists, one row per child area, the
pickers, the trend and the footer. Kept out of the view so the view stays a few lines."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from casemgmt.accounts.models import User
from casemgmt.areas.crosswalk import crosswalk
from casemgmt.areas.population import name_missing
from metrics.indicators.definitions import INDICATOR_NAMES
from metrics.indicators.labels import INDICATOR_LABELS
from metrics.indicators.options import (
    default_options,
    export_suppression,
    footer_lines,
    option_fields,
    suppression_lines,
)
from metrics.reports.engine import Report
from metrics.reports.forms import ReportQuery
from metrics.reports.patient_lists import indicator_sets
from metrics.reports.pickers import area_choices, period_fields, years_offered
from metrics.reports.rows import Row, count_rows, indicator_rows
from metrics.reports.trend import chart_frame, trend_series


def _linked_rows(rows: list[Row], query: ReportQuery, area_code: str) -> list[dict[str, object]]:
    """Rows with the links to their numerator's and denominator's masked patient lists."""
    base = urlencode({**query.params(), "area": area_code})
    linked = []
    for row in rows:
        numerator_set, denominator_set = indicator_sets(row.name, query.options)
        linked.append(
            {
                "row": row,
                "numerator_url": f"{reverse('metrics:patients')}?{base}&set={numerator_set}",
                "denominator_url": f"{reverse('metrics:patients')}?{base}&set={denominator_set}"
                if denominator_set
                else "",
            }
        )
    return linked


def _picker_context(user: User, query: ReportQuery) -> dict[str, object]:
    return {
        "area_choices": area_choices(user, query.area),
        "period_fields": period_fields(query.period),
        "years": years_offered(),
        "months": range(1, 13),
        "quarters": range(1, 5),
        "option_fields": [
            (name, label, choices, getattr(query.options, name)) for name, label, choices in option_fields()
        ],
        "options_changed": query.options != default_options(),
    }


def _child_rows(report: Report, query: ReportQuery) -> list[dict[str, object]]:
    """One row per child area with every indicator (未达标 marked) and every count; each area drills down."""
    year = query.period.year
    return [
        {
            "area": child.area,
            "cells": indicator_rows(child, year, query.options),
            "counts": count_rows(child, query.options),
            "drill_url": f"{reverse('metrics:report')}?{urlencode({**query.params(), 'area': child.area.code})}",
        }
        for child in report.children
    ]


def _earlier_population_year(report: Report, query: ReportQuery) -> int | None:
    """The year whose population figures the prevalence used, when it is not the period's own."""
    year = report.area.population_year
    return year if year is not None and year != query.period.population_year else None


def page_context(user: User, query: ReportQuery, report: Report) -> dict[str, object]:
    rows = indicator_rows(report.area, query.period.year, query.options)
    return {
        "query": query,
        "area": report.area,
        "rows": _linked_rows(rows, query, query.area.code),
        "children": _child_rows(report, query),
        "child_columns": [INDICATOR_LABELS[name] for name in INDICATOR_NAMES],
        "counts": count_rows(report.area, query.options),
        "missing_population": name_missing(list(report.area.missing_population), report.area.area.code),
        "population_year": _earlier_population_year(report, query),
        "footer": footer_lines(report.options),
        "export_note": suppression_lines(export_suppression(user, query.area.level)),
        "trend": trend_series(query.area, query.period, query.options),
        "chart": chart_frame(),
        "crosswalk": crosswalk(query.area.code),
        **_picker_context(user, query),
    }
