"""Running an upload as a background job: the stored file, progress, the report, and who may import where.

Progress is written to the job row while the file is being checked (no transaction is open then) and to the
cache throughout: during the load every write sits in one uncommitted transaction, so the row's progress would
stay invisible to the job page until the end.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import User
from casemgmt.jobs import dispatch_on_commit
from followup.models import WorkbookImport

from .loading import WorkbookError, import_workbook
from .report import ImportReport
from .schema import lone_csv_sheet
from .validation import Scope

CHECK_SHARE = 50  # percent of the bar given to the checking pass (its row count is not known in advance)
CHECK_HALF_WAY = 50_000  # rows checked when the checking part of the bar is half full
PROGRESS_TTL = 6 * 3600


def may_import(user: User) -> bool:
    """Administrators and county/city/province staff load workbooks; doctors and case-team members do not."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_system_admin or user.is_area_staff)


def import_jobs_visible_to(user: User) -> QuerySet[WorkbookImport]:
    """A job belongs to its uploader alone; every list of jobs starts here."""
    return WorkbookImport.objects.filter(requested_by_id=user.pk)


def get_import_job_for_user(
    request: AuthenticatedHttpRequest, job_uuid: uuid.UUID | str, *, write: bool = False
) -> WorkbookImport:
    """The job, if the user uploaded it (404 otherwise: missing and someone else's alike).

    The uploader may do everything with their own job, so ``write`` adds no rule; whether the user may import at
    all (403) is checked by the views before.
    """
    job = import_jobs_visible_to(request.user).filter(uuid=job_uuid).first()
    if job is None:
        raise Http404
    return job


def scope_for(user: User) -> Scope:
    """Administrators load for every area (like the command) but match no registered patient, for they see none;
    area staff load and match within their jurisdiction only. Both spend the daily allowance of ID-number probes
    on rows registered outside (issue 14 §2); the command (``EVERYWHERE``) does not."""
    if user.is_system_admin:
        return Scope(prefixes=None, sees=(), limited=True)
    return Scope(prefixes=tuple(user.jurisdiction_prefixes()), limited=True)


def upload_dir() -> Path:
    path = Path(settings.BASE_DIR) / "var" / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def create_job(*, user: User, upload: UploadedFile, dry_run: bool) -> WorkbookImport:
    """Store the file under var/ and queue the job after the commit; the task receives the job's id only."""
    name = Path(upload.name or "workbook").name
    job = WorkbookImport.objects.create(requested_by=user, file_name=name[:200], dry_run=dry_run)
    path = stored_path(job, name)
    path.parent.mkdir(exist_ok=True)
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    WorkbookImport.objects.filter(pk=job.pk).update(file_path=str(path))
    from followup.workbook.tasks import run_workbook_import

    dispatch_on_commit(job, run_workbook_import)
    return job


def stored_path(job: WorkbookImport, name: str) -> Path:
    """Where the upload waits for its job. A single CSV file is one sheet, named by the file as for the command
    (``schema.lone_csv_sheet``)."""
    suffix = Path(name).suffix.lower()
    if suffix != ".csv":
        return upload_dir() / f"{job.uuid}{suffix}"
    return upload_dir() / str(job.uuid) / f"{lone_csv_sheet(Path(name).stem)}.csv"


def discard(path: Path) -> None:
    """Delete a stored upload (and the folder of a single CSV file)."""
    path.unlink(missing_ok=True)
    if path.parent != upload_dir() and path.parent.parent == upload_dir():
        path.parent.rmdir()


def progress_key(job_id: int) -> str:
    return f"followup:workbook-import:{job_id}"


class JobProgress:
    def __init__(self, job: WorkbookImport) -> None:
        self.job = job

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage == "check":
            # The row count is unknown until the end of this pass: the bar approaches half-way as rows are read.
            percent = CHECK_SHARE * done // (done + CHECK_HALF_WAY)
            status = WorkbookImport.Status.CHECKING
            WorkbookImport.set_progress(self.job.pk, percent, rows_done=done)
        else:
            percent = CHECK_SHARE + (100 - CHECK_SHARE) * done // max(total, 1)
            status = WorkbookImport.Status.LOADING
        cache.set(
            progress_key(self.job.pk), {"status": status, "progress": min(percent, 99), "rows": done}, PROGRESS_TTL
        )


def live_progress(job: WorkbookImport) -> WorkbookImport:
    """The job with the running figures from the cache (the row lags behind while the load transaction runs)."""
    if job.is_open:
        current = cache.get(progress_key(job.pk))
        if current:
            job.status, job.progress, job.rows_done = current["status"], current["progress"], current["rows"]
    return job


def run_job(job_id: int) -> None:
    """Run one queued job; a redelivered message for a job already started does nothing."""
    started = WorkbookImport.objects.filter(pk=job_id, status=WorkbookImport.Status.PENDING).update(
        status=WorkbookImport.Status.CHECKING
    )
    if not started:
        return
    job = WorkbookImport.objects.select_related("requested_by").get(pk=job_id)
    user = job.requested_by
    status, data = WorkbookImport.Status.FAILED, {}
    try:
        report = import_workbook(
            job.file_path,
            actor=user,
            scope=scope_for(user),
            dry_run=job.dry_run,
            progress=JobProgress(job),
            audit_detail={"job": str(job.uuid)},
            label=job.file_name,  # messages name the user's file, not the stored one
        )
        status = WorkbookImport.Status.DONE if report.ok else WorkbookImport.Status.REJECTED
        data = report.to_json()
    except WorkbookError as exc:
        status, data = WorkbookImport.Status.REJECTED, {"error": str(exc)}
    finally:
        discard(Path(job.file_path))
        WorkbookImport.set_progress(
            job_id,
            100,
            status=status,
            report=data,
            file_path="",
            finished_at=timezone.now(),
        )
        cache.delete(progress_key(job_id))


def report_of(job: WorkbookImport) -> ImportReport | None:
    return ImportReport.from_json(job.report) if job.report and "error" not in job.report else None
