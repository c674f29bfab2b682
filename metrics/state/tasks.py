"""Celery tasks keeping the indicator state fresh: nightly (beat; the task keeps the name it had in
``metrics.tasks`` so the beat schedule and queued messages still find it), and one area's rows the calendar made
stale, queued by a report that did not wait for them (``metrics.state.write.freshen``).

May import the state modules.
"""

from __future__ import annotations

import logging
import re

from celery import shared_task
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

# A queued area refresh is not queued again for this long (many reports of a city after the 1st queue one); the
# task clears the mark when it ends, so this only matters when a worker died with it.
PENDING_SECONDS = 15 * 60
PREFIX = re.compile(r"\d{0,12}")  # "" is the whole country


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
    """Recompute the rows under one area that the calendar made stale; returns the patients recomputed."""
    from metrics.state.write import ensure_fresh

    if not PREFIX.fullmatch(prefix):
        return 0
    try:
        return ensure_fresh(prefix)
    finally:
        cache.delete(_pending_key(prefix))


@shared_task(name="metrics.tasks.refresh_indicator_state", ignore_result=True)
def refresh_indicator_state() -> int:
    """Nightly: recompute the indicator state rows the calendar made stale (a new day, month or quarter), so
    the first report of the day does not wait for them (``metrics.state.rebuild.refresh_calendar``)."""
    from metrics.state.rebuild import refresh_calendar

    return refresh_calendar()
