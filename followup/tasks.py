"""Celery tasks of the follow-up app (found by ``app.autodiscover_tasks``), and its periodic work (Celery beat;
see ``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from followup.workbook.tasks import run_workbook_import

__all__ = ["end_expired_case_grants", "run_workbook_import"]


@shared_task(ignore_result=True)
def end_expired_case_grants() -> int:
    """End case-team memberships whose grant expired, with their audit events (domain.md §8)."""
    from followup.cases.services import end_expired_memberships

    return end_expired_memberships(now=timezone.now())
