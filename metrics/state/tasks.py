"""Celery tasks keeping the indicator state fresh: nightly (beat; the task keeps the name it had in
``metrics.tasks`` so the beat schedule and queued messages still find it), and one area's rows the calendar made
stale, queued by a report that did not wait for them (``metrics.state.write.freshen``).

May import the state modules.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator

from celery import shared_task
from django.core.cache import cache
from django.db import connection, transaction

logger = logging.getLogger(__name__)

# A queued area refresh is not queued again for this long (many reports of a city after the 1st queue one); the
# task clears the mark when it ends, so this only matters when a worker died with it.
PENDING_SECONDS = 15 * 60
PREFIX = re.compile(r"\d{0,12}")  # "" is the whole country
CALENDAR_LOCK = 0x6A66_0017  # the PostgreSQL advisory lock the calendar refreshes take (any fixed number)


@contextlib.contextmanager
def one_at_a_time() -> Iterator[None]:
    """The nightly refresh and the area refreshes run one after the other: the nightly one may rebuild whole
    years (deleting every row of them), and an area refresh beside it would write its patients' rows and totals
    a second time. Each runs in one transaction holding the lock."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CALENDAR_LOCK])
        yield


def _pending_key(prefix: str) -> str:
    return f"metrics:state:area-refresh:{prefix}"


def refresh_in_background(prefix: str) -> bool:
    """Queue the refresh of the stale rows under *prefix* (an area code prefix: no identity travels) once the
    transaction commits, unless one is already queued; returns whether this call queued it."""
    if not PREFIX.fullmatch(prefix) or not cache.add(_pending_key(prefix), 1, timeout=PENDING_SECONDS):
        return False

    def send() -> None:
        try:
            refresh_area_state.delay(prefix)
        except Exception:  # the broker is unreachable: the nightly refresh still comes, and the next report retries
            logger.exception("indicator state: the refresh of area %s could not be queued", prefix)
            cache.delete(_pending_key(prefix))

    transaction.on_commit(send)
    return True


@shared_task(name="metrics.tasks.refresh_area_state", ignore_result=True)
def refresh_area_state(prefix: str) -> int:
    """Recompute the rows under one area that the calendar made stale; returns the patients recomputed
    (``metrics.state.rebuild.refresh_area``)."""
    from metrics.state.rebuild import refresh_area

    if not PREFIX.fullmatch(prefix):
        return 0
    try:
        with one_at_a_time():
            return refresh_area(prefix)
    finally:
        cache.delete(_pending_key(prefix))


@shared_task(name="metrics.tasks.refresh_indicator_state", ignore_result=True)
def refresh_indicator_state() -> int:
    """Nightly: recompute the indicator state rows the calendar made stale (a new day, month or quarter), so
    the first report of the day does not wait for them (``metrics.state.rebuild.refresh_calendar``)."""
    from metrics.state.rebuild import refresh_calendar

    with one_at_a_time():
        return refresh_calendar()
