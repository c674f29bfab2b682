"""What a load balancer and an administrator need to know about a running site — never patient data.

``checks()`` is the /healthz answer: the database, the shared cache (Redis), the field keys against their
canaries (web-critical: a failure makes /healthz answer 503), and whether a worker consumes each queue (reported,
not critical: a stopped worker must not take the web servers out of the load balancer). ``status()`` adds what the
administrators' status page shows: queue lengths, the periodic tasks' last runs, disk space, and what other apps
register with ``register_status`` (the indicator state's freshness, from metrics).

May import Django, Celery's settings and ``casemgmt`` only.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from casemgmt import workers
from casemgmt.crypto import cipher as crypto

logger = logging.getLogger(__name__)

PERIODIC_RUN_KEY = "periodic-task-last-run:{name}"


def queue_names() -> list[str]:
    """The queues a worker consumes (``CELERY_TASK_QUEUES``)."""
    return [queue.name for queue in settings.CELERY_TASK_QUEUES]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    critical: bool = True


def _database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Check("database", True)
    except Exception as exc:
        return Check("database", False, type(exc).__name__)


def _cache() -> Check:
    try:
        cache.set("healthz", "1", timeout=10)
        return Check("cache", cache.get("healthz") == "1")
    except Exception as exc:
        return Check("cache", False, type(exc).__name__)


def _keys() -> Check:
    from casemgmt.checks import verify_canaries

    try:
        problems = verify_canaries(crypto.get_keyring(), write=False)
    except Exception as exc:
        return Check("keys", False, type(exc).__name__)
    return Check("keys", not problems, "; ".join(problems))


def _workers() -> list[Check]:
    found = []
    for queue in queue_names():
        running = workers.worker_running(queue)
        detail = "in-process" if running is None else ("running" if running else "no worker")
        found.append(Check(f"worker:{queue}", running is not False, detail, critical=False))
    return found


def checks() -> list[Check]:
    return [_database(), _cache(), _keys(), *_workers()]


def healthy(found: list[Check]) -> bool:
    return all(check.ok for check in found if check.critical)


# --- the administrators' status page ---------------------------------------------------------------------------

StatusProvider = Callable[[], list[tuple[str, str]]]
_providers: list[StatusProvider] = []


def register_status(provider: StatusProvider) -> None:
    """Add lines (label, value) to the status page; called from an app's ``ready()``."""
    if provider not in _providers:
        _providers.append(provider)


def record_periodic_run(task_name: str) -> None:
    """Called after each task run: the periodic ones (CELERY_BEAT_SCHEDULE) keep their last run for the page."""
    periodic = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    if task_name in periodic:
        try:
            cache.set(PERIODIC_RUN_KEY.format(name=task_name), time.time(), timeout=None)
        except Exception:
            logger.warning("periodic task %s: its last run could not be recorded", task_name)


def _queue_lengths() -> list[tuple[str, str]]:
    if not settings.REDIS_URL:
        return [(f"queue {queue}", "in-process") for queue in queue_names()]
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    lines = []
    for queue in queue_names():
        # Celery's Redis transport keeps one list per priority step: "name", "name\x06\x163", ...
        keys = [queue, *(f"{queue}\x06\x16{step}" for step in (3, 6, 9))]
        try:
            lines.append((f"queue {queue}", str(sum(int(client.llen(key)) for key in keys))))
        except redis.RedisError as exc:
            lines.append((f"queue {queue}", type(exc).__name__))
    return lines


def _periodic_runs() -> list[tuple[str, str]]:
    lines = []
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        name = entry["task"]
        try:
            last = cache.get(PERIODIC_RUN_KEY.format(name=name))
        except Exception:
            last = None
        when = timezone.localtime(dt.datetime.fromtimestamp(float(last), tz=dt.UTC)) if last else None
        lines.append((f"last run {name}", when.strftime("%Y-%m-%d %H:%M:%S") if when else "never"))
    return lines


def _disk() -> list[tuple[str, str]]:
    usage = shutil.disk_usage(settings.BASE_DIR)
    return [("disk free", f"{usage.free / 2**30:.1f} GiB of {usage.total / 2**30:.1f} GiB")]


def status() -> list[tuple[str, str]]:
    lines = [(check.name, "ok" if check.ok else f"FAILED {check.detail}") for check in checks()]
    lines += _queue_lengths() + _periodic_runs() + _disk()
    for provider in _providers:
        lines += provider()
    return lines
