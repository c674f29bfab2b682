"""Login, logout, failed logins and lockouts leave rows in the append-only audit log (issue 14 §3).

A typed username may be a mistyped password or a person's name: a failure stores the account when one has that
username, otherwise only a keyed hash of what was typed, and never the password.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from casemgmt.accounts import throttle
from casemgmt.audit.models import Action, AuditEvent
from tests.base import PASSWORD, World


@pytest.fixture(autouse=True)
def clear_throttle() -> None:
    cache.clear()
    throttle._fallback.clear()


def login(client: Client, username: str, password: str, address: str = "10.0.0.1") -> Any:
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def everything_written() -> str:
    return json.dumps([[e.action, e.purpose, e.detail] for e in AuditEvent.objects.all()], ensure_ascii=False)


def test_a_login_and_a_logout_are_recorded(world: World, client: Client) -> None:
    assert login(client, "doctor_a", PASSWORD).status_code == 302
    [event] = events(Action.LOGIN)
    assert event.actor == world.doctor_a and event.actor_role == "doctor"
    assert event.detail["username"] == "doctor_a"
    assert client.post(reverse("logout")).status_code == 302
    [out] = events(Action.LOGOUT)
    assert out.actor == world.doctor_a and out.detail["username"] == "doctor_a"
    assert PASSWORD not in everything_written()


def test_a_logout_without_a_session_records_nothing(db: object, client: Client) -> None:
    client.post(reverse("logout"))
    assert not AuditEvent.objects.exists()


def test_a_failed_login_names_the_account_but_never_the_password(world: World, client: Client) -> None:
    assert login(client, "doctor_a", "Wrong-Secret-123").status_code == 200
    [event] = events(Action.LOGIN_FAILED)
    assert event.actor == world.doctor_a
    assert event.detail["username"] == "doctor_a"
    assert "Wrong-Secret-123" not in everything_written()
    assert not events(Action.LOGIN)


def test_an_unknown_username_is_stored_only_as_a_hash(world: World, client: Client) -> None:
    """The password typed into the username field (or a person's name) must not land in the log."""
    login(client, "Synthetic-Pass-2026", "doctor_a")
    login(client, "张三丰", "whatever-123")
    login(client, "Synthetic-Pass-2026", "again")
    first, second, third = events(Action.LOGIN_FAILED)
    assert first.actor is None and first.actor_role == ""
    written = everything_written()
    assert "Synthetic-Pass-2026" not in written and "张三丰" not in written and "whatever-123" not in written
    assert "username" not in first.detail
    assert first.detail["username_hash"] == third.detail["username_hash"] != second.detail["username_hash"]
    assert len(first.detail["username_hash"]) >= 16


def test_a_lockout_is_recorded_once_when_the_limit_is_reached(world: World, client: Client) -> None:
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        login(client, "doctor_a", "wrong-password")
    assert not events(Action.LOCKOUT)
    login(client, "doctor_a", "wrong-password")
    [lockout] = events(Action.LOCKOUT)
    assert lockout.actor == world.doctor_a
    assert lockout.detail == {"username": "doctor_a", "scope": "username"}
    # Further attempts while locked (even with the right password) are failures, not new lockouts.
    assert "登录失败次数过多" in login(client, "doctor_a", PASSWORD).content.decode()
    login(client, "doctor_a", "wrong-password")
    assert len(events(Action.LOCKOUT)) == 1
    failures = events(Action.LOGIN_FAILED)
    assert len(failures) == settings.LOGIN_FAILURE_LIMIT + 2
    assert [f.detail.get("reason") for f in failures[-2:]] == ["locked", "locked"]
    assert not events(Action.LOGIN)


def test_an_address_lockout_is_recorded_without_the_address(world: World, client: Client) -> None:
    for i in range(settings.LOGIN_FAILURE_LIMIT * 4):
        login(client, f"nobody{i}", "wrong-password", address="10.9.9.9")
    [lockout] = events(Action.LOCKOUT)
    assert lockout.detail["scope"] == "address"
    assert "10.9.9.9" not in everything_written()


def test_the_admin_login_form_audits_failures_too(world: World) -> None:
    from casemgmt.accounts.views import ThrottledAdminAuthenticationForm

    request = RequestFactory().post("/admin/login/", REMOTE_ADDR="10.0.0.5")
    form = ThrottledAdminAuthenticationForm(request, data={"username": "doctor_a", "password": "nope-nope"})
    assert not form.is_valid()
    [event] = events(Action.LOGIN_FAILED)
    assert event.actor == world.doctor_a and "nope-nope" not in everything_written()
