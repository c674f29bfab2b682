"""Celery task running one workbook import job; only the job's id travels in the message."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def run_workbook_import(job_id: int) -> None:
    from followup.workbook.jobs import run_job

    run_job(job_id)
