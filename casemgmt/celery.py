"""The Celery application. Without REDIS_URL tasks run in-process (CELERY_TASK_ALWAYS_EAGER).

A worker runs the start-up checks before it takes a task: with a wrong or missing key it exits (code 3) instead of
failing every task it receives. Every worker records a heartbeat per queue (``casemgmt.workers``).
"""

from __future__ import annotations

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casemgmt.settings")

app = Celery("casemgmt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _add_heartbeat() -> None:
    from casemgmt import request_log  # noqa: F401  (connects the per-task log line)
    from casemgmt.workers import Heartbeat

    app.steps["worker"].add(Heartbeat)


_add_heartbeat()


@signals.worker_init.connect
def refuse_to_start_on_errors(**_kwargs: object) -> None:
    from casemgmt.checks import refuse_to_start_on_errors as refuse

    refuse()
