"""The database alias that report reads go to (issue 16 §8: read replicas for reports).

Why not a database router: a router decides for every query in the process, so an audit event, a lock or a
refresh of the indicator state made during a report could be sent to the read-only standby. Here nothing
changes unless code asks: the read paths of reports (``metrics`` and the few lower-level readers they call)
say ``.using(read_alias())`` or ``connections[read_alias()]``, and only a report view or task sets the alias,
for the duration of a ``reading_from`` block (``metrics.reports.source`` decides which alias). Every write,
and every read outside such a block, stays on ``default``.

A writer that may be reached from inside a report (the refresh of stale indicator state) wraps itself in
``reading_from(DEFAULT_DB_ALIAS)`` so the facts it writes from are the primary's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS

REPLICA_ALIAS = "replica"

_alias: ContextVar[str] = ContextVar("report_read_alias", default=DEFAULT_DB_ALIAS)


def read_alias() -> str:
    """The alias report reads use now: ``default`` unless a report set another."""
    return _alias.get()


@contextlib.contextmanager
def reading_from(alias: str) -> Iterator[None]:
    """Report reads inside the block go to *alias*."""
    token = _alias.set(alias)
    try:
        yield
    finally:
        _alias.reset(token)


def switch_to(alias: str) -> None:
    """Inside a ``reading_from`` block: the rest of the block reads from *alias* (a fallback to the primary)."""
    _alias.set(alias)
