"""The printed report (reportlab, embedded CJK font).

Page 1 is a one-page summary: the area's indicators against their targets, a matrix of the child areas
(townships of a county) × indicators with the rates below target marked, and the monthly trend with labelled
months. When the matrix would not fit on page 1 (a county of many townships), page 1 shows per indicator how many
areas are below target and the lowest, and the matrix opens page 2. The detail follows: each area's figures and
counts, the trend's values and the footer. Every page carries its number and the verification code. Every text
placed in a Paragraph is escaped (an area named ``A & B <x>`` is text, not markup).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

if TYPE_CHECKING:
    from metrics.models import PdfExport
    from metrics.reports.rows import AreaSection, CountRow, Row

FONT = "CJK"
FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
if FONT not in pdfmetrics.getRegisteredFontNames():
    pdfmetrics.registerFont(TTFont(FONT, FONT_PATH, subfontIndex=0))

TITLE = ParagraphStyle("title", fontName=FONT, fontSize=16, leading=22)
HEADING = ParagraphStyle("heading", fontName=FONT, fontSize=11, leading=16, spaceBefore=6, spaceAfter=3)
BODY = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=13)
SMALL = ParagraphStyle("small", fontName=FONT, fontSize=6.5, leading=8)
BELOW_TARGET = colors.Color(1, 0.85, 0.85)
MARK = "▼"  # printed beside a rate below its target (the colour alone does not survive a grey copy)
PALETTE = (colors.HexColor("#1f6feb"), colors.HexColor("#2da44e"), colors.HexColor("#bf8700"))
MARGIN = 15 * mm


@dataclass(frozen=True)
class PdfContent:
    period_label: str
    cutoff: str
    own: AreaSection
    children: Sequence[AreaSection]
    footer: Sequence[str]
    trend: Sequence[tuple[str, Sequence[float | None]]]  # label, monthly values in %
    verification_code: str


def para(text: object, style: ParagraphStyle = BODY) -> Paragraph:
    """A Paragraph of plain text: markup characters are escaped."""
    return Paragraph(escape(str(text)), style)


def _grid(data: list[list[object]], widths: Sequence[float] | None = None, size: float = 8) -> Table:
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("FONTSIZE", (0, 0), (-1, -1), size),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


def _figure(value: int | str | None) -> str:
    return _("未知") if value is None else str(value)


def _met_text(met: bool | None) -> str:
    return {True: _("达标"), False: _("未达标"), None: "—"}[met]


def _indicator_table(rows: Sequence[Row]) -> Table:
    data: list[list[object]] = [[_("指标"), _("分子"), _("分母"), _("率"), _("目标"), _("是否达标")]]
    data += [
        [
            para(row.label, SMALL),
            _figure(row.numerator),
            _figure(row.denominator),
            row.rate,
            row.target,
            _met_text(row.met),
        ]
        for row in rows
    ]
    table = _grid(data, widths=(80, 40, 48, 42, 40, 40), size=7.5)
    table.setStyle(
        TableStyle([("BACKGROUND", (5, i), (5, i), BELOW_TARGET) for i, row in enumerate(rows, 1) if row.met is False])
    )
    return table


def _count_table(counts: Sequence[CountRow]) -> Table:
    data: list[list[object]] = [[_("计数"), _("人数")]]
    data += [[para(count.label, SMALL), str(count.value)] for count in counts]
    return _grid(data, widths=(130, 40), size=7.5)


def _matrix(children: Sequence[AreaSection]) -> Table:
    """Child areas × indicators: each rate, marked when below its target."""
    names = [row.name for row in children[0].rows]
    header: list[object] = [para(_("地区"), SMALL), *(para(row.label, SMALL) for row in children[0].rows)]
    data: list[list[object]] = [header]
    marks: list[tuple[int, int]] = []
    for r, section in enumerate(children, 1):
        line: list[object] = [para(section.area.name, SMALL)]
        for c, row in enumerate(section.rows, 1):
            line.append(f"{row.rate}{MARK}" if row.met is False else row.rate)
            if row.met is False:
                marks.append((c, r))
        data.append(line)
    free = A4[0] - 2 * MARGIN - 62
    table = _grid(data, widths=(62, *([free / len(names)] * len(names))), size=6.5)
    table.setStyle(TableStyle([("BACKGROUND", cell, cell, BELOW_TARGET) for cell in marks]))
    return table


def _chart(trend: Sequence[tuple[str, Sequence[float | None]]]) -> Drawing:
    """The monthly rates (0–100%), months labelled along the bottom, a legend above."""
    drawing = Drawing(A4[0] - 2 * MARGIN, 165)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 36, 20, int(drawing.width) - 50, 110
    chart.data = [[*values, *([None] * (12 - len(values)))] for _label, values in trend]  # the whole year's axis
    chart.categoryAxis.categoryNames = [_("%(m)s月") % {"m": m} for m in range(1, 13)]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 25
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%d%%"
    for index in range(len(trend)):
        chart.lines[index].strokeColor = PALETTE[index % len(PALETTE)]
        chart.lines[index].strokeWidth = 1.5
        chart.lines[index].symbol = makeMarker("FilledCircle", size=3, fillColor=PALETTE[index % len(PALETTE)])
    # reportlab draws a line through each series and refuses one of a single point (a January or a one-month
    # report): then the months are shown as points only.
    if any(sum(value is not None for value in values) < 2 for _label, values in trend):
        chart.joinedLines = 0
    drawing.add(chart)
    x = 36.0
    for index, (label, _values) in enumerate(trend):
        colour = PALETTE[index % len(PALETTE)]
        drawing.add(Line(x, 152, x + 14, 152, strokeColor=colour, strokeWidth=2))
        drawing.add(String(x + 18, 149, label, fontName=FONT, fontSize=7.5))
        x += 26 + pdfmetrics.stringWidth(label, FONT, 7.5)
    return drawing


def _trend_table(trend: Sequence[tuple[str, Sequence[float | None]]]) -> Table:
    months = max(len(values) for _label, values in trend)
    header: list[object] = [_("指标"), *(_("%(m)s月") % {"m": m} for m in range(1, months + 1))]
    data: list[list[object]] = [header]
    data += [[para(label, SMALL), *(f"{v:.1f}%" if v is not None else "—" for v in values)] for label, values in trend]
    return _grid(data, widths=(70, *([(A4[0] - 2 * MARGIN - 70) / 12] * months)), size=6.5)


def _heading(content: PdfContent) -> list[Flowable]:
    area = content.own.area
    return [
        para(_("严重精神障碍患者管理指标报告"), TITLE),
        para(
            f"{_('地区')}：{area.name} ({area.code})　{_('统计期')}：{content.period_label}　"
            f"{_('统计截止')}：{content.cutoff}"
        ),
        Spacer(1, 4),
    ]


def _missing(section: AreaSection) -> list[Flowable]:
    if not section.missing_population:
        return []
    return [para(_("以下地区缺少常住人口数，报告患病率未知：") + "、".join(section.missing_population), SMALL)]


def _compliance(children: Sequence[AreaSection]) -> Table:
    """For a matrix too long for page 1: per indicator, how many child areas are below target and the lowest."""
    header: list[object] = [para(_("指标"), SMALL), para(_("未达标地区数"), SMALL), para(_("最低的地区"), SMALL)]
    data: list[list[object]] = [header]
    marks: list[tuple[int, int]] = []
    for index, name in enumerate(row.name for row in children[0].rows):
        rows = [(section, next(row for row in section.rows if row.name == name)) for section in children]
        below = sum(row.met is False for _section, row in rows)
        rated = [(row.value, section.area.name, row.rate) for section, row in rows if row.value is not None]
        lowest = min(rated, key=lambda item: item[0]) if rated else None
        label = rows[0][1].label
        data.append(
            [
                para(label, SMALL),
                f"{below} / {len(children)}",
                para(f"{lowest[1]} {lowest[2]}" if lowest else "—", SMALL),
            ]
        )
        if below:
            marks.append((1, index + 1))
    table = _grid(data, widths=(120, 70, A4[0] - 2 * MARGIN - 190), size=7.5)
    table.setStyle(TableStyle([("BACKGROUND", cell, cell, BELOW_TARGET) for cell in marks]))
    return table


def _height(flowables: Sequence[Flowable]) -> float:
    width, height = A4[0] - 2 * MARGIN, A4[1] - 2 * MARGIN
    return sum(f.wrap(width, height)[1] + f.getSpaceBefore() + f.getSpaceAfter() for f in flowables)


def _fits_one_page(flowables: Sequence[Flowable]) -> bool:
    frame = A4[1] - 2 * MARGIN - 24  # the frame's own padding and a little room
    return _height(flowables) <= frame


def _matrix_heading() -> Paragraph:
    return para(_("下级地区指标（%(mark)s 红底：未达标）") % {"mark": MARK}, HEADING)


def _summary(content: PdfContent) -> tuple[list[Flowable], list[Flowable]]:
    """Page 1, and what moves to page 2 when the child-area matrix would not fit on page 1 (a county of many
    townships): then page 1 shows, per indicator, how many areas are below target and the lowest, and the full
    matrix opens the following pages."""
    head: list[Flowable] = [
        *_heading(content),
        para(_("本地区指标与目标"), HEADING),
        _indicator_table(content.own.rows),
        *_missing(content.own),
    ]
    trend: list[Flowable] = [
        para(_("逐月趋势（%）"), HEADING),
        _chart(content.trend) if content.trend else para(_("趋势图因小数保护未显示。")),
    ]
    if not content.children:
        return [*head, *trend], []
    matrix: list[Flowable] = [_matrix_heading(), _matrix(content.children)]
    if _fits_one_page([*head, *matrix, *trend]):
        return [*head, *matrix, *trend], []
    compact: list[Flowable] = [
        para(_("下级地区达标情况（共 %(n)d 个；逐个地区的指标见第 2 页起）") % {"n": len(content.children)}, HEADING),
        _compliance(content.children),
    ]
    return [*head, *compact, *trend], matrix


def _detail(section: AreaSection) -> list[Flowable]:
    area = section.area
    return [
        para(f"{area.name} ({area.code})", HEADING),
        *_missing(section),
        Table(
            [[_indicator_table(section.rows), _count_table(section.counts)]],
            hAlign="LEFT",
            style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]),
        ),
    ]


def _story(content: PdfContent) -> list[Flowable]:
    first_page, moved = _summary(content)
    story = [*first_page, PageBreak(), *moved]
    for section in (content.own, *content.children):
        story.append(KeepTogether(_detail(section)))  # an area's heading never ends a page
    if content.trend:
        story += [para(_("逐月数值"), HEADING), _trend_table(content.trend)]
    story.append(Spacer(1, 8))
    story += [para(line) for line in content.footer]
    return story


def _build(content: PdfContent, total: int | None) -> tuple[bytes, int]:
    """One rendering; the page count is known only afterwards, so the caller renders twice."""
    out = BytesIO()
    pages = [0]

    def stamp(canvas: Canvas, document: BaseDocTemplate) -> None:
        pages[0] = document.page
        line = _("第 %(page)d 页，共 %(total)s 页　验证码：%(code)s") % {
            "page": document.page,
            "total": total if total is not None else "—",
            "code": content.verification_code,
        }
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawCentredString(A4[0] / 2, MARGIN / 2, line)
        canvas.restoreState()

    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=_("严重精神障碍患者管理指标报告"),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
    )
    document.build(_story(content), onFirstPage=stamp, onLaterPages=stamp)
    return out.getvalue(), pages[0]


def render_pdf(content: PdfContent) -> bytes:
    _draft, total = _build(content, None)
    return _build(content, total)[0]


def content_for_export(export: PdfExport) -> tuple[PdfContent, str]:
    """Compute the report of an export; the verification code is an HMAC of the figures (canonical JSON)."""
    from metrics.indicators.options import default_options, export_suppression, footer_lines
    from metrics.indicators.periods import parse_period
    from metrics.indicators.suppression import suppress_document
    from metrics.reports.engine import compute, find_area
    from metrics.reports.rows import report_sections
    from metrics.reports.source import report_source
    from metrics.reports.tasks import verification_code
    from metrics.reports.trend import crosswalk_note, trend_values

    area = find_area(export.area_code)
    period = parse_period(export.period)
    options = default_options(**export.options)
    suppression = export_suppression(export.requested_by, area.level)
    with report_source() as source:
        report = compute(area, period, options, children=True)
        trend = trend_values(area, period, options)
    document = suppress_document(report.document(), suppression)
    document.pop("computed_at", None)
    canonical = json.dumps([export.pk, document], sort_keys=True, ensure_ascii=False, default=str).encode()
    code = verification_code(canonical)
    own, *children = report_sections(report, period.year, suppression)
    # A small area's monthly rates would reveal what its suppressed cells hide: no trend then.
    own_suppressed = any(row.suppressed for row in own.rows)
    content = PdfContent(
        period_label=str(period.full_label),
        cutoff=period.cutoff_date.isoformat(),
        own=own,
        children=children,
        footer=[
            *(str(line) for line in footer_lines(options, suppression)),
            *crosswalk_note(area.code),
            source.label(),
        ],
        trend=[] if own_suppressed else trend,
        verification_code=code,
    )
    return content, code
