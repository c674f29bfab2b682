"""Which database a report reads from: the PostgreSQL streaming replica when one is configured, reachable and
fresh enough, else the primary (issue 16 §8).

``DATABASE_REPLICA_URL`` adds the ``replica`` alias (``casemgmt.settings``). A report view or task enters
``report_source()``; inside it the report read paths (``casemgmt.readdb.read_alias``) use the alias chosen
here. Audit events, the refresh of stale indicator state, PDF job rows: every write stays on ``default``.

Freshness. The primary's WAL position (``pg_current_wal_lsn()``) is read first, then the standby is asked
whether it has replayed up to it. If it has, it holds everything committed before the report started: lag 0,
whatever the age of its last replayed transaction (an idle primary writes nothing, so
``now() - pg_last_xact_replay_timestamp()`` grows while the standby is perfectly current). If it has not, the
lag is the age of the last transaction it replayed, a bound from above on how old its data is (after a short
grace: right after a write on an idle primary that age is large although replay takes milliseconds); with no
replayed transaction yet the lag is unknown. A lag above ``DATABASE_REPLICA_MAX_LAG_SECONDS``, an unknown lag,
a standby that is not in recovery (promoted, or a misconfigured URL) or any connection error means the
primary. The report says which it used (page, ``X-Data-Source`` header, PDF footer); the exchange.md §2 JSON
document has no field for it and stays exact.

A report that refreshed stale state rows on the primary (``metrics.state.write.ensure_fresh``) needs those rows:
``after_primary_write`` waits briefly for the standby to replay them, else the report falls back.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from casemgmt.readdb import REPLICA_ALIAS, reading_from, switch_to

logger = logging.getLogger(__name__)

CATCH_UP_SECONDS = 2.0  # how long a report waits for the standby to replay the state rows it just refreshed
REPLAY_GRACE_SECONDS = 0.2  # a standby streaming normally replays a just-committed write within milliseconds


@dataclass
class Source:
    """The database a report read from; ``lag_seconds`` is set when it is the replica."""

    alias: str
    lag_seconds: float | None = None
    reason: str = ""  # why the primary: "", "unreachable", "lagging", "not a standby"

    @property
    def is_replica(self) -> bool:
        return self.alias != DEFAULT_DB_ALIAS

    def label(self) -> str:
        """For people: 数据来源：只读副本（延迟 3 秒） / 数据来源：主库."""
        if self.is_replica:
            return _("数据来源：只读副本（延迟 %(seconds)s 秒）") % {"seconds": round(self.lag_seconds or 0)}
        return _("数据来源：主库")

    def header(self) -> str:
        """For machines (``X-Data-Source``): ``replica; lag=3`` or ``primary`` (with the fallback's reason)."""
        if self.is_replica:
            return f"replica; lag={round(self.lag_seconds or 0)}"
        return f"primary; fallback={self.reason}" if self.reason else "primary"


_current: ContextVar[Source | None] = ContextVar("report_source", default=None)


def replica_configured() -> bool:
    return REPLICA_ALIAS in connections.settings


def max_lag() -> float:
    return float(getattr(settings, "DATABASE_REPLICA_MAX_LAG_SECONDS", 300))


def _primary_lsn() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return str(cursor.fetchone()[0])


def _standby_state(lsn: str) -> tuple[bool, bool, float | None]:
    """(in recovery, replayed up to *lsn*, age in seconds of the last replayed transaction or None)."""
    with connections[REPLICA_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT pg_is_in_recovery(), COALESCE(pg_last_wal_replay_lsn() >= %s::pg_lsn, FALSE), "
            "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8",
            [lsn],
        )
        in_recovery, caught_up, age = cursor.fetchone()
    return bool(in_recovery), bool(caught_up), None if age is None else max(float(age), 0.0)


def _drop_replica_connection() -> None:
    with contextlib.suppress(DatabaseError):
        connections[REPLICA_ALIAS].close()


def _measure() -> Source:
    lsn = _primary_lsn()
    deadline = time.monotonic() + REPLAY_GRACE_SECONDS
    try:
        in_recovery, caught_up, age = _standby_state(lsn)
        while in_recovery and not caught_up and time.monotonic() < deadline:
            time.sleep(0.02)
            in_recovery, caught_up, age = _standby_state(lsn)
    except DatabaseError as error:
        logger.warning("replica unreachable, reports read the primary: %s", type(error).__name__)
        _drop_replica_connection()
        return Source(DEFAULT_DB_ALIAS, reason="unreachable")
    if not in_recovery:
        logger.warning("the replica is not a standby (not in recovery), reports read the primary")
        return Source(DEFAULT_DB_ALIAS, reason="not a standby")
    lag = 0.0 if caught_up else age
    if lag is None or lag > max_lag():
        logger.info("replica lags (%s s), reports read the primary", "unknown" if lag is None else round(lag, 1))
        return Source(DEFAULT_DB_ALIAS, reason="lagging")
    return Source(REPLICA_ALIAS, lag_seconds=lag)


def choose() -> Source:
    """The source for a report starting now."""
    if not replica_configured():
        return Source(DEFAULT_DB_ALIAS)
    return _measure()


def current() -> Source | None:
    """The source of the report being computed, or None outside ``report_source``."""
    return _current.get()


@contextlib.contextmanager
def report_source() -> Iterator[Source]:
    """Report reads inside the block go to the chosen source; the yielded object says which (it may turn to
    the primary on the way, see ``after_primary_write``)."""
    source = choose()
    token = _current.set(source)
    try:
        with reading_from(source.alias):
            yield source
    finally:
        _current.reset(token)


def after_primary_write() -> None:
    """The report just wrote on the primary what it is about to read: on the replica, wait for the standby to
    replay it, else read the primary for the rest of the report."""
    source = _current.get()
    if source is None or not source.is_replica:
        return
    lsn = _primary_lsn()
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while True:
        try:
            caught_up = _standby_state(lsn)[1]
        except DatabaseError:
            _drop_replica_connection()
            caught_up, reason = False, "unreachable"
        else:
            reason = "lagging"
        if caught_up:
            return
        if reason == "unreachable" or time.monotonic() >= deadline:
            source.alias, source.lag_seconds, source.reason = DEFAULT_DB_ALIAS, None, reason
            switch_to(DEFAULT_DB_ALIAS)
            return
        time.sleep(0.05)


HttpResponseT = TypeVar("HttpResponseT", bound=HttpResponseBase)


def sourced(response: HttpResponseT, source: Source) -> HttpResponseT:
    """The response says which database the report read (``X-Data-Source``: the web pages and the API alike)."""
    response["X-Data-Source"] = source.header()
    return response
