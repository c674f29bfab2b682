"""No report waits on the calendar (issue 17 §2): past ``METRICS_INLINE_REFRESH_LIMIT`` stale patients a report
is served from the state as it stands, says as of which day, and queues the area's refresh in the background."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from metrics.indicators.periods import Period, parse_period
from metrics.models import PatientYearState
from metrics.reports.engine import compute, compute_direct
from metrics.state.read import counts_of_rows, counts_of_totals
from metrics.state.rebuild import rebuild
from tests.base import TODAY, World
from tests.celery_worker import real_worker
from tests.followup.test_views_form import post, stable_visit

pytestmark = pytest.mark.django_db
QUEUE = "metrics-state-test"
EARLIER = TODAY - dt.timedelta(days=40)  # a month boundary lies between: every current-year row is stale


@pytest.fixture(autouse=True)
def no_queued_refresh() -> Iterator[None]:
    cache.clear()  # the marks of queued area refreshes (this helper's own cache database)
    yield
    cache.clear()


def rows() -> Any:
    return counts_of_rows(list(PatientYearState.objects.all())), counts_of_totals()


def body(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in ("computed_at", "period", "as_of")}


def stale_since(world: World) -> Any:
    """The state as of 40 days ago (nothing written since), and the rows a refresh today must give."""
    post(world.doctor_a, world.patient_a, stable_visit(TODAY - dt.timedelta(days=100)))
    fresh = rows()
    rebuild(day=EARLIER)
    stale = PatientYearState.objects.filter(year=TODAY.year, valid_until__lte=TODAY)
    assert stale.values("patient_id").distinct().count() == 2
    return fresh


def this_year() -> Period:
    return parse_period(str(TODAY.year))


def test_many_stale_patients_are_not_recomputed_in_the_request_and_the_report_says_as_of(
    world: World, settings: Any, eager_celery: None, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    fresh = stale_since(world)
    settings.METRICS_INLINE_REFRESH_LIMIT = 1
    kept = rows()
    oldest = min(d for d in PatientYearState.objects.filter(year=TODAY.year).values_list("valid_until", flat=True) if d)
    with django_capture_on_commit_callbacks() as queued:
        report = compute(world.county, this_year(), children=True)
        again = compute(world.county, this_year(), children=True)
    assert rows() == kept  # nothing recomputed inside the request
    assert report.as_of is not None and report.as_of == again.as_of == oldest - dt.timedelta(days=1) < TODAY
    document = report.document()
    assert document["as_of"] == report.as_of.isoformat()
    # Every patient's rows hold the records as of that day: the same figures as the definition cut off then.
    as_of = replace(this_year(), cutoff_date=report.as_of)
    assert body(document) == body(compute_direct(world.county, as_of, children=True).document())
    assert len(queued) == 1  # one refresh queued for the area, however many reports asked

    for send in queued:  # the transaction commits: the refresh runs (eagerly here)
        send()
    assert rows() == fresh
    current = compute(world.county, this_year(), children=True)
    assert current.as_of is None and "as_of" not in current.document()
    assert body(current.document()) == body(compute_direct(world.county, this_year(), children=True).document())


def test_few_stale_patients_are_still_refreshed_inside_the_request(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    fresh = stale_since(world)  # 2 stale patients, under the default limit
    with django_capture_on_commit_callbacks() as queued:
        report = compute(world.county, this_year(), children=True)
    assert rows() == fresh and report.as_of is None and not queued
    assert body(report.document()) == body(compute_direct(world.county, this_year(), children=True).document())


def test_a_period_that_ended_before_the_rows_expired_needs_no_refresh(
    world: World, settings: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    stale_since(world)
    settings.METRICS_INLINE_REFRESH_LIMIT = 0
    kept = rows()
    first = EARLIER.replace(day=1) - dt.timedelta(days=1)  # the month before the one the rows were computed in
    period = parse_period(f"{first.year}-{first.month:02d}")
    with django_capture_on_commit_callbacks() as queued:
        report = compute(world.county, period, children=True)
    assert rows() == kept and report.as_of is None and not queued
    assert body(report.document()) == body(compute_direct(world.county, period, children=True).document())


def test_a_next_followup_date_passing_is_calendar_staleness_too(
    world: World, settings: Any, eager_celery: None, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    day = TODAY - dt.timedelta(days=3)  # the rows were computed then; the next date was that day
    post(world.doctor_a, world.patient_a, stable_visit(day - dt.timedelta(days=20), next_date=day))
    rebuild(day=day)
    expiry = PatientYearState.objects.filter(patient=world.patient_a, year=day.year).values_list("valid_until")
    assert set(expiry) == {(day + dt.timedelta(days=1),)}  # overdue from the day after the next date
    settings.METRICS_INLINE_REFRESH_LIMIT = 0
    period = parse_period(str(day.year))
    with django_capture_on_commit_callbacks() as queued:
        report = compute(world.county, period)
    assert report.as_of == day
    assert body(report.document()) == body(compute_direct(world.county, replace(period, cutoff_date=day)).document())
    for send in queued:
        send()
    current = compute(world.county, period).document()
    assert current["counts"]["overdue_at_cutoff"] == report.document()["counts"]["overdue_at_cutoff"] + 1
    assert body(current) == body(compute_direct(world.county, period).document())


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_the_json_and_the_spreadsheet_say_as_of(
    world: World, settings: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    from openpyxl import load_workbook

    stale_since(world)
    settings.METRICS_INLINE_REFRESH_LIMIT = 0
    client = client_for(world.county_d)
    params = {"area": "320508", "period": str(TODAY.year)}
    with django_capture_on_commit_callbacks():
        page = client.get("/reports/", params).content.decode()
        document = client.get("/reports/api/indicators", params).json()
        sheet = client.get("/reports/xlsx", params)
    day = document["as_of"]
    assert dt.date.fromisoformat(day) < TODAY
    assert f"数据截至{day}" in page
    texts = [str(cell.value) for row in load_workbook(BytesIO(sheet.content)).worksheets[0].iter_rows() for cell in row]
    assert any(text.startswith(f"数据截至{day}") for text in texts)

    settings.METRICS_INLINE_REFRESH_LIMIT = 100  # few enough: refreshed inline, nothing said
    assert "as_of" not in client.get("/reports/api/indicators", params).json()
    assert "数据截至" not in client.get("/reports/", params).content.decode()


def test_the_pdf_says_as_of(
    world: World, settings: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    from metrics.models import PdfExport
    from metrics.reports.pdf import content_for_export

    stale_since(world)
    settings.METRICS_INLINE_REFRESH_LIMIT = 0
    export = PdfExport.objects.create(requested_by=world.county_d, area_code="320508000000", period=str(TODAY.year))
    with django_capture_on_commit_callbacks():
        content, _code = content_for_export(export)
    assert content.footer[0].startswith("数据截至") and content.footer[0][4:14] < TODAY.isoformat()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_refreshes_the_area_a_report_did_not_wait_for(world: World, tmp_path: Path) -> None:
    from metrics.state.tasks import refresh_area_state

    fresh = stale_since(world)
    with real_worker(QUEUE, tmp_path) as log:
        refresh_area_state.apply_async(args=("320508",), queue=QUEUE)
        deadline = time.monotonic() + 60
        while PatientYearState.objects.filter(valid_until__lte=TODAY).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert rows() == fresh, log.read_text()[-2000:]
