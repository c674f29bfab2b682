"""The login page renders Chinese in real Chromium on a phone, and a doctor gets in."""

from __future__ import annotations

from typing import Any

import pytest

from tests.base import PASSWORD, World
from tests.browser.conftest import log_in, screenshot


@pytest.mark.django_db(transaction=True)
def test_doctor_logs_in_on_a_phone(world: World, live_server: Any, phone_page: Any) -> None:
    phone_page.goto(f"{live_server.url}/login/")
    assert "登录" in phone_page.inner_text("h1")
    screenshot(phone_page, "login-phone")
    log_in(phone_page, live_server, "doctor_a", PASSWORD)
    assert "/login/" not in phone_page.url
