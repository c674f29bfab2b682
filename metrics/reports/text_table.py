"""The report as a plain-text table for a terminal (``indicators --format table``).

Chinese characters take two columns on a terminal, so padding counts display width, not characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from casemgmt.areas.population import name_missing
from metrics.indicators.definitions import Options
from metrics.indicators.labels import COUNT_LABELS, DEATH_CAUSE_LABELS, INDICATOR_LABELS, format_rate
from metrics.indicators.options import footer_lines
from metrics.indicators.periods import Period

CHILD_COLUMNS = ("management_rate", "regular_management_rate", "medication_rate", "regular_medication_rate")


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int, *, right: bool = False) -> str:
    filler = " " * max(0, width - display_width(text))
    return filler + text if right else text + filler


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned first column, right-aligned figures."""
    widths = [max(display_width(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(pad(cell, widths[i], right=i > 0) for i, cell in enumerate(row))

    return [line(header), "  ".join("-" * w for w in widths), *(line(row) for row in rows)]


def _figure(value: object) -> str:
    return "—" if value is None else str(value)


def render(document: dict[str, Any], period: Period, options: Options) -> str:
    """The JSON document of ``metrics.reports.document`` as text, with numerators and denominators beside rates."""
    area = document["area"]
    out = [
        _("%(name)s（%(code)s）  %(period)s")
        % {"name": area["name"], "code": area["code"], "period": period.full_label},
        "",
    ]
    rows = [
        [
            str(INDICATOR_LABELS[name]),
            _figure(entry["numerator"]),
            _figure(entry["denominator"]),
            format_rate(entry["value"], name),
        ]
        for name, entry in document["indicators"].items()
    ]
    out += table([_("指标"), _("分子"), _("分母"), _("率")], rows)
    if "missing_population" in document:
        named = name_missing(document["missing_population"], area["code"])
        out.append(_("常住人口缺失，报告患病率未知：%(codes)s") % {"codes": "、".join(named)})
    out.append("")
    counts = document["counts"]
    count_rows = [[str(label), str(counts[key])] for key, label in COUNT_LABELS.items()]
    count_rows += [
        [_("死亡：%(cause)s") % {"cause": DEATH_CAUSE_LABELS[cause]}, str(n)]
        for cause, n in counts["deaths_by_cause"].items()
    ]
    out += table([_("计数"), _("人数")], count_rows)
    if document["children"]:
        out.append("")
        header = [_("下级区划"), str(COUNT_LABELS["registered"]), *(str(INDICATOR_LABELS[n]) for n in CHILD_COLUMNS)]
        child_rows = [
            [
                child["area"]["name"],
                str(child["counts"]["registered"]),
                *(format_rate(child["indicators"][n]["value"], n) for n in CHILD_COLUMNS),
            ]
            for child in document["children"]
        ]
        out += table(header, child_rows)
    out += ["", *footer_lines(options), _("计算时间：%(at)s") % {"at": document["computed_at"]}]
    return "\n".join(out)
