"""Issue 16 §5, Celery hygiene, tried under faults with a real broker address that answers nothing.

Before: a PDF requested while Redis was down answered 500 and its export stayed "pending" for ever — and since one
open export per user and period is allowed, every later click returned the same dead job; an upload in the same
outage left its job and file behind. Now the dispatch fails the job with a Chinese message, deletes the file and
never blocks a retry; imports and PDFs have queues of their own and time limits; no result backend; a job page
says when no worker consumes its queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from casemgmt.celery import app
from casemgmt.workers import queue_of, worker_running
from followup.models import WorkbookImport
from followup.workbook.tasks import run_workbook_import
from metrics.models import PdfExport
from metrics.reports.tasks import build_report_pdf
from tests.base import World
from tests.celery_worker import real_worker
from tests.followup.workbook_base import valid_sheets, write_xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.redis]
NOBODY_LISTENS = "redis://127.0.0.1:1/0"


@contextmanager
def broker_down() -> Iterator[None]:
    """Point the app's producer at an address where no broker listens (its connection pools are rebuilt)."""
    celery: Any = app  # the connection pools are private attributes
    previous = (celery.conf.broker_url, celery.conf.task_always_eager)

    def reset_pools() -> None:
        # Forget the app's pools (not close them: kombu keeps one producer pool per broker address, and the
        # working one is picked up again once the address is restored).
        celery._pool = None
        celery.amqp._producer_pool = None

    reset_pools()
    celery.conf.broker_url, celery.conf.task_always_eager = NOBODY_LISTENS, False
    try:
        yield
    finally:
        reset_pools()
        celery.conf.broker_url, celery.conf.task_always_eager = previous


def staff_client(world: World) -> Client:
    client = Client()
    client.force_login(world.county_d)
    return client


def test_a_pdf_requested_while_the_broker_is_down_fails_with_a_message_and_a_retry_starts_afresh(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    client = staff_client(world)
    with broker_down():
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/reports/pdf?area=320508&period=2025")
        assert response.status_code == 302
        failed = PdfExport.objects.get()
        assert failed.status == PdfExport.Status.FAILED and "后台任务服务暂时不可用" in failed.failure_message
        page = client.get(response["Location"]).content.decode()
        assert "后台任务服务暂时不可用" in page
        with django_capture_on_commit_callbacks(execute=True):
            again = client.post("/reports/pdf?area=320508&period=2025")
    assert again["Location"] != response["Location"]  # not the dead job
    assert PdfExport.objects.count() == 2


def test_an_upload_while_the_broker_is_down_fails_and_leaves_no_file(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    path = write_xlsx(tmp_path / "登记表.xlsx", valid_sheets(world))
    client = staff_client(world)
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        response = client.post("/followup/import/", {"workbook": SimpleUploadedFile(path.name, path.read_bytes())})
    assert response.status_code == 302
    job = WorkbookImport.objects.get()
    assert job.status == WorkbookImport.Status.FAILED and "后台任务服务暂时不可用" in job.report["error"]
    uploads = Path(settings.BASE_DIR) / "var" / "imports"
    assert job.file_path == "" and not list(uploads.glob(f"{job.uuid}*"))


def test_imports_and_pdfs_have_their_own_queues_and_time_limits() -> None:
    assert queue_of(run_workbook_import.name) == "imports"
    assert queue_of(build_report_pdf.name) == "reports"
    assert queue_of("metrics.tasks.refresh_indicator_state") == "celery"
    for task in (run_workbook_import, build_report_pdf):
        annotations = settings.CELERY_TASK_ANNOTATIONS[task.name]
        assert 0 < annotations["soft_time_limit"] < annotations["time_limit"]
    assert app.conf.task_soft_time_limit and app.conf.task_time_limit > app.conf.task_soft_time_limit
    assert app.conf.result_backend is None and app.conf.task_ignore_result


@pytest.mark.django_db(transaction=True)
def test_a_page_waiting_on_a_job_says_when_no_worker_consumes_its_queue(world: World, tmp_path: Path) -> None:
    export = PdfExport.objects.create(requested_by=world.county_d, area_code="320508000000", period="2025")
    client = staff_client(world)
    previous, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        assert worker_running("reports") is False  # no worker in this suite consumes the reports queue
        page = client.get(f"/reports/pdf/{export.pk}").content.decode()
        assert "后台任务处理程序目前没有运行" in page
        with real_worker("heartbeat-test", tmp_path) as log:
            for _ in range(60):
                if worker_running("heartbeat-test"):
                    break
                time.sleep(0.5)
            assert worker_running("heartbeat-test"), log.read_text()[-2000:]
    finally:
        app.conf.task_always_eager = previous


def test_a_worker_started_without_queues_consumes_all_three() -> None:
    """Without CELERY_TASK_QUEUES a worker without -Q would consume the default queue only: imports and PDFs
    would wait for ever."""
    assert {queue.name for queue in app.amqp.queues.values()} >= {"celery", "imports", "reports"}
