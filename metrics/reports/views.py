"""Indicator report pages for area staff: the HTML report, its exports, the exchange.md §2 JSON document and the
masked patient lists behind each figure."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import User
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from casemgmt.jobs import dispatch_on_commit
from casemgmt.workers import waiting_without_worker
from metrics.indicators.options import export_suppression, footer_lines
from metrics.indicators.suppression import suppress_document
from metrics.models import PdfExport
from metrics.reports.access import get_pdf_export_for_user, may_view_area, pdf_exports_visible_to
from metrics.reports.document import as_of_lines
from metrics.reports.engine import compute
from metrics.reports.forms import QueryError, ReportQuery, parse_query
from metrics.reports.levels import levels_below
from metrics.reports.page import page_context
from metrics.reports.patient_lists import SETS, member_ids, page_patients, visible_members
from metrics.reports.rows import area_section
from metrics.reports.source import report_source, sourced
from metrics.reports.xlsx import build_workbook
from registry.access.disclosure import list_row
from registry.access.visibility import sees_masked_identity


def _default_area(user: User) -> str:
    prefixes = user.jurisdiction_prefixes()
    return prefixes[0] if prefixes else ""


def _query_or_error(request: AuthenticatedHttpRequest) -> ReportQuery:
    """Parse and authorise; raises QueryError (400) or Http404 (outside the user's scope)."""
    query = parse_query(request.GET, _default_area(request.user))
    if not may_view_area(request.user, query.area.code):
        raise Http404(_("无权查看该地区。"))
    return query


def _forbidden_unless_area_staff(request: AuthenticatedHttpRequest) -> HttpResponse | None:
    if not getattr(request.user, "is_area_staff", False):
        return HttpResponse(_("仅县、市、省级精防管理人员可查看指标报告。"), status=403)
    return None


def _staff_query(
    request: AuthenticatedHttpRequest, refuse_query: Callable[[str], HttpResponse]
) -> ReportQuery | HttpResponse:
    """The report's query for area staff, or the response that refuses it (403, or ``refuse_query(message)``)."""
    denied = _forbidden_unless_area_staff(request)
    if denied:
        return denied
    try:
        return _query_or_error(request)
    except QueryError as error:
        return refuse_query(str(error))


def _bad_query_text(message: str) -> HttpResponse:
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def _audit(request: AuthenticatedHttpRequest, action: str, query: ReportQuery, kind: str, **extra: object) -> None:
    record_event(
        actor=request.user,
        action=action,
        detail={"report": kind, "area": query.area.code, "period": query.period.key, **extra},
    )


@login_required
@require_GET
def report(request: AuthenticatedHttpRequest) -> HttpResponse:
    query = _staff_query(request, lambda error: render(request, "metrics/report.html", {"error": error}, status=400))
    if isinstance(query, HttpResponse):
        return query
    with report_source() as source:
        result = compute(query.area, query.period, query.options, children=True)
        context = page_context(request.user, query, result)
    _audit(request, Action.LIST, query, "indicators", options=query.options.as_dict())
    return sourced(render(request, "metrics/report.html", {**context, "data_source": source.label()}), source)


@login_required
@require_GET
def indicators_api(request: AuthenticatedHttpRequest) -> JsonResponse:
    if not getattr(request.user, "is_area_staff", False):
        return JsonResponse({"error": _("仅县、市、省级精防管理人员可查看指标报告。")}, status=403)
    try:
        query = _query_or_error(request)
    except QueryError as error:
        return JsonResponse({"error": str(error)}, status=400)
    except Http404:
        return JsonResponse({"error": _("无权查看该地区。")}, status=404)
    _audit(request, Action.LIST, query, "indicators_api", options=query.options.as_dict())
    with report_source() as source:
        document = compute(query.area, query.period, query.options, children=query.children).document()
    document = suppress_document(document, export_suppression(request.user, query.area.level))
    return sourced(JsonResponse(document, json_dumps_params={"ensure_ascii": False}), source)


@login_required
@require_GET
def report_xlsx(request: AuthenticatedHttpRequest) -> HttpResponse:
    query = _staff_query(request, _bad_query_text)
    if isinstance(query, HttpResponse):
        return query
    suppression = export_suppression(request.user, query.area.level)
    with report_source() as source:
        result = compute(query.area, query.period, query.options, children=True)
        own = area_section(result.area, query.period.year, result.options, suppression)
        below = levels_below(result, suppression)
    title = f"{_('严重精神障碍患者管理指标报告')} {result.area.area.name} {query.period.full_label}"
    footer = [*as_of_lines(result.as_of), *footer_lines(result.options, suppression), source.label()]
    content = build_workbook(title, own, below, footer)
    _audit(request, Action.EXPORT, query, "indicators_xlsx", options=query.options.as_dict())
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="indicators-{query.area.code}-{query.period.key}.xlsx"'
    return sourced(response, source)


@login_required
@require_POST
def pdf_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Start a PDF job, or return the user's open job for the same area, period and options."""
    query = _staff_query(request, _bad_query_text)
    if isinstance(query, HttpResponse):
        return query
    key = {"requested_by": request.user, "area_code": query.area.code, "period": query.period.key}
    options = query.options.as_dict()
    open_jobs = pdf_exports_visible_to(request.user).filter(**key, options=options, status__in=["pending", "running"])
    export = open_jobs.first()
    if export is None:
        try:
            with transaction.atomic():
                export = PdfExport.objects.create(**key, options=options)
        except IntegrityError:  # a concurrent click created it first
            export = open_jobs.get()
        else:
            from metrics.reports.tasks import build_report_pdf

            dispatch_on_commit(export, build_report_pdf)
    return redirect("metrics:pdf_status", export_id=export.pk)


@login_required
@require_GET
def pdf_status(request: AuthenticatedHttpRequest, export_id: int) -> HttpResponse:
    from metrics.reports.tasks import build_report_pdf

    export = get_pdf_export_for_user(request, export_id)
    worker_missing = waiting_without_worker(export.is_open, build_report_pdf.name)
    return render(request, "metrics/pdf_status.html", {"export": export, "worker_missing": worker_missing})


@login_required
@require_GET
def pdf_download(request: AuthenticatedHttpRequest, export_id: int) -> HttpResponseBase:
    export = get_pdf_export_for_user(request, export_id)
    if export.status != PdfExport.Status.DONE or not export.file_path:  # not built yet, or deleted past its retention
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
def pdf_verify(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    export = PdfExport.objects.filter(code=code.lower()[:12], status=PdfExport.Status.DONE).first() if code else None
    return render(
        request, "metrics/pdf_verify.html", {"export": export, "code": code[:12]}, status=200 if export else 404
    )


@login_required
@require_GET
def indicator_patients(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The masked patients of one set behind a figure (e.g. 在册 R, 规范管理 Reg), one page at a time."""

    def refuse(error: str) -> HttpResponse:
        return render(request, "metrics/patients.html", {"error": error}, status=400)

    query = _staff_query(request, refuse)
    if isinstance(query, HttpResponse):
        return query
    set_name = request.GET.get("set", "")
    if set_name not in SETS:
        return refuse(_("患者集合无效。"))
    masked, today = sees_masked_identity(request.user), timezone.localdate()
    with report_source() as source:
        members = visible_members(request.user, member_ids(query.area, query.period, query.options, set_name))
        page = Paginator(members.visible, settings.PATIENT_LIST_PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [list_row(patient, masked=masked, today=today) for patient in page_patients(request.user, list(page))]
    record_event(
        actor=request.user,
        action=Action.LIST,
        patient_uuids=[row.uuid for row in rows],
        detail={
            "report": "indicator_patients",
            "area": query.area.code,
            "period": query.period.key,
            "set": set_name,
            "options": query.options.as_dict(),
            "page": page.number,
            "results": page.paginator.count,
        },
    )
    context = {
        "query": query,
        "set_label": SETS[set_name].label,
        "members": members,
        "hidden": members.counted - len(members.visible),
        "rows": rows,
        "page": page,
        "masked": masked,
        "page_query": urlencode({**query.params(), "set": set_name}),
        "report_url": f"{reverse('metrics:report')}?{query.querystring}",
        "data_source": source.label(),
    }
    return sourced(render(request, "metrics/patients.html", context), source)
