"""The PDF task run eagerly: file written, status done, code stored and printed on the page."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from casemgmt.celery import app
from metrics.models import PdfExport
from metrics.reports.tasks import build_report_pdf
from tests.base import World

pytestmark = pytest.mark.django_db


def test_the_task_builds_the_pdf(world: World, eager_celery: None) -> None:
    export = PdfExport.objects.create(requested_by=world.county_d, area_code="320508000000", period="2025")
    build_report_pdf.delay(export.pk)
    export.refresh_from_db()
    assert export.status == PdfExport.Status.DONE and export.progress == 100 and len(export.code) == 12
    command = ["/usr/bin/pdftotext", export.file_path, "-"]
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603  (fixed tool)
    assert "严重精神障碍患者管理指标报告" in text and export.code in text and "姑苏区" in text
    Path(export.file_path).unlink()


def test_start_twice_returns_the_open_job_then_download_and_verify(world: World) -> None:
    from django.test import Client

    from casemgmt.audit.models import Action, AuditEvent

    client = Client()
    client.force_login(world.county_d)
    previous = app.conf.task_always_eager
    try:
        app.conf.task_always_eager = False
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("metrics.reports.tasks.build_report_pdf.delay", lambda export_id: None)
            first = client.post("/reports/pdf?area=320508&period=2025")
            second = client.post("/reports/pdf?area=320508&period=2025")
    finally:
        app.conf.task_always_eager = previous
    assert first.status_code == 302 and first["Location"] == second["Location"]
    export = PdfExport.objects.get()
    build_report_pdf(export.pk)
    export.refresh_from_db()
    assert client.get(f"/reports/pdf/{export.pk}").status_code == 200
    response = client.get(f"/reports/pdf/{export.pk}/download")
    body = b"".join(getattr(response, "streaming_content", []))
    assert response.status_code == 200 and body.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action=Action.PRINT).exists()
    assert client.get(f"/reports/verify/{export.code}").status_code == 200
    assert client.get("/reports/verify/000000000000").status_code == 404
    other = Client()
    other.force_login(world.doctor_a)
    assert other.get(f"/reports/pdf/{export.pk}/download").status_code == 404
    Path(export.file_path).unlink()
