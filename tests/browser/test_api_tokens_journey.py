"""The API令牌 page (issue 16 §6), with JavaScript on and off: a doctor's bad input is explained and writes
nothing; a token is created, shown once (only its digest is stored), works against the API, and once revoked is
refused."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.utils import timezone

from casemgmt.accounts.models import ApiToken
from casemgmt.audit.models import Action, AuditEvent
from tests.base import PASSWORD, World
from tests.browser.conftest import (
    check_page,
    field_error,
    flash,
    log_in,
    no_sideways_scroll,
    screenshot,
    submit_form,
)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("page_fixture", ["phone_page", "phone_page_without_javascript"])
def test_create_see_once_and_revoke_a_token(
    world: World, live_server: Any, request: pytest.FixtureRequest, page_fixture: str
) -> None:
    page = request.getfixturevalue(page_fixture)
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/followup/worklist/")
    page.click("a:has-text('API令牌')")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/account/api-tokens/")
    assert "您还没有令牌" in page.inner_text("main")
    check_page(page)
    assert no_sideways_scroll(page)

    # Bad input: each branch explained at its field, nothing written.
    page.fill("input[name=name]", "   ")
    submit_form(page)
    assert "请填写令牌的用途" in field_error(page, "name")
    page.fill("input[name=name]", "县平台同步")
    page.fill("input[name=days]", "0")
    submit_form(page)
    assert "1至365天" in field_error(page, "days")
    page.fill("input[name=days]", "400")
    submit_form(page)
    assert "1至365天" in field_error(page, "days")
    check_page(page)
    assert not ApiToken.objects.exists()

    # Created: shown once, stored as a digest only, valid for the days asked.
    page.fill("input[name=name]", "县平台同步")
    page.fill("input[name=days]", "30")
    submit_form(page)
    plain = page.input_value("#new-token-value")
    screenshot(page, f"api-token-created-{page_fixture}")
    assert no_sideways_scroll(page)
    token = ApiToken.objects.get()
    assert token.user == world.doctor_a and token.name == "县平台同步" and token.revoked_at is None
    assert plain.startswith(f"jf_{token.prefix}_") and token.digest == hashlib.sha256(plain.encode()).hexdigest()
    assert abs(token.expires_at - (timezone.now() + dt.timedelta(days=30))) < dt.timedelta(minutes=5)
    assert AuditEvent.objects.filter(actor=world.doctor_a, action=Action.ACCOUNT_UPDATE).count() == 1

    api = page.request.get(f"{live_server.url}/api/v1/worklist", headers={"Authorization": f"Bearer {plain}"})
    assert api.status == 200 and "overdue" in api.json()

    page.goto(f"{live_server.url}/account/api-tokens/")
    assert plain not in page.content()  # never shown again
    assert "县平台同步" in page.inner_text("main") and "有效" in page.inner_text("main")

    # Revoked: the page says so, the database holds it, the API refuses the token.
    page.click("button:has-text('吊销')")
    page.wait_for_load_state("networkidle")
    assert "已吊销" in flash(page)
    check_page(page)
    token.refresh_from_db()
    assert token.revoked_at is not None
    api = page.request.get(f"{live_server.url}/api/v1/worklist", headers={"Authorization": f"Bearer {plain}"})
    assert api.status == 401 and api.headers["www-authenticate"].startswith("Bearer")
