"""Issue 16 §3: /healthz for a load balancer, a status page for administrators, one log line per request and per
task — and none of them carries patient data, search terms or ID numbers."""

from __future__ import annotations

import logging

import pytest
from django.test import Client, override_settings

from casemgmt.crypto import cipher as crypto
from tests.base import World

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_login_and_without_patient_data(world: World) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert {"database", "cache", "keys"} <= set(body["checks"])
    assert {"worker:celery", "worker:imports", "worker:reports"} <= set(body["checks"])
    text = response.content.decode()
    assert world.patient_a.name not in text and world.patient_a.national_id not in text


def test_healthz_fails_on_a_wrong_key(world: World) -> None:
    from django.conf import settings
    from django.core import checks

    checks.run_checks(tags=["security"])  # start-up writes the canaries of the right keys; /healthz only reads
    with override_settings(FIELD_ENCRYPTION_KEYS=f"{settings.FIELD_ENCRYPTION_ACTIVE_KEY}:{crypto.new_key()}"):
        response = Client().get("/healthz")
    assert response.status_code == 503 and response.json()["checks"]["keys"] == "fail"
    assert response.json()["checks"]["database"] == "ok"


def test_the_status_page_is_for_administrators_only(world: World) -> None:
    client = Client()
    assert client.get("/manage/status/").status_code == 302  # the login page
    for user in (world.doctor_a, world.county_d, world.police_c):
        client.force_login(user)
        assert client.get("/manage/status/").status_code == 404
    client.force_login(world.admin_e)
    page = client.get("/manage/status/").content.decode()
    for label in ("database", "queue imports", "last run casemgmt.tasks.fail_abandoned_jobs", "disk free"):
        assert label in page, label
    assert "indicator state" in page  # registered by metrics
    assert world.patient_a.name not in page


def test_one_line_per_request_with_the_route_and_no_search_terms(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client()
    client.force_login(world.doctor_a)
    with caplog.at_level(logging.INFO, logger="casemgmt.request"):
        client.get("/patients/", {"q": world.patient_a.national_id})
    lines = [record.getMessage() for record in caplog.records if record.name == "casemgmt.request"]
    assert len(lines) == 1
    assert "route=registry:patient_list" in lines[0] and "status=200" in lines[0]
    assert f"user={world.doctor_a.pk}" in lines[0]
    assert world.patient_a.national_id not in caplog.text and world.patient_a.name not in caplog.text


def test_one_line_per_task(world: World, caplog: pytest.LogCaptureFixture) -> None:
    from casemgmt.celery import app
    from casemgmt.tasks import fail_abandoned_jobs

    previous, app.conf.task_always_eager = app.conf.task_always_eager, True
    try:
        with caplog.at_level(logging.INFO, logger="casemgmt.task"):
            fail_abandoned_jobs.delay()
    finally:
        app.conf.task_always_eager = previous
    lines = [record.getMessage() for record in caplog.records if record.name == "casemgmt.task"]
    assert len(lines) == 1 and "name=casemgmt.tasks.fail_abandoned_jobs" in lines[0] and "state=SUCCESS" in lines[0]
