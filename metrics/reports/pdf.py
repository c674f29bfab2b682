"""The printed report (reportlab): embedded CJK font, header, the table with targets, the trend chart, and a
verification code printed on the page."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

if TYPE_CHECKING:
    from metrics.models import PdfExport
    from metrics.reports.rows import Row

FONT = "CJK"
FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
if FONT not in pdfmetrics.getRegisteredFontNames():
    pdfmetrics.registerFont(TTFont(FONT, FONT_PATH, subfontIndex=0))

TITLE = ParagraphStyle("title", fontName=FONT, fontSize=16, leading=22)
BODY = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=13)


@dataclass(frozen=True)
class PdfContent:
    area_name: str
    period_label: str
    cutoff: str
    sections: Sequence[tuple[str, Sequence[Row]]]
    footer: Sequence[str]
    trend: Sequence[tuple[str, Sequence[float | None]]]  # label, monthly values in %
    verification_code: str


def _table(sections: Iterable[tuple[str, Sequence[Row]]]) -> Table:
    met_text = {True: _("达标"), False: _("未达标"), None: "—"}
    data: list[list[str]] = [[_("地区"), _("指标"), _("分子"), _("分母"), _("率"), _("目标"), _("是否达标")]]
    for area_name, rows in sections:
        for row in rows:
            denominator = str(row.denominator) if row.denominator is not None else _("未知")
            data.append(
                [area_name, row.label, str(row.numerator), denominator, row.rate, row.target, met_text[row.met]]
            )
    table = Table(data, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
            ]
        )
    )
    return table


def _chart(trend: Sequence[tuple[str, Sequence[float | None]]]) -> Drawing:
    drawing = Drawing(460, 170)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 40, 30, 400, 120
    chart.data = [[value if value is not None else 0 for value in values] or [0] for _label, values in trend]
    months = max((len(values) for _label, values in trend), default=1)
    chart.categoryAxis.categoryNames = [f"{m}月" for m in range(1, months + 1)]
    chart.categoryAxis.labels.fontName = FONT
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = 100
    chart.valueAxis.labels.fontName = FONT
    palette = (colors.blue, colors.green, colors.orange)
    for index in range(len(trend)):
        chart.lines[index].strokeColor = palette[index % len(palette)]
    drawing.add(chart)
    return drawing


def render_pdf(content: PdfContent) -> bytes:
    out = BytesIO()
    document = SimpleDocTemplate(out, pagesize=A4, title=_("严重精神障碍患者管理指标报告"))
    story = [
        Paragraph(_("严重精神障碍患者管理指标报告"), TITLE),
        Paragraph(f"{_('地区')}：{content.area_name}　{_('统计期')}：{content.period_label}", BODY),
        Paragraph(f"{_('统计截止')}：{content.cutoff}", BODY),
        Spacer(1, 8),
        _table(content.sections),
        Spacer(1, 12),
        *(
            [Paragraph("、".join(label for label, _values in content.trend), BODY), _chart(content.trend)]
            if content.trend
            else [Paragraph(_("趋势图因小数保护未显示。"), BODY)]
        ),
        Spacer(1, 8),
        *[Paragraph(str(line), BODY) for line in content.footer],
        Paragraph(f"{_('验证码')}：{content.verification_code}", BODY),
    ]
    document.build(story)
    return out.getvalue()


def content_for_export(export: PdfExport) -> tuple[PdfContent, str]:
    """Compute the report of an export; the verification code is an HMAC of the figures (canonical JSON)."""
    from metrics.indicators.options import default_options, export_suppression, footer_lines
    from metrics.indicators.periods import parse_period
    from metrics.indicators.suppression import suppress_document
    from metrics.reports.engine import compute, find_area
    from metrics.reports.rows import report_sections
    from metrics.reports.tasks import verification_code
    from metrics.reports.trend import trend_values

    area = find_area(export.area_code)
    period = parse_period(export.period)
    options = default_options(**export.options)
    report = compute(area, period, options, children=True)
    suppression = export_suppression(export.requested_by, area.level)
    document = suppress_document(report.document(), suppression)
    document.pop("computed_at", None)
    canonical = json.dumps([export.pk, document], sort_keys=True, ensure_ascii=False, default=str).encode()
    code = verification_code(canonical)
    sections = report_sections(report, period.year, suppression)
    # A small area's monthly rates would reveal what its suppressed cells hide: no trend then.
    own_suppressed = any(row.suppressed for row in sections[0][1])
    content = PdfContent(
        area_name=area.name,
        period_label=str(period.full_label),
        cutoff=period.cutoff_date.isoformat(),
        sections=sections,
        footer=[str(line) for line in footer_lines(options, suppression)],
        trend=[] if own_suppressed else trend_values(area, period, options),
        verification_code=code,
    )
    return content, code
