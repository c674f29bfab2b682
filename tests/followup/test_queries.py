"""The work list: order, sections, visibility and a constant number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from followup import queries
from followup.models import PatientCareState
from tests.base import World, make_patient
from tests.followup.base import TODAY, reached_data, record

pytestmark = pytest.mark.django_db


def schedule(patient: Any, due: dt.date, risk: int, classification: int = 3, not_reached: int = 0) -> None:
    PatientCareState.objects.update_or_create(
        patient=patient,
        defaults={
            "next_due_date": due,
            "risk_level": risk,
            "classification": classification,
            "consecutive_not_reached": not_reached,
        },
    )


def test_work_list_sections_and_order(world: World) -> None:
    long_overdue = make_patient(world.doctor_a, world.village_a1, birth_date=dt.date(1970, 1, 1))
    risky_overdue = make_patient(world.doctor_a, world.village_a1, birth_date=dt.date(1971, 1, 1))
    calm_overdue = make_patient(world.doctor_a, world.village_a2, birth_date=dt.date(1972, 1, 1))
    soon = make_patient(world.doctor_a, world.village_a2, birth_date=dt.date(1973, 1, 1))
    schedule(long_overdue, TODAY - dt.timedelta(days=30), risk=0)
    schedule(risky_overdue, TODAY - dt.timedelta(days=10), risk=4, classification=1)
    schedule(calm_overdue, TODAY - dt.timedelta(days=10), risk=1, not_reached=3)
    schedule(soon, TODAY + dt.timedelta(days=3), risk=0)
    schedule(world.patient_b, TODAY - dt.timedelta(days=50), risk=5)  # another township

    work = queries.work_list(world.doctor_a, TODAY)
    assert [i.patient.pk for i in work.overdue] == [long_overdue.pk, risky_overdue.pk, calm_overdue.pk]
    assert work.overdue[0].overdue_days == 30
    assert [i.patient.pk for i in work.due_soon] == [soon.pk]
    assert [i.patient.pk for i in work.unstable] == [risky_overdue.pk]
    assert [i.patient.pk for i in work.not_reached] == [calm_overdue.pk]
    assert world.patient_b.pk not in {i.patient.pk for i in work.overdue}
    assert queries.work_list(world.doctor_b, TODAY).overdue[0].patient.pk == world.patient_b.pk


def test_a_reached_follow_up_takes_the_patient_off_the_overdue_list(world: World) -> None:
    schedule(world.patient_a, TODAY - dt.timedelta(days=5), risk=0)
    assert [i.patient.pk for i in queries.work_list(world.doctor_a, TODAY).overdue] == [world.patient_a.pk]
    record(world.patient_a, world.doctor_a, reached_data(TODAY))
    assert queries.work_list(world.doctor_a, TODAY).overdue == []


def test_work_list_query_count_is_constant(world: World, django_assert_max_num_queries: Any) -> None:
    for year in range(1960, 1975):
        patient = make_patient(world.doctor_a, world.village_a1, birth_date=dt.date(year, 3, 3))
        schedule(patient, TODAY - dt.timedelta(days=year - 1950), risk=year % 5, classification=1)
    with django_assert_max_num_queries(7):
        work = queries.work_list(world.doctor_a, TODAY)
        assert len(work.overdue) == 15
        _ = [item.patient.village.name for item in work.overdue]


def test_overdue_counts_by_township_for_county_staff(world: World) -> None:
    schedule(world.patient_a, TODAY - dt.timedelta(days=5), risk=0)
    schedule(world.patient_b, TODAY + dt.timedelta(days=5), risk=0)
    rows = {
        area.code: (overdue, total)
        for area, overdue, total in queries.overdue_counts_by_township(world.county_d, TODAY)
    }
    assert rows == {world.township_a.code: (1, 1), world.township_b.code: (0, 1)}


def test_timeline_and_medication_history(world: World) -> None:
    record(world.patient_a, world.doctor_a, reached_data(TODAY - dt.timedelta(days=30)))
    record(
        world.patient_a,
        world.doctor_a,
        reached_data(TODAY),
        [{"drug": "奥氮平", "shape": "frequency", "times_per_day": "1", "mg_per_dose": "10"}],
    )
    kinds = [entry.kind for entry in queries.timeline(world.patient_a)]
    assert kinds.count("followup") == 2 and "medication" in kinds and "status" in kinds
    assert [row.drug for row in queries.current_regimen(world.patient_a)] == ["奥氮平"]
    assert len(queries.medication_history(world.patient_a)) == 2
    assert [a for _d, a in queries.adherence_over_time(world.patient_a)] == [1, 1]
