"""Shared fixtures. Tests needing PostgreSQL or Redis are marked; without the service they skip with a
reason, and with REQUIRE_SERVICES=true (set by .ci/run) such a skip becomes a failure."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tests import second_factor
from tests.base import TODAY, World, build_world

# The test client's force_login / login give area staff and administrators a verified second factor.
second_factor.install()

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "false") == "true"


def redis_available() -> bool:
    url = os.environ.get("REDIS_URL")
    if not url:
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # any failure means "not available"
        return False


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    missing = {
        "postgres": connection.vendor != "postgresql",
        "redis": not redis_available(),
    }
    for item in items:
        for marker, absent in missing.items():
            if marker in item.keywords and absent:
                reason = f"needs {marker} (set DATABASE_URL / REDIS_URL)"
                if REQUIRE_SERVICES:
                    item.user_properties.append(("service_missing", reason))
                else:
                    item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: Any) -> None:
    for name, reason in item.user_properties:
        if name == "service_missing":
            pytest.fail(f"REQUIRE_SERVICES=true but the test {reason}", pytrace=False)


@pytest.fixture(autouse=True)
def default_language() -> Any:
    """Each test starts in the default language (Chinese): a request in English leaves its language active
    in the thread, which would otherwise leak into the next test's command output and messages."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def the_suites_day(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests date their data by the day the suite started (TODAY). A run that goes past midnight in the product's
    time zone would see the product's today move one day away from that data (a visit "in the future" saved,
    a 30-day-overdue patient at 31), so from that midnight on this process's clock runs whole days behind.
    Tests whose other clocks cannot follow keep the real one: instants taken at import (``real_clock``), and
    the deployment's own processes (``deploy``), whose checks allow for the day having turned."""
    days_behind = (timezone.localdate() - TODAY).days
    keeps_real_clock = any(request.node.get_closest_marker(name) for name in ("real_clock", "deploy"))
    if days_behind <= 0 or keeps_real_clock:
        yield
        return
    with time_machine.travel(timezone.now() - dt.timedelta(days=days_behind), tick=True):
        yield


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """PBKDF2 is deliberately slow; tests that are not about hashing use a fast hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Tasks run in the request's process (the demo's mode); the tests about tasks use a real worker
    (tests/celery_worker.py)."""
    from casemgmt.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def world(db: Any) -> World:
    return build_world()
