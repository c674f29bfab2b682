"""Login behind the reverse proxy and through outages (issue 14 §4): the lock is keyed by the client address the
trusted proxy saw, /admin/login/ is throttled like /login/, and with the shared cache down login still works."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from casemgmt.accounts import throttle
from tests.base import PASSWORD, World

PROXY = "127.0.0.1"


@pytest.fixture(autouse=True)
def clear_throttle(settings: Any) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    cache.clear()
    throttle._fallback.clear()


def through_proxy(client: Client, url: str, username: str, password: str, client_ip: str) -> Any:
    data = {"username": username, "password": password}
    return client.post(url, data, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_ip)


@pytest.mark.parametrize(
    ("remote", "forwarded", "seen"),
    [
        (PROXY, "203.0.113.9", "203.0.113.9"),
        (PROXY, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the proxy appends what it saw: the last one counts
        (PROXY, "203.0.113.9, 127.0.0.1", "203.0.113.9"),  # a trusted hop is skipped
        (PROXY, "not-an-address", PROXY),  # a malformed header never becomes a key
        (PROXY, "", PROXY),
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # not from a trusted proxy: the header is ignored
    ],
)
def test_the_client_address_is_what_the_trusted_proxy_saw(remote: str, forwarded: str, seen: str) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert throttle.client_address(request) == seen


def test_failures_from_one_client_do_not_lock_the_county(world: World) -> None:
    """Behind the proxy every request comes from 127.0.0.1; 20 failures from one client lock that client only."""
    attacker = Client()
    for i in range(settings.LOGIN_FAILURE_LIMIT * 4):
        through_proxy(attacker, reverse("login"), f"nobody{i}", "wrong-password", "203.0.113.66")
    locked = through_proxy(attacker, reverse("login"), "doctor_a", PASSWORD, "203.0.113.66")
    assert "登录失败次数过多" in locked.content.decode()
    assert through_proxy(Client(), reverse("login"), "doctor_b", PASSWORD, "198.51.100.20").status_code == 302


def test_the_admin_login_is_no_unthrottled_door(world: World) -> None:
    """/admin/login/ sends everyone not logged in to the throttled /login/; a password posted there logs no one in
    (and the admin site's own form counts failures too, should the gate ever let a request through)."""
    from django.contrib import admin

    from casemgmt.accounts.views import ThrottledAdminAuthenticationForm

    world.admin_e.is_superuser = world.admin_e.is_staff = True
    world.admin_e.save()
    client = Client()
    response = through_proxy(client, reverse("admin:login"), "admin_e", PASSWORD, "203.0.113.5")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    assert admin.site.login_form is ThrottledAdminAuthenticationForm


class Down:
    """A shared cache that cannot be reached."""

    def __getattr__(self, name: str) -> Any:
        def fail(*args: object, **kwargs: object) -> None:
            raise ConnectionError("redis is down")

        return fail


def test_with_the_shared_cache_down_login_still_works_and_counts(world: World, monkeypatch: Any) -> None:
    monkeypatch.setattr(throttle, "cache", Down())
    assert through_proxy(Client(), reverse("login"), "doctor_a", PASSWORD, "203.0.113.1").status_code == 302
    client = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert through_proxy(client, reverse("login"), "doctor_b", "wrong", "203.0.113.2").status_code == 200
    locked = through_proxy(client, reverse("login"), "doctor_b", PASSWORD, "203.0.113.2")
    assert "登录失败次数过多" in locked.content.decode()  # still counted, in the process's memory
