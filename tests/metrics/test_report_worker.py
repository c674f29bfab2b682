"""A real Celery worker (subprocess, own queue) builds the PDF from the test database."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from django.db import connection

from metrics.models import PdfExport
from metrics.tasks import build_report_pdf
from tests.base import World

QUEUE = "metrics-report-test"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_the_pdf(world: World, tmp_path: Path) -> None:
    settings_db = connection.settings_dict
    url = f"postgres://{settings_db['USER']}@{settings_db['HOST']}:{settings_db['PORT']}/{settings_db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url}
    command = [".venv/bin/celery", "-A", "casemgmt", "worker", "--concurrency=1", "--pool=solo"]
    command += ["--without-gossip", "--without-mingle", "-Q", QUEUE]
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        export = PdfExport.objects.create(requested_by=world.county_d, area_code="320508000000", period="2025")
        build_report_pdf.apply_async(args=(export.pk,), queue=QUEUE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            export.refresh_from_db()
            if export.status in (PdfExport.Status.DONE, PdfExport.Status.FAILED):
                break
            time.sleep(0.5)
        assert export.status == PdfExport.Status.DONE, (tmp_path / "worker.log").read_text()[-2000:]
        text = subprocess.run(  # noqa: S603
            ["/usr/bin/pdftotext", export.file_path, "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "严重精神障碍患者管理指标报告" in text and export.code in text
        Path(export.file_path).unlink()
    finally:
        worker.terminate()
        worker.wait(timeout=20)
