"""Login, logout, password change, idle expiry and throttling of repeated failures."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.base import PASSWORD, World


@pytest.fixture(autouse=True)
def clear_throttle() -> None:
    cache.clear()


def login(client: Client, username: str, password: str, address: str = "10.0.0.1") -> Any:
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_login_and_logout(world: World, client: Client) -> None:
    response = login(client, "doctor_a", PASSWORD)
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(world.doctor_a.pk)
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_wrong_password_gives_a_chinese_message(world: World, client: Client) -> None:
    response = login(client, "doctor_a", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_repeated_failures_lock_the_account_even_with_the_right_password(world: World, client: Client) -> None:
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        login(client, "doctor_a", "wrong-password")
    response = login(client, "doctor_a", PASSWORD)
    assert response.status_code == 200
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from another address is unaffected.
    assert login(client, "doctor_b", PASSWORD, address="10.0.0.2").status_code == 302


def test_failures_from_one_address_across_usernames_are_throttled(world: World, client: Client) -> None:
    for i in range(settings.LOGIN_FAILURE_LIMIT * 4):
        login(client, f"nobody{i}", "wrong-password", address="10.9.9.9")
    response = login(client, "doctor_b", PASSWORD, address="10.9.9.9")
    assert "登录失败次数过多" in response.content.decode()


@pytest.mark.redis
def test_throttle_state_is_shared_through_redis(world: World, client: Client) -> None:
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        login(client, "doctor_a", "wrong-password")
    other_process_client = Client()
    assert "登录失败次数过多" in login(other_process_client, "doctor_a", PASSWORD).content.decode()


def test_sessions_expire_when_idle(world: World, client: Client) -> None:
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_AGE <= 60 * 60
    login(client, "doctor_a", PASSWORD)
    client.get(reverse("home"))
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    session = client.session
    session.set_expiry(-1)
    session.save()
    assert client.get(reverse("home")).status_code == 302


def test_password_change(world: World, client: Client) -> None:
    client.force_login(world.doctor_a)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Another-Synthetic-9", "new_password2": "Another-Synthetic-9"},
    )
    assert response.status_code == 302
    world.doctor_a.refresh_from_db()
    assert world.doctor_a.check_password("Another-Synthetic-9")


def test_pages_require_login(db: object, client: Client) -> None:
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_language_switch_to_english(world: World, client: Client) -> None:
    response = client.get(reverse("login"))
    assert "登录" in response.content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    assert 'lang="en"' in client.get(reverse("login")).content.decode()
