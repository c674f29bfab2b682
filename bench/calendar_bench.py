"""No report waits on the calendar (issue 17 §2): report latency with every current-year state row stale (as on the
first of a month), served as of the day before (``METRICS_INLINE_REFRESH_LIMIT``), against recomputing the area's
stale patients inside the request (the path before); and the background refresh that brings the area up to date.

Dataset: the one of ``state_bench.py`` (one city of BENCH_COUNTIES counties, BENCH_PATIENTS patients), rebuilt once.
The queued refresh is not sent (its mark is set beforehand), so the report figures are the request's own work.

    cd bench && DATABASE_URL=postgres://postgres@127.0.0.1:5432/jingfang_bench_state \
        ../.venv/bin/python calendar_bench.py
"""

from __future__ import annotations

import datetime as dt
import os
from functools import partial

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jingfang_bench_state")  # before _django

from _django import commit, setup, summarize, timed

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def make_stale() -> int:
    """Every current-year row expires today, as every patient's does on the first of a month."""
    from metrics.models import PatientYearState
    from metrics.state.calendar import today

    return PatientYearState.objects.filter(year=today().year).update(valid_until=today())


def measure() -> list[str]:
    from django.conf import settings
    from django.core.cache import cache
    from state_bench import CITY, county_code

    from casemgmt.areas import codes
    from casemgmt.areas.models import Area
    from metrics.indicators.periods import parse_period
    from metrics.models import PatientYearState
    from metrics.reports.engine import compute
    from metrics.state.calendar import today
    from metrics.state.read import is_built
    from metrics.state.rebuild import rebuild, refresh_area
    from metrics.state.tasks import PENDING_SECONDS, _pending_key

    if not is_built() or not PatientYearState.objects.exists():  # a fresh database's migration marks it built
        rebuild()
    period = parse_period(str(today().year))
    lines = []
    for label, code in (("county", f"{county_code(1)}000000"), ("city", f"{CITY}00000000")):
        area = Area.objects.get(code=code)
        prefix = codes.significant_prefix(code)
        cache.set(_pending_key(prefix), 1, timeout=PENDING_SECONDS)  # its refresh counts as queued: none is sent
        stale = make_stale()
        report = compute(area, period, children=True)
        millis = [timed(partial(compute, area, period, children=True)) for _ in range(ROUNDS)]
        lines.append(summarize(f"report {label}, all stale, served as of {report.as_of}", millis, [0]))
        background = timed(partial(refresh_area, prefix))
        lines.append(f"{'background refresh ' + label:<58} {background:9.1f} ms  ({stale} stale rows, all areas)")
        millis = [timed(partial(compute, area, period, children=True)) for _ in range(ROUNDS)]
        lines.append(summarize(f"report {label}, fresh", millis, [0]))
        make_stale()
        settings.METRICS_INLINE_REFRESH_LIMIT = 10**9  # the path before: the request recomputes them all
        inline = timed(partial(compute, area, period, children=True))
        lines.append(f"{'report ' + label + ', all stale, refreshed inline':<58} {inline:9.1f} ms")
        settings.METRICS_INLINE_REFRESH_LIMIT = 100
        cache.delete(_pending_key(prefix))
    make_stale()
    lines.append(f"{'nightly refresh of everything (refresh_calendar)':<58} {timed(_nightly):9.1f} ms")
    return lines


def _nightly() -> None:
    from metrics.state.tasks import refresh_indicator_state

    refresh_indicator_state()


def main() -> None:
    setup()
    from state_bench import PATIENTS, build_dataset

    build_dataset()
    lines = [
        f"calendar bench, commit {commit()}, {dt.date.today()}, {PATIENTS} patients, load {os.getloadavg()[0]:.1f}"
    ]
    lines += measure()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
