"""Celery task keeping the indicator state fresh (beat, nightly). The task keeps the name it had in
``metrics.tasks`` so the beat schedule and queued messages still find it.

May import the state modules.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="metrics.tasks.refresh_indicator_state", ignore_result=True)
def refresh_indicator_state() -> int:
    """Nightly: recompute the indicator state rows the calendar made stale (a new day, month or quarter), so
    the first report of the day does not wait for them (``metrics.state.rebuild.refresh_calendar``)."""
    from metrics.state.rebuild import refresh_calendar

    return refresh_calendar()
