"""The indicator state: slots, freshness through the web, the rebuild command, staleness, the trend query."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from metrics.indicators.periods import parse_period
from metrics.models import AreaSlotState, IndicatorStateBuild, PatientYearState
from metrics.reports.engine import compute, compute_direct, compute_months
from metrics.state import rebuild as rebuild_module
from metrics.state import write
from metrics.state.calendar import SLOTS, YTD_SLOTS, answers, slot_of
from metrics.state.read import counts_of_rows, counts_of_totals, is_built
from metrics.state.rebuild import rebuild, refresh_area, refresh_calendar
from metrics.state.tasks import refresh_area_state
from metrics.state.write import refresh, refresh_stale, stale_pages, suspended
from registry.models import Patient
from registry.signals import announce_patient_change, announcements_batched, patient_facts_changed
from tests.base import TODAY, World
from tests.followup.test_views_form import post, stable_visit

pytestmark = pytest.mark.django_db


def rows() -> Any:
    return counts_of_rows(list(PatientYearState.objects.all())), counts_of_totals()


def document(report: Any) -> dict[str, Any]:
    body = report.document()
    body.pop("computed_at")
    return body


def test_every_period_has_its_own_slot_and_the_aliases_share_one() -> None:
    year = TODAY.year - 1
    keys = [str(year)] + [f"{year}-Q{q}" for q in range(1, 5)] + [f"{year}-{m:02d}" for m in range(1, 13)]
    slots = [slot_of(parse_period(key)) for key in keys]
    assert sorted(slots) == list(range(17))  # type: ignore[type-var]
    ytd = {m: slot_of(parse_period(f"{year}-YTD-{m:02d}")) for m in range(1, 13)}
    assert (ytd[1], ytd[3], ytd[12]) == (slots[5], slots[1], slots[0])
    assert len({ytd[m] for m in YTD_SLOTS} | set(slots)) == len(SLOTS) == 26


def test_a_running_period_for_another_day_is_computed_directly() -> None:
    running = parse_period(f"{TODAY.year}")
    assert answers(running)
    assert not answers(replace(running, cutoff_date=TODAY - dt.timedelta(days=1)))


def test_a_followup_posted_through_the_web_is_in_the_next_report(world: World) -> None:
    period = parse_period(f"{TODAY.year}-{TODAY.month:02d}")
    before = compute(world.county, period, children=True).document()["counts"]["managed"]
    response = post(world.doctor_a, world.patient_a, stable_visit(TODAY))
    assert response.status_code == 302
    report = compute(world.county, period, children=True)  # no task ran in between
    assert report.document()["counts"]["managed"] == before + 1
    assert document(report) == document(compute_direct(world.county, period, children=True))


def test_the_rebuild_command_changes_nothing_after_the_incremental_path(world: World) -> None:
    post(world.doctor_a, world.patient_a, stable_visit(TODAY))
    kept = rows()
    assert kept[0] and kept[1]
    out = io.StringIO()
    call_command("rebuild_indicator_state", "--batch-size", "1", stdout=out)
    assert "rebuilt: 2 patients" in out.getvalue()
    assert rows() == kept
    call_command("rebuild_indicator_state", "--years", str(TODAY.year), "--workers", "2", stdout=io.StringIO())
    assert rows() == kept


def test_the_rebuild_command_refuses_a_year_out_of_range(world: World) -> None:
    with pytest.raises(CommandError, match="统计年份须在2000年至今年之间"):
        call_command("rebuild_indicator_state", "--years", str(TODAY.year + 1), stdout=io.StringIO())


def test_state_the_calendar_made_stale_is_refreshed(world: World) -> None:
    post(world.doctor_a, world.patient_a, stable_visit(TODAY - dt.timedelta(days=100)))
    fresh = rows()
    rebuild(day=TODAY - dt.timedelta(days=40))  # as if nothing had been written for 40 days
    assert rows() != fresh
    assert refresh_stale() == 2
    assert rows() == fresh
    assert refresh_stale() == 0


def test_stale_patients_are_listed_a_bounded_page_at_a_time_in_id_order(world: World) -> None:
    rebuild(day=TODAY - dt.timedelta(days=400))  # every row of both patients expired since
    ids = sorted([world.patient_a.pk, world.patient_b.pk])
    pages = list(stale_pages(TODAY, size=1))
    assert pages == [{TODAY.year - 1: [ids[0]]}, {TODAY.year - 1: [ids[1]]}]
    assert list(stale_pages(TODAY, "320508002000", "320508002999")) == [{TODAY.year - 1: [world.patient_b.pk]}]


def test_an_area_refresh_recomputes_its_stale_patients_page_by_page_and_only_theirs(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    post(world.doctor_a, world.patient_a, stable_visit(TODAY - dt.timedelta(days=100)))
    post(world.doctor_b, world.patient_b, stable_visit(TODAY - dt.timedelta(days=100)))
    fresh = rows()
    rebuild(day=TODAY - dt.timedelta(days=40))
    monkeypatch.setattr(write, "STALE_PAGE", 1)
    assert refresh_area_state("320508002") == 1  # township B: patient_b only
    assert list(stale_pages(TODAY)) == [{TODAY.year: [world.patient_a.pk]}]
    assert refresh_area_state("32") == 1
    assert rows() == fresh
    rebuild(day=TODAY - dt.timedelta(days=40))
    assert refresh_area_state("") == 2  # the whole country
    assert rows() == fresh


@pytest.mark.parametrize("share_for_all", [2, 1], ids=["half of the registry: all", "less: its own"])
def test_an_area_with_many_stale_patients_that_are_a_large_share_is_refreshed_with_all(
    world: World, monkeypatch: pytest.MonkeyPatch, share_for_all: int
) -> None:
    post(world.doctor_a, world.patient_a, stable_visit(TODAY - dt.timedelta(days=100)))
    fresh = rows()
    rebuild(day=TODAY - dt.timedelta(days=40))
    monkeypatch.setattr(rebuild_module, "AREA_SHARE_FOR_ALL", share_for_all)
    everyone = connection.vendor == "postgresql" and share_for_all == 2  # on SQLite an area's own, always
    assert refresh_area("320508002", bulk_above=0) == (2 if everyone else 1)
    assert list(stale_pages(TODAY)) == ([] if everyone else [{TODAY.year: [world.patient_a.pk]}])
    refresh_area("320508001", bulk_above=0)
    assert rows() == fresh


@pytest.mark.postgres  # the set-based rebuild is PostgreSQL's
def test_a_rebuild_stores_an_areas_rows_of_a_year_together(world: World) -> None:
    """A township's report reads its rows of one year: stored together, a few pages instead of one per patient."""
    post(world.doctor_a, world.patient_a, stable_visit(TODAY - dt.timedelta(days=100)))
    rebuild()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT year, area_code FROM {PatientYearState._meta.db_table} ORDER BY ctid")  # noqa: S608
        stored = cursor.fetchall()
    assert len({area for _, area in stored}) == 2 and len({year for year, _ in stored}) > 1
    assert stored == sorted(stored)


def test_many_stale_patients_are_refreshed_set_based_to_the_same_rows(world: World) -> None:
    post(world.doctor_a, world.patient_a, stable_visit(TODAY - dt.timedelta(days=100)))
    fresh = rows()
    rebuild(day=TODAY - dt.timedelta(days=40))
    stale = list(PatientYearState.objects.values_list("patient_id", flat=True).distinct())
    refresh(stale, since_year=TODAY.year - 3, set_based_above=0)  # PostgreSQL: set-based; else Python
    assert rows() == fresh


@pytest.mark.parametrize("left_out", [0, 1], ids=["the whole registry", "all but one"])
def test_a_set_based_refresh_of_the_whole_registry_or_of_part_of_it_is_the_same(world: World, left_out: int) -> None:
    post(world.doctor_a, world.patient_a, stable_visit(TODAY - dt.timedelta(days=100)))
    fresh = rows()
    rebuild(day=TODAY - dt.timedelta(days=40))
    everyone = sorted(Patient.objects.values_list("pk", flat=True))
    refresh(everyone[left_out:], since_year=TODAY.year - 3, set_based_above=0)  # PostgreSQL: set-based; else Python
    refresh(everyone[:left_out], since_year=TODAY.year - 3)  # the one left out, in Python
    assert rows() == fresh


def test_the_nightly_refresh_of_a_whole_month_is_set_based_and_the_same(world: World) -> None:
    post(world.doctor_a, world.patient_a, stable_visit(TODAY - dt.timedelta(days=100)))
    fresh = rows()
    rebuild(day=TODAY - dt.timedelta(days=40))
    assert refresh_calendar(bulk_above=0) == 2  # PostgreSQL: the stale years rebuilt for all; else one by one
    assert rows() == fresh
    assert refresh_calendar(bulk_above=0) == 0


def test_the_trend_is_one_query_and_agrees_with_the_definition(
    world: World, django_assert_max_num_queries: Any
) -> None:
    post(world.doctor_a, world.patient_a, stable_visit(TODAY))
    months = parse_period(str(TODAY.year)).months()
    with django_assert_max_num_queries(6):
        results = compute_months(world.county, months)
    assert [r.tally.counts for r in results] == [compute_direct(world.county, m).area.tally.counts for m in months]


def test_announcements_in_a_batch_arrive_as_one(world: World) -> None:
    received: list[dict[str, Any]] = []

    def listener(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    patient_facts_changed.connect(listener)
    try:
        with announcements_batched():
            announce_patient_change(patient_id=world.patient_a.pk, since=TODAY)
            announce_patient_change(patient_id=world.patient_b.pk, since=TODAY - dt.timedelta(days=3))
            assert received == []
    finally:
        patient_facts_changed.disconnect(listener)
    assert len(received) == 1
    assert received[0]["patient_ids"] == tuple(sorted((world.patient_a.pk, world.patient_b.pk)))
    assert received[0]["since"] == TODAY - dt.timedelta(days=3)


def test_before_the_first_build_reports_are_computed_directly(world: World) -> None:
    """An upgraded database: patients, but the state was never built. Reports must not read the empty state."""
    period = parse_period(f"{TODAY.year}-{TODAY.month:02d}")
    post(world.doctor_a, world.patient_a, stable_visit(TODAY))
    IndicatorStateBuild.objects.all().delete()
    PatientYearState.objects.all().delete()
    AreaSlotState.objects.all().delete()
    assert not is_built()
    report = compute(world.county, period)
    assert report.document()["counts"]["registered"] == 2
    assert document(report) == document(compute_direct(world.county, period))
    call_command("rebuild_indicator_state", stdout=io.StringIO())
    assert is_built()
    assert document(compute(world.county, period)) == document(compute_direct(world.county, period))


def test_a_suspended_bulk_load_leaves_the_upkeep_to_the_rebuild(world: World) -> None:
    before = rows()
    with suspended():
        post(world.doctor_a, world.patient_a, stable_visit(TODAY))
    assert rows() == before
    rebuild()
    assert rows() != before
    post(world.doctor_b, world.patient_b, stable_visit(TODAY))  # upkeep is back outside the block
    after = rows()
    rebuild()
    assert rows() == after


def test_a_partial_rebuild_without_a_full_build_says_reports_stay_direct(world: World) -> None:
    IndicatorStateBuild.objects.all().delete()
    err = io.StringIO()
    call_command("rebuild_indicator_state", "--years", str(TODAY.year), stdout=io.StringIO(), stderr=err)
    assert "尚无完整的指标状态" in err.getvalue() and not is_built()
    err = io.StringIO()
    call_command("rebuild_indicator_state", stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == "" and is_built()


@pytest.mark.parametrize("late_by", [0, 1], ids=["seen the day after its next date", "seen a day later"])
def test_overdue_begins_the_day_after_the_next_date_in_the_rebuild_as_in_the_upkeep(world: World, late_by: int) -> None:
    """A month's cut-off on the day after the next date: overdue there only when the next visit came later still.
    The set-based rebuild skips visits followed in time by the next one; it must agree with the upkeep at the edge."""
    last_month = (TODAY.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    cut = last_month - dt.timedelta(days=1)  # the last day of the month before last
    day = dt.timedelta(days=1)
    post(world.doctor_a, world.patient_a, stable_visit(cut - 30 * day, next_date=cut - day))
    post(world.doctor_a, world.patient_a, stable_visit(cut + late_by * day, next_date=TODAY + 30 * day))
    kept = rows()
    overdue = PatientYearState.objects.filter(patient=world.patient_a, overdue_i__isnull=False)
    assert overdue.exists() == bool(late_by)
    rebuild()  # PostgreSQL: set-based; else Python
    assert rows() == kept
