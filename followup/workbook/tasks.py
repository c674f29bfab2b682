"""Celery task running one workbook import job; only the job's id travels in the message. The explicit name is
the one the task has always had, so queued messages survive a move.

May import ``followup.workbook``.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="followup.workbook.tasks.run_workbook_import", ignore_result=True)
def run_workbook_import(job_id: int) -> None:
    from followup.workbook.jobs import run_job

    run_job(job_id)
