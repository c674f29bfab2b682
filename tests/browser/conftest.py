"""Browser tests: real Chromium (Debian's package) driven by Playwright's sync API against live_server.

Screenshots are kept in artifacts/screenshots/ (git-ignored) as test artifacts.
"""

from __future__ import annotations

import os
import re
import shutil
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}  # the phone of issue 13's walk
SMALL_PHONE = {"width": 360, "height": 740}  # the narrowest phone the layout must fit without sideways scrolling

# Playwright's sync API runs an event loop in this thread; Django must still allow the ORM here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
                item.add_marker(pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


# Recorded in every page so check_page can fail on anything the Content-Security-Policy blocked.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = e.sourceFile + ":" + e.lineNumber;
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + where);
});
"""


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=1, is_mobile=True, has_touch=True)
    context.add_init_script(CSP_RECORDER)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


# Pages whose context runs no JavaScript: axe-core is run on a script-free copy of them (check_page).
NO_SCRIPT_PAGES: weakref.WeakSet[Any] = weakref.WeakSet()


@pytest.fixture
def phone_page_without_javascript(browser: Any) -> Iterator[Any]:
    """A phone with JavaScript switched off: every form must still work."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    NO_SCRIPT_PAGES.add(page)
    yield page
    context.close()


@pytest.fixture
def desktop_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.add_init_script(CSP_RECORDER)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


AXE = Path(__file__).resolve().parent / "node" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def accessibility_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now ("rule: selector, ...")."""
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed at {AXE} (bin/test and .ci/run install it with npm ci)")
    if page in NO_SCRIPT_PAGES:  # axe needs script: check a script-free copy of the page in a scripted twin
        twin = page.context.browser.new_context(viewport=page.viewport_size, locale="zh-CN")
        try:
            copy = twin.new_page()
            html = re.sub(r"<script\b[^>]*>.*?</script>", "", page.content(), flags=re.S | re.I)
            copy.route(page.url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
            copy.goto(page.url)
            return _axe(copy)
        finally:
            twin.close()
    return _axe(page)


def _axe(page: Any) -> list[str]:
    # Evaluated, not injected as a <script>: the Content-Security-Policy refuses inline scripts (as it should);
    # Playwright's evaluation is not subject to it.
    run = "(await axe.run(document, {resultTypes: ['violations']})).violations"
    results = page.evaluate(f"async () => {{ {AXE.read_text()}\n return {run}; }}")
    return [
        f"{v['id']} ({v['impact']}): " + ", ".join(str(n["target"]) for n in v["nodes"][:5])
        for v in results
        if v.get("impact") in SERIOUS
    ]


def check_page(page: Any) -> None:
    """What every page a journey looks at must satisfy: no serious or critical accessibility violation, no error
    summary without a field-level message, no description (help text, error) referenced but missing, nothing
    blocked by the Content-Security-Policy."""
    assert_errors_are_explained(page)
    assert_descriptions_exist(page)
    violations = accessibility_violations(page)
    assert not violations, f"{page.url}: " + "; ".join(violations)
    blocked = page.evaluate("() => window.__cspViolations || []")
    assert not blocked, f"{page.url}: the Content-Security-Policy blocked " + "; ".join(blocked)


def screenshot(page: Any, name: str) -> Path:
    """Keep the page as a CI artifact (artifacts/screenshots/, git-ignored), after checking it (check_page)."""
    check_page(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Any, live_server: Any, username: str, password: str, *, second_factor: bool = True) -> None:
    """Log in through the login page. An account that needs a second factor (area staff, administrators) is given
    a confirmed authenticator and passes the code page with the code it shows now, unless ``second_factor`` is
    False (the journeys of the second factor itself)."""
    from casemgmt.accounts.models import User
    from tests.second_factor import current_code, enrolled_device, needs_second_factor

    user = User.objects.filter(username=username).first()
    device = enrolled_device(user) if second_factor and user is not None and needs_second_factor(user) else None
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_load_state("networkidle")
    if device is not None and "/login/code/" in page.url:
        page.fill("input[name=code]", current_code(device))
        page.click("form:has(input[name=code]) button[type=submit]")
        page.wait_for_load_state("networkidle")


def assert_descriptions_exist(page: Any) -> None:
    """Every id an input's aria-describedby names is on the page (a screen reader reads the error through it)."""
    missing = page.evaluate(
        """() => Array.from(document.querySelectorAll('[aria-describedby]')).flatMap(el =>
            el.getAttribute('aria-describedby').split(/\\s+/).filter(id => id && !document.getElementById(id)))"""
    )
    assert not missing, f"{page.url}: aria-describedby names missing ids {missing}"


def assert_errors_are_explained(page: Any) -> None:
    """A page that shows an error summary also shows, next to a field or a row, what is wrong.

    "请更正下面标出的错误" with nothing marked below is the failure a doctor cannot get past.
    """
    if page.locator(".errorbox").count() == 0:
        return
    summary = page.inner_text(".errorbox")
    marked = page.locator(".field .error, .row-error").count()
    generic = "请更正下面标出的错误" in summary
    assert marked > 0 or not generic, f"error summary without a field-level message: {summary!r}"


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth"))


def submit(page: Any, button: str) -> None:
    """Press the button with this text and wait for the answer page."""
    page.click(f"button:has-text('{button}')")
    page.wait_for_load_state("networkidle")


def assert_field_error_in_view(page: Any, name: str, message: str) -> None:
    """The re-shown form marks the field *name* with *message*, has scrolled it into view and put the cursor
    in it (a long page must not reload at the top with the message far below)."""
    field = page.locator(f".field.has-error:has([name={name}])")
    assert message in field.locator(".error").inner_text(), page.inner_text("main")
    box = field.bounding_box()
    viewport = page.viewport_size
    assert box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 80) <= viewport["height"], box
    assert page.evaluate("() => document.activeElement && document.activeElement.name") == name


def submit_form(page: Any, button: str = "main form[method=post] button[type=submit]") -> None:
    """Tap a form's submit button and wait for the answer (a redirect or the form again)."""
    page.locator(button).first.click()
    page.wait_for_load_state("networkidle")


def field_error(page: Any, name: str) -> str:
    """The field-level message next to the input named ``name`` ("" when there is none)."""
    return " ".join(page.locator(f".field:has([name='{name}']) .error").all_inner_texts())


def flash(page: Any) -> str:
    """The messages shown after a redirect (empty when none)."""
    messages = page.locator(".messages")
    return str(messages.inner_text()) if messages.count() else ""
