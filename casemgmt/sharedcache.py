"""Counters in the shared cache (Redis in production) that survive its outage.

Used by the login throttle (``casemgmt.accounts.throttle``) and the ID-number probe limit
(``registry.patients.probes``). When the shared cache cannot be reached, the operation runs on a process-local
fallback for the outage: the page keeps working (a 500 would lock everyone out of it), and the counts go on per
worker process — a limit stays a limit, only per process instead of per site until Redis is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache

logger = logging.getLogger(__name__)
T = TypeVar("T")


def local_fallback(name: str) -> LocMemCache:
    """A process-local store for one kind of counter (its own name, so kinds never share keys)."""
    return LocMemCache(name, {"TIMEOUT": None, "OPTIONS": {"MAX_ENTRIES": 10_000}})


def resilient(operation: Callable[[BaseCache], T], *, shared: BaseCache, fallback: BaseCache, what: str) -> T:
    """Run ``operation`` on the shared cache, or on ``fallback`` when the shared one fails."""
    try:
        return operation(shared)
    except Exception:  # the shared cache is down (ConnectionError, TimeoutError, ...): never fail the page
        logger.warning("%s: shared cache unavailable, counting in process memory", what)
        return operation(fallback)


def increment(store: BaseCache, key: str, *, timeout: int, by: int = 1) -> int:
    """Add ``by`` to the counter at ``key`` (created with ``timeout`` when missing); the new value."""
    if store.add(key, by, timeout=timeout):
        return by
    try:
        return int(store.incr(key, by))
    except ValueError:  # expired between add and incr
        store.set(key, by, timeout=timeout)
        return by
