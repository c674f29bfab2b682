"""Exporting an area's registry from the web: who may, with how much identity, and the background job.

Who: doctors and county/city/province staff, for an area within their jurisdiction — the area part of the one
visibility rule (``Patient.objects.in_jurisdiction_of``); case-team members and administrators have no
jurisdiction and get 404, like everyone for an area outside theirs. What: the patients the area holds now.
Identity by the disclosure rules (``registry.access``): a doctor is shown the full record of the patients of
his jurisdiction, so his file carries identity; area staff are shown masked records (identity only per record,
with a stated reason), so their file carries none — its identity columns are empty and its 说明 sheet says so.

The job is built by a Celery task that receives the job's id only; the file waits under var/exports for its
owner, who alone can see the job (404 for anyone else).
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import User
from casemgmt.areas import codes
from casemgmt.areas.models import Area
from casemgmt.jobs import dispatch_on_commit, fail_job
from followup.models import WorkbookExport
from registry.access.visibility import sees_masked_identity
from registry.models import Patient

from .export import current_selection, export_workbook

logger = logging.getLogger(__name__)


def may_export(user: User) -> bool:
    """Doctors and area staff with a jurisdiction; nobody else (case teams, administrators, the inactive)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool((user.is_doctor or user.is_area_staff) and user.jurisdiction_prefixes())


def exports_identity(user: User) -> bool:
    """Whether the user's exports carry identity: doctors see the full records of their jurisdiction; area staff
    see masked ones."""
    return bool(user.is_doctor and not sees_masked_identity(user))


def export_areas(user: User) -> list[Area]:
    """The areas the user may export: those of the user's memberships."""
    if not may_export(user):
        return []
    wanted = [codes.code_from_prefix(prefix) for prefix in user.jurisdiction_prefixes()]
    return list(Area.objects.filter(code__in=wanted).order_by("code"))


def area_for(user: User, code: str) -> Area:
    """The area *code* when it lies within the user's jurisdiction (404 otherwise, and for a malformed code)."""
    text = (code or "").strip()
    area = Area.objects.filter(code=text).first() if codes.is_valid_code(text) else None
    prefixes = user.jurisdiction_prefixes() if may_export(user) else []
    if area is None or not any(codes.significant_prefix(area.code).startswith(p) for p in prefixes):
        raise Http404
    return area


def exports_visible_to(user: User) -> QuerySet[WorkbookExport]:
    """An export belongs to the user who asked for it; every lookup of exports starts here."""
    return WorkbookExport.objects.filter(requested_by_id=user.pk)


def get_export_for_user(
    request: AuthenticatedHttpRequest, export_uuid: uuid.UUID | str, *, write: bool = False
) -> WorkbookExport:
    """The export, if the user asked for it (404 otherwise: missing and someone else's alike). Its owner may do
    everything with it, so ``write`` adds no rule."""
    if not may_export(request.user):
        raise Http404
    export = exports_visible_to(request.user).filter(uuid=export_uuid).first()
    if export is None:
        raise Http404
    return export


def start_export(user: User, area: Area) -> WorkbookExport:
    """The user's open export of *area*, or a new one queued after the commit."""
    open_jobs = exports_visible_to(user).filter(area_code=area.code, status__in=WorkbookExport.OPEN_STATUSES)
    export = open_jobs.first()
    if export is not None:
        return export
    try:
        with transaction.atomic():
            export = WorkbookExport.objects.create(
                requested_by=user, area_code=area.code, identity=exports_identity(user)
            )
    except IntegrityError:  # a concurrent click created it first
        return open_jobs.get()
    from .tasks import build_workbook_export

    dispatch_on_commit(export, build_workbook_export)
    return export


def export_dir() -> Path:
    path = Path(settings.BASE_DIR) / "var" / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_export(export_id: int) -> None:
    """Build the file of export *export_id* (the task's body). Identity is asked again of the rules now: a role
    changed since the click gives none."""
    export = WorkbookExport.objects.select_related("requested_by").get(pk=export_id)
    if export.status != WorkbookExport.Status.PENDING:
        return
    user = export.requested_by
    WorkbookExport.set_progress(export_id, 0, status=WorkbookExport.Status.RUNNING)
    try:
        area = Area.objects.get(code=export.area_code)
        identity = export.identity and exports_identity(user) and may_export(user)
        visible = Patient.objects.in_jurisdiction_of(user) if may_export(user) else Patient.objects.none()
        selection = current_selection(area, visible, identity=identity)
        path = export_dir() / f"registry-{export.uuid}.xlsx"

        def progress(done: int, total: int) -> None:
            WorkbookExport.set_progress(export_id, min(99, 100 * done // max(total, 1)))

        summary = export_workbook(selection, path, actor=user, progress=progress)
    except Exception:
        logger.exception("workbook export %s failed", export_id)
        fail_job(export, "")
        raise
    WorkbookExport.set_progress(
        export_id,
        100,
        status=WorkbookExport.Status.DONE,
        identity=identity,
        patients=summary.patients,
        file_path=str(path),
        finished_at=timezone.now(),
    )
