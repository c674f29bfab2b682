"""The Content-Security-Policy (issue 14 §6) in a real browser: the pages work under it, and an injected inline
script or handler does not run (and is recorded by the journeys' check)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.base import PASSWORD, World
from tests.browser.conftest import check_page, log_in


@pytest.mark.django_db(transaction=True)
def test_an_injected_inline_script_does_not_run(world: World, live_server: Any, phone_page: Any) -> None:
    page = phone_page
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/followup/patients/{world.patient_a.uuid}/new/")
    check_page(page)  # the follow-up form and its script run under the policy
    assert "csrftoken" not in page.evaluate("() => document.cookie")  # HttpOnly: no script reads it
    page.evaluate(
        """() => {
        const s = document.createElement('script'); s.textContent = 'window.__ran = true'; document.body.append(s);
        const b = document.createElement('button'); b.setAttribute('onclick', 'window.__clicked = true');
        document.body.append(b); b.click();
    }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => [window.__ran === true, window.__clicked === true]") == [False, False]
    blocked = page.evaluate("() => window.__cspViolations")
    assert any("script-src" in line for line in blocked), blocked
