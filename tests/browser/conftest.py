"""Browser tests: real Chromium (Debian's package) driven by Playwright's sync API against live_server.

Screenshots are kept in artifacts/screenshots/ (git-ignored) as test artifacts.
"""

from __future__ import annotations

import os
import shutil
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
PHONE = {"width": 360, "height": 740}

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


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=1, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def phone_page_without_javascript(browser: Any) -> Iterator[Any]:
    """A phone that runs no script: every form must still save (progressive enhancement)."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def desktop_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


AXE = Path(__file__).resolve().parent / "node" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")
# A page without JavaScript never fires a timer, and axe-core yields with setTimeout on a long page (the
# registration form): it would wait forever. Within the evaluated function, timers run as microtasks instead.
NO_TIMERS = (
    "const setTimeout = (f, ms, ...a) => { Promise.resolve().then(() => f(...a)); return 0; };"
    "const clearTimeout = () => {}; const requestAnimationFrame = (f) => setTimeout(f);"
    "window.setTimeout = setTimeout; window.clearTimeout = clearTimeout;"
    "window.requestAnimationFrame = requestAnimationFrame;"
)


def accessibility_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now ("rule: selector, ...")."""
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed at {AXE} (bin/test and .ci/run install it with npm ci)")
    run = "(await axe.run(document, {resultTypes: ['violations']})).violations"
    if page.evaluate("() => typeof window.axe !== 'undefined'"):
        results = page.evaluate(f"async () => {run}")
    else:  # evaluated, not injected: a page without JavaScript runs no script tags, but Playwright still evaluates
        results = page.evaluate(f"async () => {{ {NO_TIMERS}\n {AXE.read_text()}\n return {run}; }}")
    return [
        f"{v['id']} ({v['impact']}): " + ", ".join(str(n["target"]) for n in v["nodes"][:5])
        for v in results
        if v.get("impact") in SERIOUS
    ]


def check_page(page: Any) -> None:
    """What every page a journey looks at must satisfy: no serious or critical accessibility violation, and no
    error summary without a field-level message."""
    assert_errors_are_explained(page)
    violations = accessibility_violations(page)
    assert not violations, f"{page.url}: " + "; ".join(violations)


def screenshot(page: Any, name: str) -> Path:
    """Keep the page as a CI artifact (artifacts/screenshots/, git-ignored), after checking it (check_page)."""
    check_page(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Any, live_server: Any, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_load_state("networkidle")


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


def submit(page: Any, button: str = "main form[method=post] button[type=submit]") -> None:
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
