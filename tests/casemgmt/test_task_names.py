"""Celery tasks live with the package that owns their work but keep their historical names, so the beat
schedule and messages already queued under those names still reach them."""

from __future__ import annotations

from django.conf import settings

from casemgmt.celery import app

HISTORICAL_NAMES = {
    "followup.tasks.end_expired_case_grants": "followup.cases.tasks",
    "followup.workbook.tasks.run_workbook_import": "followup.workbook.tasks",
    "metrics.tasks.build_report_pdf": "metrics.reports.tasks",
    "metrics.tasks.refresh_indicator_state": "metrics.state.tasks",
    "metrics.tasks.refresh_area_state": "metrics.state.tasks",  # a report's area, queued when it did not wait
}


def test_every_task_keeps_its_name_and_lives_with_its_package() -> None:
    app.autodiscover_tasks(force=True)  # what a worker does at start: import every installed app's tasks module
    for name, module in HISTORICAL_NAMES.items():
        assert name in app.tasks, name
        assert app.tasks[name].run.__module__ == module


def test_the_beat_schedule_names_registered_tasks() -> None:
    app.autodiscover_tasks(force=True)
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]
