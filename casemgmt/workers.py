"""Whether a Celery worker is consuming a queue, for the pages that wait on a job and for /healthz.

Every worker writes a heartbeat per queue it consumes into the shared cache (Redis) every HEARTBEAT_SECONDS, from
a worker bootstep (``Heartbeat``, added in ``casemgmt.celery``). A queue whose heartbeat is older than
HEARTBEAT_STALE_SECONDS has no running worker: a job page then says so instead of refreshing "排队中 0%" for ever.

May import Django and Celery only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from celery import bootsteps
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 20
HEARTBEAT_STALE_SECONDS = 90


def _key(queue: str) -> str:
    return f"celery-worker-heartbeat:{queue}"


def record_heartbeat(queues: Iterable[str]) -> None:
    try:
        cache.set_many({_key(queue): time.time() for queue in queues}, timeout=HEARTBEAT_STALE_SECONDS * 2)
    except Exception:  # the cache (Redis) is down: the worker cannot take tasks either; nothing to record
        logger.warning("worker heartbeat: the shared cache is unavailable")


def queue_of(task_name: str) -> str:
    """The queue Celery's own router sends a task to (``CELERY_TASK_ROUTES``, else the default queue)."""
    from celery import current_app

    return str(current_app.amqp.router.route({}, task_name)["queue"].name)


def worker_running(queue: str) -> bool | None:
    """True when a worker consumed *queue* recently, False when none did, None when tasks run in-process."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    try:
        beat = cache.get(_key(queue))
    except Exception:  # Redis is down: no worker can receive the task
        return False
    return beat is not None and time.time() - float(beat) < HEARTBEAT_STALE_SECONDS


class Heartbeat(bootsteps.StartStopStep):
    """A worker bootstep: record the heartbeat of the worker's queues now and every HEARTBEAT_SECONDS."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, parent: object, **kwargs: object) -> None:
        super().__init__(parent, **kwargs)
        self.timer_entry: object | None = None

    def start(self, parent: object) -> None:
        app = parent.app  # type: ignore[attr-defined]
        queues = sorted(app.amqp.queues.consume_from or app.amqp.queues)
        record_heartbeat(queues)
        timer = parent.timer  # type: ignore[attr-defined]
        self.timer_entry = timer.call_repeatedly(HEARTBEAT_SECONDS, record_heartbeat, (queues,), priority=10)

    def stop(self, parent: object) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()  # type: ignore[attr-defined]


def waiting_without_worker(job_is_open: bool, task_name: str) -> bool:
    """A job page's warning: the job is still queued or running, and no worker consumes its queue."""
    return job_is_open and worker_running(queue_of(task_name)) is False
