"""A real Celery worker (subprocess, own queue) runs an import job from the test database: the message carries
the job's id only, the file is deleted afterwards, and the report lands on the job."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from followup.models import WorkbookImport
from followup.workbook.jobs import upload_dir
from followup.workbook.tasks import run_workbook_import
from registry.models import Patient
from tests.base import World
from tests.celery_worker import real_worker, wait_until
from tests.followup.workbook_base import valid_sheets, write_xlsx

QUEUE = "followup-workbook-test"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_import(world: World, tmp_path: Path) -> None:
    job = WorkbookImport.objects.create(requested_by=world.county_d, file_name="book.xlsx")
    stored = upload_dir() / f"{job.uuid}.xlsx"
    shutil.copy(write_xlsx(tmp_path / "book.xlsx", valid_sheets(world)), stored)
    WorkbookImport.objects.filter(pk=job.pk).update(file_path=str(stored))
    try:
        with real_worker(QUEUE, tmp_path) as log:
            run_workbook_import.apply_async(args=(job.pk,), queue=QUEUE)
            wait_until(job, lambda j: not j.is_open)
            assert job.status == WorkbookImport.Status.DONE, log.read_text()[-2000:]
        assert job.report["counts"]["patients"][0] == 3 and job.progress == 100
        assert not stored.exists() and job.file_path == ""
        assert Patient.objects.count() == 5
    finally:
        stored.unlink(missing_ok=True)
