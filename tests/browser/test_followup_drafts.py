"""Nothing typed is lost (issue 13 §3): a follow-up whose submit fails — dropped connection, server error, expired
session, or a save whose answer never arrived — keeps its answers in the browser tab and restores them, with the
same submission key, when the form is opened again; a confirmed save clears them. The database is checked after
each journey: exactly one follow-up, never two."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client

from followup.models import FollowUp
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import log_in, screenshot
from tests.followup.base import RISPERIDONE, reached_data, record

DRAFT_KEYS = "() => Object.keys(sessionStorage).filter(k => k.startsWith('draft:'))"


def open_form(page: Any, live_server: Any, world: World) -> str:
    record(
        world.patient_a,
        world.doctor_a,
        reached_data(
            TODAY - dt.timedelta(days=30), risk_level=1, classification=2, next_date=TODAY - dt.timedelta(days=16)
        ),
        [RISPERIDONE],
    )
    log_in(page, live_server, "doctor_a", PASSWORD)
    url = f"{live_server.url}/followup/patients/{world.patient_a.uuid}/new/"
    page.goto(url)
    return url


def fill_attempt(page: Any) -> str:
    page.check("input[name=mode][value='3']")
    page.check("input[name=outcome][value='NOT_REACHED']")
    return str(page.input_value("input[name=submission_key]"))


def assert_restored(page: Any, key: str) -> None:
    assert page.locator("#draft-restored").is_visible()
    assert page.is_checked("input[name=mode][value='3']")
    assert page.is_checked("input[name=outcome][value='NOT_REACHED']")
    assert page.input_value("input[name=submission_key]") == key


def save_and_confirm(page: Any, world: World, key: str) -> None:
    page.click("#save-followup")
    page.wait_for_url(re.compile(r"/timeline/$"))
    assert "随访已保存" in page.inner_text(".messages")
    assert page.evaluate(DRAFT_KEYS) == []  # the confirmed save cleared the draft
    saved = FollowUp.objects.filter(patient=world.patient_a, date=TODAY)
    assert [(f.outcome, str(f.submission_key)) for f in saved] == [("NOT_REACHED", key)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("failure", ["dropped", "server-error"])
def test_answers_survive_a_failed_submit(world: World, live_server: Any, phone_page: Any, failure: str) -> None:
    page = phone_page
    url = open_form(page, live_server, world)
    key = fill_attempt(page)

    def fail(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
        elif failure == "dropped":
            route.abort("connectionreset")
        else:
            route.fulfill(status=500, content_type="text/html", body="<h1>500</h1>")

    page.route(re.compile(r".*/new/$"), fail)
    try:
        page.click("#save-followup", no_wait_after=True)
        page.wait_for_timeout(500)
    finally:
        page.unroute(re.compile(r".*/new/$"))
    assert not FollowUp.objects.filter(patient=world.patient_a, date=TODAY).exists()

    page.goto(url)
    assert_restored(page, key)
    screenshot(page, f"draft-restored-{failure}")
    save_and_confirm(page, world, key)


@pytest.mark.django_db(transaction=True)
def test_a_save_whose_answer_was_lost_is_not_saved_twice(world: World, live_server: Any, phone_page: Any) -> None:
    """The server saved, the phone never heard: the restored form carries the same key, so the retry is the
    same follow-up."""
    page = phone_page
    url = open_form(page, live_server, world)
    key = fill_attempt(page)

    def deliver_then_drop(route: Any) -> None:
        if route.request.method == "POST":
            # The request reaches the server and is saved (sent out of band, so no cookie or message of its
            # answer reaches the phone), then the connection drops.
            server = Client()
            server.force_login(world.doctor_a)
            assert server.post(route.request.url, QueryDict(route.request.post_data)).status_code == 302
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r".*/new/$"), deliver_then_drop)
    try:
        page.click("#save-followup", no_wait_after=True)
        page.wait_for_timeout(1000)
    finally:
        page.unroute(re.compile(r".*/new/$"))
    assert FollowUp.objects.filter(patient=world.patient_a, date=TODAY).count() == 1

    page.goto(url)
    assert_restored(page, key)
    save_and_confirm(page, world, key)


@pytest.mark.django_db(transaction=True)
def test_answers_survive_an_expired_session(world: World, live_server: Any, phone_page: Any) -> None:
    page = phone_page
    open_form(page, live_server, world)
    key = fill_attempt(page)
    page.context.clear_cookies(name="sessionid")  # the session expired while the doctor was typing
    page.click("#save-followup")
    page.wait_for_url(re.compile(r"/login/"))
    page.fill("input[name=username]", "doctor_a")
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(re.compile(r"/new/$"))
    assert_restored(page, key)
    save_and_confirm(page, world, key)


@pytest.mark.django_db(transaction=True)
def test_a_draft_can_be_discarded(world: World, live_server: Any, phone_page: Any) -> None:
    page = phone_page
    url = open_form(page, live_server, world)
    fill_attempt(page)
    page.goto(url)
    page.click("[data-discard-draft]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#draft-restored").is_hidden()
    assert not page.is_checked("input[name=outcome][value='NOT_REACHED']")
    assert page.evaluate(DRAFT_KEYS) == []
