"""Throttling of failed logins, per username and per client address, in the shared cache (Redis in production).

The client address is the one the configured reverse proxies saw (``client_address``): behind the proxy every
request comes from 127.0.0.1, and keying the lock on that would let 20 failures from anyone lock out the county.
When the shared cache cannot be reached, the counts live in this process's memory for the outage: logging in
keeps working (a 500 at the login page locks everyone out), and failures are still counted per worker.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.http import HttpRequest

from casemgmt.sharedcache import increment, local_fallback, resilient

T = TypeVar("T")

_fallback = local_fallback("login-throttle-fallback")


def _resilient(operation: Callable[[BaseCache], T]) -> T:
    """Run ``operation`` on the shared cache, or on the process-local fallback when the shared one fails."""
    return resilient(operation, shared=cache, fallback=_fallback, what="login throttle")


def client_address(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or — when that is a trusted proxy (``TRUSTED_PROXIES``) — the last
    address in ``X-Forwarded-For`` that is not one of the trusted proxies (what the outermost proxy saw)."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    trusted = set(settings.TRUSTED_PROXIES)
    if remote not in trusted:
        return remote
    forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    for candidate in reversed([part for part in forwarded if part]):
        if candidate in trusted:
            continue
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return remote  # a malformed header: fall back to the proxy itself, never to a made-up key
    return remote


def _key(kind: str, value: str) -> str:
    # Hash so that usernames never appear as cache keys (they may be personal).
    return f"login-fail:{kind}:{hashlib.sha256(value.lower().encode()).hexdigest()[:32]}"


def _keys(username: str, address: str) -> list[str]:
    keys = [_key("user", username)] if username else []
    if address:
        keys.append(_key("addr", address))
    return keys


def is_locked(username: str, address: str) -> bool:
    limit = settings.LOGIN_FAILURE_LIMIT
    address_limit = limit * 4  # a shared clinic address may serve several staff (record_failure agrees)
    counts: dict[str, int] = _resilient(lambda store: store.get_many(_keys(username, address)))
    user_failures = counts.get(_key("user", username), 0) if username else 0
    address_failures = counts.get(_key("addr", address), 0) if address else 0
    return user_failures >= limit or address_failures >= address_limit


def record_failure(username: str, address: str) -> list[str]:
    """Count one failure for the username and the address; return the scopes (``"username"``, ``"address"``)
    whose count has just reached its limit, so that a lockout is reported once, when it starts."""
    limit = settings.LOGIN_FAILURE_LIMIT
    reached = []
    if username and _resilient(functools.partial(_increment, key=_key("user", username))) == limit:
        reached.append("username")
    if address and _resilient(functools.partial(_increment, key=_key("addr", address))) == limit * 4:
        reached.append("address")
    return reached


def _increment(store: BaseCache, key: str) -> int:
    return increment(store, key, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def clear_failures(username: str) -> None:
    _resilient(lambda store: store.delete(_key("user", username)))


def locked_usernames(usernames: Iterable[str]) -> set[str]:
    """Which of these usernames are locked now (by their own failures; one read of the cache for all)."""
    keyed = {_key("user", name): name for name in usernames if name}
    counts: dict[str, int] = _resilient(lambda store: store.get_many(list(keyed)))
    limit = settings.LOGIN_FAILURE_LIMIT
    return {keyed[key] for key, count in counts.items() if count >= limit}
