"""The shared background-job tracker: jobs whose worker died are failed with a message and lose their stored
file; recent and ended jobs are left alone; the timeout is a setting; beat runs the cleanup."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casemgmt import jobs, tasks
from followup.models import WorkbookImport
from followup.workbook.jobs import stored_path
from metrics.models import PdfExport
from tests.base import World

pytestmark = [pytest.mark.django_db, pytest.mark.real_clock]  # ages jobs from NOW, taken at import

NOW = timezone.now()
LONG_AGO = NOW - dt.timedelta(minutes=settings.BACKGROUND_JOB_TIMEOUT_MINUTES + 1)
RECENTLY = NOW - dt.timedelta(minutes=settings.BACKGROUND_JOB_TIMEOUT_MINUTES - 1)


def aged(job: Any, requested_at: dt.datetime, **changes: Any) -> Any:
    """The job as if requested at *requested_at* (``auto_now_add`` ignores a value given to create)."""
    type(job).objects.filter(pk=job.pk).update(requested_at=requested_at, **changes)
    job.refresh_from_db()
    return job


def stored(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"content")
    return str(path)


def pdf_export(world: World, **changes: Any) -> PdfExport:
    fields = {"requested_by": world.county_d, "area_code": "320508000000", "period": "2025", **changes}
    return PdfExport.objects.create(**fields)


def test_both_background_jobs_use_the_tracker() -> None:
    assert {WorkbookImport, PdfExport} <= set(jobs.job_models())


def test_an_abandoned_import_fails_with_a_message_and_its_upload_is_deleted(world: World) -> None:
    job = WorkbookImport.objects.create(requested_by=world.admin_e, file_name="县登记表.csv")
    path = stored_path(job, "县登记表.csv")  # a single CSV waits in a folder of its own
    job = aged(job, LONG_AGO, status=WorkbookImport.Status.LOADING, progress=60, file_path=stored(path))
    try:
        assert jobs.fail_abandoned_jobs(now=NOW) == 1
    finally:
        path.unlink(missing_ok=True)
        if path.parent.exists():
            path.parent.rmdir()
    job.refresh_from_db()
    assert (job.status, job.file_path, job.finished_at) == (WorkbookImport.Status.FAILED, "", NOW)
    assert "长时间没有进展" in job.report["error"] and not job.is_open
    assert not path.exists() and not path.parent.exists()
    client = Client()
    client.force_login(world.admin_e)
    page = client.get(reverse("followup:workbook_job", kwargs={"job_uuid": job.uuid})).content.decode()
    assert "长时间没有进展" in page and 'http-equiv="refresh"' not in page


def test_an_abandoned_export_fails_and_the_same_report_can_be_asked_again(world: World, tmp_path: Path) -> None:
    export = aged(
        pdf_export(world), LONG_AGO, status=PdfExport.Status.RUNNING, file_path=stored(tmp_path / "report.pdf")
    )
    assert jobs.fail_abandoned_jobs(now=NOW) == 1
    export.refresh_from_db()
    assert (export.status, export.file_path) == (PdfExport.Status.FAILED, "")
    assert not (tmp_path / "report.pdf").exists()
    assert pdf_export(world).is_open  # the one-open-job constraint no longer holds the request back


def test_recent_open_jobs_and_ended_jobs_are_left_alone(world: World, tmp_path: Path) -> None:
    running = aged(WorkbookImport.objects.create(requested_by=world.admin_e, file_name="a.xlsx"), RECENTLY)
    done = aged(
        pdf_export(world), LONG_AGO, status=PdfExport.Status.DONE, progress=100, file_path=stored(tmp_path / "a.pdf")
    )
    assert jobs.fail_abandoned_jobs(now=NOW) == 0
    running.refresh_from_db()
    done.refresh_from_db()
    assert running.status == WorkbookImport.Status.PENDING and running.report == {}
    assert done.status == PdfExport.Status.DONE and Path(done.file_path).exists()


def test_the_timeout_is_a_setting(world: World, settings: Any) -> None:
    settings.BACKGROUND_JOB_TIMEOUT_MINUTES = 30
    slow = aged(pdf_export(world), NOW - dt.timedelta(minutes=29), status=PdfExport.Status.RUNNING)
    dead = aged(pdf_export(world, period="2024"), NOW - dt.timedelta(minutes=31))
    assert jobs.fail_abandoned_jobs(now=NOW) == 1
    assert PdfExport.objects.get(pk=slow.pk).is_open and not PdfExport.objects.get(pk=dead.pk).is_open


def test_the_beat_task_runs_the_cleanup(world: World) -> None:
    job = aged(WorkbookImport.objects.create(requested_by=world.admin_e, file_name="a.xlsx"), LONG_AGO)
    assert tasks.fail_abandoned_jobs() == 1  # called in-process; beat sends it to a worker
    assert WorkbookImport.objects.get(pk=job.pk).status == WorkbookImport.Status.FAILED
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "casemgmt.tasks.fail_abandoned_jobs" in schedule


RETAINED = dt.timedelta(hours=settings.JOB_FILE_RETENTION_HOURS)


def test_finished_exports_lose_their_files_past_the_retention_and_say_so(world: World, tmp_path: Path) -> None:
    old = aged(pdf_export(world), NOW - RETAINED - dt.timedelta(minutes=1), status=PdfExport.Status.DONE)
    old = aged(old, old.requested_at, file_path=stored(tmp_path / "old.pdf"), code="ABCD-1234")
    new = aged(pdf_export(world, period="2024"), NOW - RETAINED + dt.timedelta(minutes=1), status="done")
    new = aged(new, new.requested_at, file_path=stored(tmp_path / "new.pdf"))
    running = aged(pdf_export(world, period="2023"), NOW - RETAINED - dt.timedelta(hours=1), status="running")
    running = aged(running, running.requested_at, file_path=stored(tmp_path / "running.pdf"))
    waiting = aged(WorkbookImport.objects.create(requested_by=world.admin_e, file_name="a.csv"), RECENTLY)
    waiting = aged(waiting, NOW - RETAINED - dt.timedelta(hours=1), file_path=stored(tmp_path / "upload.csv"))
    assert jobs.delete_expired_files(now=NOW) == 1
    assert not (tmp_path / "old.pdf").exists()
    for kept in ("new.pdf", "running.pdf", "upload.csv"):  # in time, still being built, an upload not yet loaded
        assert (tmp_path / kept).exists(), kept
    old.refresh_from_db()
    assert (old.status, old.file_path, old.code) == (PdfExport.Status.DONE, "", "ABCD-1234")  # the row stays
    assert old.file_expired and not new.file_expired and not running.file_expired
    client = Client()
    client.force_login(world.county_d)
    page = client.get(reverse("metrics:pdf_status", kwargs={"export_id": old.pk})).content.decode()
    assert "保留期限，已删除" in page and reverse("metrics:pdf_download", kwargs={"export_id": old.pk}) not in page
    assert client.get(reverse("metrics:pdf_download", kwargs={"export_id": old.pk})).status_code == 404
    page = client.get(reverse("metrics:pdf_status", kwargs={"export_id": new.pk})).content.decode()
    assert f"文件保留{settings.JOB_FILE_RETENTION_HOURS}小时" in page
    assert client.get(reverse("metrics:pdf_download", kwargs={"export_id": new.pk})).status_code == 200
    assert jobs.delete_expired_files(now=NOW) == 0  # nothing left to delete


def test_a_file_that_cannot_be_deleted_keeps_its_path_for_the_next_run(world: World, tmp_path: Path) -> None:
    blocked = tmp_path / "a-directory.pdf"  # unlink() of a directory fails
    blocked.mkdir()
    export = aged(pdf_export(world), NOW - RETAINED - dt.timedelta(hours=1), status="done", file_path=str(blocked))
    assert jobs.delete_expired_files(now=NOW) == 0
    export.refresh_from_db()
    assert export.file_path == str(blocked) and not export.file_expired


def test_the_retention_is_a_setting_and_beat_runs_the_deletion(world: World, settings: Any, tmp_path: Path) -> None:
    settings.JOB_FILE_RETENTION_HOURS = 2
    export = aged(pdf_export(world), timezone.now() - dt.timedelta(hours=3), status=PdfExport.Status.DONE)
    aged(export, export.requested_at, file_path=stored(tmp_path / "report.pdf"))
    assert tasks.delete_expired_job_files() == 1  # called in-process; beat sends it to a worker
    assert not (tmp_path / "report.pdf").exists()
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "casemgmt.tasks.delete_expired_job_files" in schedule
