"""A real Celery worker (subprocess, own queue) builds the PDF from the test database."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from metrics.models import PdfExport
from metrics.reports.tasks import build_report_pdf
from tests.base import World
from tests.celery_worker import real_worker, wait_until

QUEUE = "metrics-report-test"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_the_pdf(world: World, tmp_path: Path) -> None:
    with real_worker(QUEUE, tmp_path) as log:
        export = PdfExport.objects.create(requested_by=world.county_d, area_code="320508000000", period="2025")
        build_report_pdf.apply_async(args=(export.pk,), queue=QUEUE)
        wait_until(export, lambda e: e.status in (PdfExport.Status.DONE, PdfExport.Status.FAILED))
        assert export.status == PdfExport.Status.DONE, log.read_text()[-2000:]
        text = subprocess.run(  # noqa: S603
            ["/usr/bin/pdftotext", export.file_path, "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "严重精神障碍患者管理指标报告" in text and export.code in text
        Path(export.file_path).unlink()
