"""The workbook import pages: upload (administrators and area staff), the job's progress and report, and the
template. Jobs are addressed by UUID and visible to their uploader only (another user gets 404)."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from casemgmt.workers import waiting_without_worker

from .forms import UploadForm
from .jobs import create_job, get_import_job_for_user, import_jobs_visible_to, live_progress, may_import, report_of
from .tasks import run_workbook_import
from .template import build_template

RECENT_JOBS = 10
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_importer(request: AuthenticatedHttpRequest) -> None:
    if not may_import(request.user):
        raise PermissionDenied(_("仅系统管理员和县、市、省级精防管理人员可导入登记表。"))


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_importer(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = create_job(user=request.user, upload=form.cleaned_data["workbook"], dry_run=form.cleaned_data["dry_run"])
        record_event(
            actor=request.user,
            action=Action.CREATE,
            detail={"source": "workbook_import_upload", "job": str(job.uuid), "dry_run": job.dry_run},
        )
        return redirect("followup:workbook_job", job_uuid=job.uuid)
    jobs = import_jobs_visible_to(request.user)[:RECENT_JOBS]
    return render(request, "followup/workbook/upload.html", {"form": form, "jobs": jobs})


@login_required
@require_GET
def job(request: AuthenticatedHttpRequest, job_uuid: uuid.UUID) -> HttpResponse:
    _require_importer(request)
    found = live_progress(get_import_job_for_user(request, job_uuid))
    context = {
        "job": found,
        "report": report_of(found),
        "error": found.report.get("error", ""),
        "worker_missing": waiting_without_worker(found.is_open, run_workbook_import.name),
    }
    return render(request, "followup/workbook/job.html", context)


@login_required
@require_GET
def template(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_importer(request)
    response = HttpResponse(build_template(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="registry-workbook-template.xlsx"'
    return response
