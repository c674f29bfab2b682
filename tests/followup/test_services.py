"""record_followup: validation that writes nothing, idempotency, care state, status changes."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

import pytest
from django.db import connection

from casemgmt.audit.models import AuditEvent
from followup import services
from followup.models import FollowUp, MedicationRow, PatientCareState
from registry.models import Patient
from tests.base import World
from tests.followup.base import RISPERIDONE, TODAY, reached_data, record

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int]:
    return (
        FollowUp.objects.count(),
        MedicationRow.objects.count(),
        PatientCareState.objects.count(),
        AuditEvent.objects.count(),
    )


def test_a_reached_follow_up_with_medication(world: World) -> None:
    followup = record(world.patient_a, world.doctor_a)
    assert followup.is_complete
    assert [m.describe() for m in followup.medications.all()] == ["利培酮 1-0-2 mg"]
    state = PatientCareState.objects.get(patient=world.patient_a)
    assert (state.classification, state.next_due_date, state.risk_level) == (3, followup.next_date, 0)
    assert followup.suggested_classification == 3
    assert followup.suggested_next_date is not None


@pytest.mark.parametrize(
    ("case", "data", "medications", "field"),
    [
        ("in the future", reached_data(TODAY + dt.timedelta(days=1)), [], "date"),
        ("before registration", reached_data(TODAY - dt.timedelta(days=2000)), [], "date"),
        ("hospitalisation 2 without discharge date", reached_data(hospitalisation=2), [], "last_discharge_date"),
        ("negative count", reached_data(trouble=-1), [], "trouble"),
        (
            "non-numeric dose",
            reached_data(),
            [{"drug": "奥氮平", "shape": "frequency", "times_per_day": "2", "mg_per_dose": "五"}],
            "medication-1",
        ),
        (
            "zero dose",
            reached_data(),
            [{"drug": "奥氮平", "shape": "depot", "depot_every_weeks": "4", "depot_mg": "0"}],
            "medication-1",
        ),
        (
            "clinical fields on a not-reached attempt",
            {"date": TODAY, "mode": 3, "outcome": "NOT_REACHED", "risk_level": 2},
            [],
            "outcome",
        ),
        (
            "medication on a not-reached attempt",
            {"date": TODAY, "mode": 3, "outcome": "NOT_REACHED"},
            [RISPERIDONE],
            "outcome",
        ),
        ("missing risk level", reached_data(risk_level=None), [], "risk_level"),
        ("self-harm below level 4 unconfirmed", reached_data(risk_level=2, self_harm=1), [], "risk_level"),
        (
            "later than suggested without reason",
            reached_data(next_date=TODAY + dt.timedelta(days=200)),
            [],
            "next_date",
        ),
        ("lost without a reason", {"date": TODAY, "mode": 2, "outcome": "LOST"}, [], "lost_reason"),
        ("dead without a cause", {"date": TODAY, "mode": 2, "outcome": "DEAD", "death_date": TODAY}, [], "death_cause"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    world: World, case: str, data: dict[str, Any], medications: list[dict[str, Any]], field: str
) -> None:
    before = counts()
    with pytest.raises(services.FollowUpError) as error:
        record(world.patient_a, world.doctor_a, data, medications)
    assert field in error.value.errors, case
    assert all(message for messages in error.value.errors.values() for message in messages)
    assert counts() == before


def test_confirmed_self_harm_below_four_and_a_reasoned_later_date_are_accepted(world: World) -> None:
    data = reached_data(
        risk_level=2,
        self_harm=1,
        self_harm_level_confirmed=True,
        classification=2,
        next_date=TODAY + dt.timedelta(days=40),
        next_date_reason="患者外出务工，返乡后随访",
    )
    followup = record(world.patient_a, world.doctor_a, data)
    assert followup.risk_level == 2  # stored as entered, never raised silently


def test_the_same_submission_twice_creates_one_follow_up(world: World) -> None:
    key = uuid.uuid4()
    first = services.record_followup(
        actor=world.doctor_a,
        patient=world.patient_a,
        data=reached_data(),
        medications=[RISPERIDONE],
        submission_key=key,
    )
    again = services.record_followup(
        actor=world.doctor_a,
        patient=world.patient_a,
        data=reached_data(),
        medications=[RISPERIDONE],
        submission_key=key,
    )
    assert first.pk == again.pk
    assert FollowUp.objects.count() == 1 and MedicationRow.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_double_submit_creates_one_follow_up() -> None:
    from tests.base import build_world

    world = build_world()
    key, results, barrier = uuid.uuid4(), [], threading.Barrier(2)

    def submit() -> None:
        try:
            barrier.wait()
            patient = Patient.objects.get(pk=world.patient_a.pk)
            results.append(
                services.record_followup(
                    actor=world.doctor_a,
                    patient=patient,
                    data=reached_data(),
                    medications=[RISPERIDONE],
                    submission_key=key,
                ).pk
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results[0] == results[1]
    assert FollowUp.objects.count() == 1 and MedicationRow.objects.count() == 1


def test_not_reached_attempts_count_and_a_reached_one_resets(world: World) -> None:
    for days in (3, 2, 1):
        record(
            world.patient_a,
            world.doctor_a,
            {"date": TODAY - dt.timedelta(days=days), "mode": 3, "outcome": "NOT_REACHED"},
            [],
        )
    state = PatientCareState.objects.get(patient=world.patient_a)
    assert state.consecutive_not_reached == 3
    assert not FollowUp.objects.filter(patient=world.patient_a).first().is_complete  # type: ignore[union-attr]
    record(world.patient_a, world.doctor_a, reached_data(TODAY))
    state.refresh_from_db()
    assert state.consecutive_not_reached == 0


def test_lost_then_found_again_and_dead(world: World) -> None:
    record(
        world.patient_a,
        world.doctor_a,
        {"date": TODAY - dt.timedelta(days=5), "mode": 2, "outcome": "LOST", "lost_reason": 1},
        [],
    )
    world.patient_a.refresh_from_db()
    assert world.patient_a.status == "LOST"
    record(world.patient_a, world.doctor_a, reached_data(TODAY - dt.timedelta(days=3)))
    world.patient_a.refresh_from_db()
    assert world.patient_a.status == "ACTIVE"
    record(
        world.patient_a,
        world.doctor_a,
        {"date": TODAY, "mode": 2, "outcome": "DEAD", "death_date": TODAY, "death_cause": 1, "death_subcause": 3},
        [],
    )
    world.patient_a.refresh_from_db()
    assert world.patient_a.status == "DEAD"
    assert [c.to_status for c in world.patient_a.status_changes.all()] == ["ACTIVE", "LOST", "ACTIVE", "DEAD"]


def test_next_date_follows_the_previous_classification(world: World) -> None:
    first_day = TODAY - dt.timedelta(days=20)
    record(
        world.patient_a,
        world.doctor_a,
        reached_data(first_day, risk_level=1, classification=2, next_date=first_day + dt.timedelta(days=14)),
    )
    second = record(
        world.patient_a,
        world.doctor_a,
        reached_data(TODAY, risk_level=1, classification=2, next_date=TODAY + dt.timedelta(days=20)),
    )
    assert second.suggested_next_date is not None and second.suggested_next_date > TODAY + dt.timedelta(days=27)
