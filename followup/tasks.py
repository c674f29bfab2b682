"""Celery tasks of the follow-up app (found by ``app.autodiscover_tasks``)."""

from __future__ import annotations

from followup.workbook.tasks import run_workbook_import

__all__ = ["run_workbook_import"]
