"""Celery tasks of the platform (found by ``app.autodiscover_tasks``; periodic: see ``CELERY_BEAT_SCHEDULE``).

May import ``casemgmt`` only.
"""

from __future__ import annotations

from celery import shared_task

from casemgmt import jobs


@shared_task(name="casemgmt.tasks.fail_abandoned_jobs", ignore_result=True)
def fail_abandoned_jobs() -> int:
    """Fail the background jobs whose worker died (``casemgmt.jobs``)."""
    return jobs.fail_abandoned_jobs()


@shared_task(name="casemgmt.tasks.delete_expired_job_files", ignore_result=True)
def delete_expired_job_files() -> int:
    """Delete the files of finished jobs past their retention (``casemgmt.jobs``)."""
    return jobs.delete_expired_files()
