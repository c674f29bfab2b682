"""Celery task building a printed report; only the export's id travels in the message. The task keeps the name
it had in ``metrics.tasks`` so queued messages still find it.

May import ``metrics.models`` and, inside the task, ``metrics.reports.pdf``.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from celery import shared_task
from django.conf import settings

from metrics.models import PdfExport


def verification_code(content: bytes) -> str:
    """First 12 hex digits of an HMAC of the content, keyed by a key derived from SECRET_KEY."""
    key = hashlib.sha256(b"metrics.reports.pdf.verification:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, content, hashlib.sha256).hexdigest()[:12]


def export_dir() -> Path:
    path = Path(settings.BASE_DIR) / "var" / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


@shared_task(name="metrics.tasks.build_report_pdf", ignore_result=True)
def build_report_pdf(export_id: int) -> None:
    from metrics.reports.pdf import content_for_export, render_pdf

    export = PdfExport.objects.get(pk=export_id)
    PdfExport.set_progress(export_id, 10, status=PdfExport.Status.RUNNING)
    try:
        content, code = content_for_export(export)
        pdf = render_pdf(content)
    except Exception:
        PdfExport.objects.filter(pk=export_id).update(status=PdfExport.Status.FAILED)
        raise
    path = export_dir() / f"report-{export_id}.pdf"
    path.write_bytes(pdf)
    PdfExport.set_progress(export_id, 100, status=PdfExport.Status.DONE, code=code, file_path=str(path))
