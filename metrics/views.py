"""Indicator report pages for area staff: the HTML report and the exchange.md §2 JSON document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from metrics.access import may_view_area
from metrics.definitions import INDICATOR_NAMES
from metrics.document import AreaResult, area_json
from metrics.engine import compute, compute_months
from metrics.forms import QueryError, ReportQuery, parse_query
from metrics.labels import INDICATOR_LABELS, format_rate
from metrics.models import PdfExport
from metrics.options import default_options, footer_lines
from metrics.periods import Period, parse_period
from metrics.targets import is_met, targets_for
from metrics.xlsx import build_workbook


@dataclass(frozen=True)
class Row:
    label: str
    numerator: int
    denominator: int | None
    rate: str
    target: str
    met: bool | None


def _default_area(user: Any) -> str:
    prefixes = user.jurisdiction_prefixes()
    return prefixes[0] if prefixes else ""


def _query_or_error(request: HttpRequest) -> ReportQuery:
    """Parse and authorise; raises QueryError (400) or Http404 (outside the user's scope)."""
    query = parse_query(request.GET, _default_area(request.user))
    if not may_view_area(request.user, query.area.code):
        raise Http404(_("无权查看该地区。"))
    return query


def _forbidden_unless_area_staff(request: HttpRequest) -> HttpResponse | None:
    if not getattr(request.user, "is_area_staff", False):
        return HttpResponse(_("仅县、市、省级精防管理人员可查看指标报告。"), status=403)
    return None


def indicator_rows(result: AreaResult, year: int) -> list[Row]:
    body = area_json(result, default_options())["indicators"]
    targets = targets_for(result.area.code, year)
    rows = []
    for name in INDICATOR_NAMES:
        figure = body[name]
        target = targets.get(name)
        rows.append(
            Row(
                label=str(INDICATOR_LABELS[name]),
                numerator=figure["numerator"],
                denominator=figure["denominator"],
                rate=format_rate(figure["value"], name) if figure["denominator"] is not None else _("未知"),
                target=f"≥{target.value.normalize():f}{target.unit}" if target else "—",
                met=is_met(target, figure["value"]),
            )
        )
    return rows


TREND_INDICATORS = ("regular_management_rate", "medication_rate", "regular_medication_rate")
TREND_COLOURS = ("#1f6feb", "#2da44e", "#bf8700")
CHART_W, CHART_H, CHART_PAD = 600, 200, 30


def trend_values(area: Any, period: Period) -> list[tuple[str, list[float | None]]]:
    """Month by month of the period's year up to the cut-off: the key rates in %."""
    year_period = parse_period(str(period.year), today=period.cutoff_date)
    options = default_options()
    monthly = [
        area_json(result, options)["indicators"] for result in compute_months(area, year_period.months(), options)
    ]
    return [(str(INDICATOR_LABELS[name]), [month[name]["value"] for month in monthly]) for name in TREND_INDICATORS]


def trend_series(area: Any, period: Period) -> list[dict[str, Any]]:
    """SVG polyline points of the key rates (0–100%)."""
    step = (CHART_W - 2 * CHART_PAD) / 11
    series = []
    for (label, values), colour in zip(trend_values(area, period), TREND_COLOURS, strict=True):
        points = []
        for index, value in enumerate(values):
            if value is not None:
                y = CHART_H - CHART_PAD - min(value, 100.0) / 100 * (CHART_H - 2 * CHART_PAD)
                points.append(f"{CHART_PAD + index * step:.1f},{y:.1f}")
        series.append({"label": label, "colour": colour, "points": " ".join(points)})
    return series


def _audit(request: HttpRequest, action: str, query: ReportQuery, kind: str) -> None:
    record_event(
        actor=request.user,
        action=action,
        detail={"report": kind, "area": query.area.code, "period": query.period.key},
    )


@login_required
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    denied = _forbidden_unless_area_staff(request)
    if denied:
        return denied
    try:
        query = _query_or_error(request)
    except QueryError as error:
        entered = {"area_text": request.GET.get("area", "")[:12], "period_text": request.GET.get("period", "")[:12]}
        return render(request, "metrics/report.html", {"error": str(error), **entered}, status=400)
    result = compute(query.area, query.period, default_options(), children=True)
    _audit(request, Action.LIST, query, "indicators")
    children = [
        {"area": child.area, "rows": indicator_rows(child, query.period.year), "may_drill": child.area.level < 5}
        for child in result.children
    ]
    context = {
        "query": query,
        "area_text": query.area.code,
        "period_text": query.period.key,
        "area": result.area,
        "rows": indicator_rows(result.area, query.period.year),
        "children": children,
        "missing_population": result.area.missing_population,
        "footer": footer_lines(result.options),
        "trend": trend_series(query.area, query.period),
        "chart": {"width": CHART_W, "height": CHART_H, "pad": CHART_PAD, "bottom": CHART_H - CHART_PAD},
    }
    return render(request, "metrics/report.html", context)


@login_required
@require_GET
def indicators_api(request: HttpRequest) -> JsonResponse:
    if not getattr(request.user, "is_area_staff", False):
        return JsonResponse({"error": _("仅县、市、省级精防管理人员可查看指标报告。")}, status=403)
    try:
        query = _query_or_error(request)
    except QueryError as error:
        return JsonResponse({"error": str(error)}, status=400)
    except Http404:
        return JsonResponse({"error": _("无权查看该地区。")}, status=404)
    _audit(request, Action.LIST, query, "indicators_api")
    document = compute(query.area, query.period, default_options(), children=query.children).document()
    return JsonResponse(document, json_dumps_params={"ensure_ascii": False})


@login_required
@require_GET
def report_xlsx(request: HttpRequest) -> HttpResponse:
    denied = _forbidden_unless_area_staff(request)
    if denied:
        return denied
    try:
        query = _query_or_error(request)
    except QueryError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    result = compute(query.area, query.period, default_options(), children=True)
    year = query.period.year
    sections = [(result.area.area.name, indicator_rows(result.area, year))]
    sections += [(child.area.name, indicator_rows(child, year)) for child in result.children]
    title = f"{_('严重精神障碍患者管理指标报告')} {result.area.area.name} {query.period.full_label}"
    content = build_workbook(title, sections, footer_lines(result.options))
    _audit(request, Action.EXPORT, query, "indicators_xlsx")
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="indicators-{query.area.code}-{query.period.key}.xlsx"'
    return response


def _options_json() -> dict[str, str]:
    options = default_options()
    return {
        name: getattr(options, name) for name in ("regular_management", "medication_denominator", "deaths_in_period")
    }


@login_required
@require_POST
def pdf_start(request: HttpRequest) -> HttpResponse:
    """Start a PDF job, or return the user's open job for the same area, period and options."""
    denied = _forbidden_unless_area_staff(request)
    if denied:
        return denied
    try:
        query = _query_or_error(request)
    except QueryError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    key = {"requested_by": request.user, "area_code": query.area.code, "period": query.period.key}
    open_jobs = PdfExport.objects.filter(**key, options=_options_json(), status__in=["pending", "running"])
    export = open_jobs.first()
    if export is None:
        try:
            with transaction.atomic():
                export = PdfExport.objects.create(**key, options=_options_json())
        except IntegrityError:  # a concurrent click created it first
            export = open_jobs.get()
        else:
            from metrics.tasks import build_report_pdf

            transaction.on_commit(lambda: build_report_pdf.delay(export.pk))
    return redirect("metrics:pdf_status", export_id=export.pk)


def _own_export(request: HttpRequest, export_id: int) -> PdfExport:
    return get_object_or_404(PdfExport, pk=export_id, requested_by=request.user)


@login_required
@require_GET
def pdf_status(request: HttpRequest, export_id: int) -> HttpResponse:
    return render(request, "metrics/pdf_status.html", {"export": _own_export(request, export_id)})


@login_required
@require_GET
def pdf_download(request: HttpRequest, export_id: int) -> HttpResponseBase:
    export = _own_export(request, export_id)
    if export.status != PdfExport.Status.DONE:
        raise Http404(_("报告尚未生成。"))
    record_event(
        actor=request.user,
        action=Action.PRINT,
        detail={"report": "indicators_pdf", "area": export.area_code, "period": export.period, "code": export.code},
    )
    name = f"indicators-{export.area_code}-{export.period}.pdf"
    return FileResponse(open(export.file_path, "rb"), as_attachment=True, filename=name)


@login_required
@require_GET
def pdf_verify(request: HttpRequest, code: str) -> HttpResponse:
    export = PdfExport.objects.filter(code=code.lower()[:12], status=PdfExport.Status.DONE).first() if code else None
    return render(
        request, "metrics/pdf_verify.html", {"export": export, "code": code[:12]}, status=200 if export else 404
    )
