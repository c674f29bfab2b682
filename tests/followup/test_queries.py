"""The work list, overdue counts, medication queries and the timeline: order, visibility, pinned query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest

from followup.models import FollowUp, PatientCareState
from followup.rehab import services as rehab_services
from followup.visits import queries
from registry.models import Patient
from tests.base import World, make_patient
from tests.followup.base import TODAY, attempt_data, reached_data, record

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
_births = iter(dt.date(1950, 1, 1) + n * dt.timedelta(days=97) for n in range(10_000))


def patient_in(world: World, village: Any = None) -> Patient:
    """Another patient of township A (distinct birth dates keep the synthetic ID numbers distinct)."""
    return make_patient(world.doctor_a, village or world.village_a1, birth_date=next(_births))


def schedule(
    patient: Patient, due: dt.date | None, risk: int | None, classification: int = 3, not_reached: int = 0
) -> None:
    PatientCareState.objects.update_or_create(
        patient=patient,
        defaults={
            "next_due_date": due,
            "risk_level": risk,
            "classification": classification,
            "consecutive_not_reached": not_reached,
        },
    )


def pks(items: list[queries.WorkItem]) -> list[int]:
    return [item.patient.pk for item in items]


# --- the work list -------------------------------------------------------------------------------------------------


def test_work_list_sections_and_order(world: World) -> None:
    long_overdue, risky_overdue, calm_overdue = (
        patient_in(world),
        patient_in(world),
        patient_in(world, world.village_a2),
    )
    soon, later_soon, due_today, not_yet = (patient_in(world) for _ in range(4))
    schedule(long_overdue, TODAY - 30 * DAY, risk=0)
    schedule(risky_overdue, TODAY - 10 * DAY, risk=4, classification=1)
    schedule(calm_overdue, TODAY - 10 * DAY, risk=1, not_reached=3)
    schedule(soon, TODAY + 3 * DAY, risk=0)
    schedule(later_soon, TODAY + 7 * DAY, risk=2, classification=2)
    schedule(due_today, TODAY, risk=0)
    schedule(not_yet, TODAY + 8 * DAY, risk=0)
    schedule(world.patient_b, TODAY - 50 * DAY, risk=5, classification=1)  # another township

    work = queries.work_list(world.doctor_a, TODAY)
    # Overdue: longest overdue first, then highest risk. Due today is not overdue.
    assert pks(work.overdue) == [long_overdue.pk, risky_overdue.pk, calm_overdue.pk]
    assert [item.overdue_days for item in work.overdue] == [30, 10, 10]
    assert pks(work.due_soon) == [due_today.pk, soon.pk, later_soon.pk]  # within 7 days, soonest first
    assert pks(work.unstable) == [risky_overdue.pk]
    assert pks(work.not_reached) == [calm_overdue.pk]
    assert work.without_schedule == 1  # patient_a: registered, never followed up
    assert work.totals == {"overdue": 3, "due_soon": 3, "unstable": 1, "not_reached": 1, "without_schedule": 1}
    item = work.overdue[1]
    assert (item.risk_level, item.classification, item.next_due) == (4, 1, TODAY - 10 * DAY)


def test_the_unstable_section_puts_the_highest_risk_first(world: World) -> None:
    low, high = patient_in(world), patient_in(world)
    schedule(low, TODAY + 20 * DAY, risk=3, classification=1)
    schedule(high, TODAY + 30 * DAY, risk=5, classification=1)
    assert pks(queries.work_list(world.doctor_a, TODAY).unstable) == [high.pk, low.pk]


def test_another_townships_doctor_sees_none_of_as_patients(world: World) -> None:
    for _ in range(3):
        schedule(patient_in(world), TODAY - 5 * DAY, risk=4, classification=1, not_reached=3)
    schedule(world.patient_a, TODAY + 2 * DAY, risk=0)
    work = queries.work_list(world.doctor_b, TODAY)
    assert work.overdue == work.due_soon == work.unstable == work.not_reached == []
    assert work.without_schedule == 1  # patient_b only
    assert queries.work_list(world.admin_e, TODAY).totals == {name: 0 for name in work.totals}


def test_only_patients_under_active_management_are_scheduled(world: World) -> None:
    lost, dead = patient_in(world), patient_in(world)
    for patient, status in ((lost, "LOST"), (dead, "DEAD")):
        schedule(patient, TODAY - 5 * DAY, risk=0)
        Patient.objects.filter(pk=patient.pk).update(status=status)
    assert queries.work_list(world.doctor_a, TODAY).overdue == []


def test_a_reached_follow_up_takes_the_patient_off_the_overdue_list_and_an_attempt_does_not(world: World) -> None:
    record(world.patient_a, world.doctor_a, reached_data(TODAY - 30 * DAY, next_date=TODAY - 5 * DAY))
    assert pks(queries.work_list(world.doctor_a, TODAY).overdue) == [world.patient_a.pk]
    record(world.patient_a, world.doctor_a, attempt_data(TODAY - DAY), [])
    assert pks(queries.work_list(world.doctor_a, TODAY).overdue) == [world.patient_a.pk]
    record(world.patient_a, world.doctor_a, reached_data(TODAY))
    assert queries.work_list(world.doctor_a, TODAY).overdue == []


@pytest.mark.parametrize("patients", [2, 15])
def test_work_list_query_count_does_not_grow_with_the_patients(
    world: World, django_assert_num_queries: Any, patients: int
) -> None:
    for n in range(patients):
        schedule(patient_in(world), TODAY - (n + 1) * DAY, risk=n % 6, classification=1, not_reached=n % 4)
    # the user's areas and grants, one query per section, one for the totals
    with django_assert_num_queries(7):
        work = queries.work_list(world.doctor_a, TODAY)
        _ = [(item.patient.village.name, cast(Any, item.patient).care_state.risk_level) for item in work.overdue]
    assert len(work.overdue) == patients


def test_work_list_fetches_what_the_page_shows_and_the_expanded_section_in_full(world: World) -> None:
    for n in range(4):
        schedule(patient_in(world), TODAY - (n + 1) * DAY, risk=0, classification=1)
    work = queries.work_list(world.doctor_a, TODAY, shown=2)
    assert len(work.overdue) == len(work.unstable) == 2 and work.totals["overdue"] == 4
    work = queries.work_list(world.doctor_a, TODAY, shown=2, expanded="unstable")
    assert len(work.overdue) == 2 and len(work.unstable) == 4


# --- overdue counts by township ------------------------------------------------------------------------------------


def test_overdue_counts_by_township(world: World, django_assert_num_queries: Any) -> None:
    schedule(world.patient_a, TODAY - 5 * DAY, risk=0)
    schedule(patient_in(world, world.village_a2), TODAY, risk=0)  # due today: not overdue
    schedule(world.patient_b, TODAY + 5 * DAY, risk=0)
    with django_assert_num_queries(4):  # the user's areas and grants, the grouped counts, the townships' names
        rows = queries.overdue_counts_by_township(world.county_d, TODAY)
    assert [(r.township.code, r.overdue, r.managed) for r in rows] == [
        (world.township_a.code, 1, 2),
        (world.township_b.code, 0, 1),
    ]
    assert [area.code for area, _overdue, _managed in queries.overdue_counts_by_township(world.doctor_b, TODAY)] == [
        world.township_b.code
    ]


# --- medication ----------------------------------------------------------------------------------------------------

OLANZAPINE = {"drug": "奥氮平", "shape": "frequency", "times_per_day": "1", "mg_per_dose": "10"}
DEPOT = {"drug": "棕榈酸帕利哌酮注射液", "shape": "depot", "depot_every_weeks": "4", "depot_mg": "150"}


def test_regimen_history_and_adherence(world: World) -> None:
    record(world.patient_a, world.doctor_a, reached_data(TODAY - 30 * DAY, adherence=2))
    record(world.patient_a, world.doctor_a, attempt_data(TODAY - 20 * DAY), [])
    record(world.patient_a, world.doctor_a, reached_data(TODAY), [OLANZAPINE, DEPOT])
    assert [row.describe() for row in queries.current_regimen(world.patient_a)] == [
        "奥氮平 1×10 mg/d",
        "棕榈酸帕利哌酮注射液 150 mg / 4 wk",
    ]
    history = queries.medication_history(world.patient_a)
    assert [(f.date, [r.drug for r in rows]) for f, rows in history] == [
        (TODAY, ["奥氮平", "棕榈酸帕利哌酮注射液"]),
        (TODAY - 30 * DAY, ["利培酮"]),
    ]
    assert queries.adherence_over_time(world.patient_a) == [(TODAY - 30 * DAY, 2), (TODAY, 1)]
    assert queries.current_regimen(world.patient_b) == []


# --- the timeline --------------------------------------------------------------------------------------------------


def test_timeline_merges_everything_newest_first(world: World) -> None:
    record(world.patient_a, world.doctor_a, reached_data(TODAY - 60 * DAY))  # first regimen: not a change
    record(world.patient_a, world.doctor_a, reached_data(TODAY - 40 * DAY))  # same regimen: no entry
    record(world.patient_a, world.doctor_a, attempt_data(TODAY - 30 * DAY, outcome="LOST", lost_reason=1), [])
    record(world.patient_a, world.doctor_a, reached_data(TODAY - 20 * DAY), [OLANZAPINE])  # found again, changed
    rehab_services.record_rehab_participation(
        actor=world.doctor_a,
        patient=world.patient_a,
        data={"provider_type": "work_therapy", "service_type": "手工", "start_date": TODAY - 10 * DAY},
        today=TODAY,
    )
    rehab_services.record_health_check(
        actor=world.doctor_a, patient=world.patient_a, data={"date": TODAY - 5 * DAY}, today=TODAY
    )
    entries = queries.timeline(world.patient_a)
    assert [(e.date, e.kind) for e in entries] == [
        (TODAY - 5 * DAY, "health_check"),
        (TODAY - 10 * DAY, "rehab"),
        (TODAY - 20 * DAY, "medication"),
        (TODAY - 20 * DAY, "followup"),
        (TODAY - 20 * DAY, "status"),  # LOST -> ACTIVE
        (TODAY - 30 * DAY, "followup"),
        (TODAY - 30 * DAY, "status"),  # -> LOST
        (TODAY - 40 * DAY, "followup"),
        (TODAY - 60 * DAY, "followup"),
        (world.patient_a.registered_on, "status"),  # registration
    ]
    medication = entries[2]
    assert isinstance(medication.obj, FollowUp)
    assert medication.detail == "奥氮平 1×10 mg/d" and medication.obj.date == TODAY - 20 * DAY
    oldest = queries.timeline(world.patient_a, newest_first=False)[0]
    assert (oldest.date, oldest.kind) == (world.patient_a.registered_on, "status")


def test_stopping_every_drug_is_a_change_but_a_stay_in_hospital_is_not(world: World) -> None:
    record(world.patient_a, world.doctor_a, reached_data(TODAY - 60 * DAY))
    in_hospital = reached_data(TODAY - 40 * DAY, hospitalisation=1, risk_level=None, insight=None, classification=2)
    in_hospital["next_date"] = in_hospital["date"] + 14 * DAY
    record(world.patient_a, world.doctor_a, in_hospital, [])
    record(world.patient_a, world.doctor_a, reached_data(TODAY - 20 * DAY))  # same regimen as before the stay
    record(world.patient_a, world.doctor_a, reached_data(TODAY - 10 * DAY, adherence=4), [])
    changes = [e for e in queries.timeline(world.patient_a) if e.kind == "medication"]
    assert [(e.date, e.detail) for e in changes] == [(TODAY - 10 * DAY, "停用全部药物")]


@pytest.mark.parametrize("visits", [1, 8])
def test_timeline_query_count_does_not_grow_with_the_history(
    world: World, django_assert_num_queries: Any, visits: int
) -> None:
    for n in range(visits):
        record(world.patient_a, world.doctor_a, reached_data(TODAY - (100 - 10 * n) * DAY), [OLANZAPINE])
    # follow-ups, their medication rows, status changes, rehabilitation, health checks
    with django_assert_num_queries(5):
        entries = queries.timeline(world.patient_a)
    assert len([e for e in entries if e.kind == "followup"]) == visits
