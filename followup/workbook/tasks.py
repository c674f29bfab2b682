"""Celery tasks running one workbook import or export job; only the job's id travels in the message. The explicit
names stay the ones the tasks were given, so queued messages survive a move.

May import ``followup.workbook``.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="followup.workbook.tasks.run_workbook_import", ignore_result=True)
def run_workbook_import(job_id: int) -> None:
    from followup.workbook.jobs import run_job

    run_job(job_id)


@shared_task(name="followup.workbook.tasks.build_workbook_export", ignore_result=True)
def build_workbook_export(export_id: int) -> None:
    from followup.workbook.export_jobs import run_export

    run_export(export_id)
