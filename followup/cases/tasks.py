"""Celery task of case management (beat): ending expired case-team grants. The task keeps the name it had in
``followup.tasks`` so the beat schedule and queued messages still find it.

May import ``followup.cases``.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(name="followup.tasks.end_expired_case_grants", ignore_result=True)
def end_expired_case_grants() -> int:
    """End case-team memberships whose grant expired, with their audit events (domain.md §8)."""
    from followup.cases.services import end_expired_memberships

    return end_expired_memberships(now=timezone.now())
