"""Celery tasks of the follow-up app, imported here so ``app.autodiscover_tasks`` finds them; each lives with
the package that owns its work (periodic ones: see ``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from followup.cases.tasks import end_expired_case_grants
from followup.workbook.tasks import run_workbook_import

__all__ = ["end_expired_case_grants", "run_workbook_import"]
