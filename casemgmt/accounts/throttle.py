"""Throttling of failed logins, per username and per client address, in the shared cache (Redis in production)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


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
    address_limit = limit * 4  # a shared clinic address may serve several staff
    counts = cache.get_many(_keys(username, address))
    user_failures = counts.get(_key("user", username), 0) if username else 0
    address_failures = counts.get(_key("addr", address), 0) if address else 0
    return user_failures >= limit or address_failures >= address_limit


def record_failure(username: str, address: str) -> None:
    for key in _keys(username, address):
        if cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def clear_failures(username: str) -> None:
    cache.delete(_key("user", username))
