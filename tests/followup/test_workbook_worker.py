"""A real Celery worker (subprocess, own queue) runs an import job from the test database: the message carries
the job's id only, the file is deleted afterwards, and the report lands on the job."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.db import connection

from followup.workbook.jobs import upload_dir
from followup.workbook.models import WorkbookImport
from followup.workbook.tasks import run_workbook_import
from registry.models import Patient
from tests.base import World
from tests.followup.workbook_base import valid_sheets, write_xlsx

QUEUE = "followup-workbook-test"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_import(world: World, tmp_path: Path) -> None:
    settings_db = connection.settings_dict
    url = f"postgres://{settings_db['USER']}@{settings_db['HOST']}:{settings_db['PORT']}/{settings_db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url}
    command = [".venv/bin/celery", "-A", "casemgmt", "worker", "--concurrency=1", "--pool=solo"]
    command += ["--without-gossip", "--without-mingle", "-Q", QUEUE]
    job = WorkbookImport.objects.create(requested_by=world.county_d, file_name="book.xlsx")
    stored = upload_dir() / f"{job.uuid}.xlsx"
    shutil.copy(write_xlsx(tmp_path / "book.xlsx", valid_sheets(world)), stored)
    WorkbookImport.objects.filter(pk=job.pk).update(file_path=str(stored))
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        run_workbook_import.apply_async(args=(job.pk,), queue=QUEUE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if not job.is_open:
                break
            time.sleep(0.5)
        assert job.status == WorkbookImport.Status.DONE, (tmp_path / "worker.log").read_text()[-2000:]
        assert job.report["counts"]["patients"][0] == 3 and job.progress == 100
        assert not stored.exists() and job.file_path == ""
        assert Patient.objects.count() == 5
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        stored.unlink(missing_ok=True)
