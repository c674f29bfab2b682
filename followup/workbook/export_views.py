"""The registry export pages: ask for an area's workbook (doctors and area staff, within their jurisdiction),
follow the job, download the file. Exports are addressed by UUID and visible to their owner only (another user
gets 404); the page of someone who may not export at all is a 404 too. Every download is audited."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from casemgmt.workers import waiting_without_worker
from followup.models import WorkbookExport

from .export_jobs import (
    area_for,
    export_areas,
    exports_identity,
    exports_visible_to,
    get_export_for_user,
    may_export,
    start_export,
)
from .tasks import build_workbook_export

RECENT_EXPORTS = 10


@login_required
@require_http_methods(["GET", "POST"])
def export_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """GET: the areas the user may export and the recent exports; POST ``area``: start (or rejoin) an export."""
    if not may_export(request.user):
        raise Http404
    if request.method == "POST":
        export = start_export(request.user, area_for(request.user, request.POST.get("area", "")))
        return redirect("followup:workbook_export_job", export_uuid=export.uuid)
    context = {
        "areas": export_areas(request.user),
        "identity": exports_identity(request.user),
        "exports": exports_visible_to(request.user)[:RECENT_EXPORTS],
    }
    return render(request, "followup/workbook/export.html", context)


@login_required
@require_GET
def export_job(request: AuthenticatedHttpRequest, export_uuid: uuid.UUID) -> HttpResponse:
    export = get_export_for_user(request, export_uuid)
    worker_missing = waiting_without_worker(export.is_open, build_workbook_export.name)
    return render(request, "followup/workbook/export_job.html", {"export": export, "worker_missing": worker_missing})


@login_required
@require_GET
def export_download(request: AuthenticatedHttpRequest, export_uuid: uuid.UUID) -> HttpResponseBase:
    export = get_export_for_user(request, export_uuid)
    if export.status != WorkbookExport.Status.DONE or not export.file_path:
        raise Http404
    record_event(
        actor=request.user,
        action=Action.EXPORT,
        detail={
            "report": "registry_workbook_download",
            "export": str(export.uuid),
            "area": export.area_code,
            "identity": export.identity,
            "patients": export.patients,
        },
    )
    built_on = timezone.localdate(export.finished_at) if export.finished_at else None
    name = f"registry-{export.area_code}-{built_on:%Y%m%d}.xlsx" if built_on else None
    return FileResponse(open(export.file_path, "rb"), as_attachment=True, filename=name or "registry.xlsx")
