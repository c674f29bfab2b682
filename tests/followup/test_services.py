"""record_followup and the rehabilitation / health-check services: every refusal names its field and writes
nothing; idempotency (also under a real race on PostgreSQL); the care state; LOST and DEAD; audit rows."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from casemgmt.audit.models import AuditEvent, AuditSubject
from followup.models import FollowUp, HealthCheck, MedicationRow, PatientCareState, RehabParticipation
from followup.rehab import services as rehab_services
from followup.visits import rules, services
from registry.models import Patient, StatusChange
from registry.patients import services as registry_services
from tests.base import World
from tests.followup.base import RISPERIDONE, TODAY, attempt_data, reached_data, record

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def counts() -> tuple[int, ...]:
    return (
        FollowUp.objects.count(),
        MedicationRow.objects.count(),
        PatientCareState.objects.count(),
        StatusChange.objects.count(),
        AuditEvent.objects.count(),
        RehabParticipation.objects.count(),
        HealthCheck.objects.count(),
    )


def refuse(fn: Any, field: str, **kwargs: Any) -> list[str]:
    """Call a service that must refuse; returns the field's messages after checking nothing was written."""
    before = counts()
    with pytest.raises(services.FollowUpError) as error:
        fn(**kwargs)
    assert counts() == before
    messages = error.value.errors.get(field)
    assert messages, error.value.errors
    assert all(isinstance(m, str) and m for ms in error.value.errors.values() for m in ms)
    return messages


# --- a follow-up that is accepted ---------------------------------------------------------------------------------


def test_a_reached_follow_up_with_medication(world: World) -> None:
    followup = record(world.patient_a, world.doctor_a)
    assert followup.is_complete and followup.doctor == world.doctor_a
    assert [m.describe() for m in followup.medications.all()] == ["利培酮 1-0-2 mg"]
    assert (followup.suggested_classification, followup.suggested_next_date) == (
        3,
        rules.next_followup_date(3, followup.date),
    )
    state = PatientCareState.objects.get(patient=world.patient_a)
    assert (state.classification, state.next_due_date, state.risk_level) == (3, followup.next_date, 0)
    assert (state.last_followup_date, state.last_reached_date, state.last_complete_followup) == (
        followup.date,
        followup.date,
        followup,
    )


def test_the_audit_event_names_the_patient_by_uuid_only(world: World) -> None:
    followup = record(world.patient_a, world.doctor_a)
    event = AuditEvent.objects.get(detail__record="followup")
    assert event.action == "create" and event.actor == world.doctor_a
    assert event.detail == {"record": "followup", "followup": str(followup.uuid), "outcome": "REACHED"}
    assert list(AuditSubject.objects.filter(event=event).values_list("patient_uuid", flat=True)) == [
        world.patient_a.uuid
    ]
    text = str(event.detail)
    assert world.patient_a.name not in text and world.patient_a.national_id not in text


def test_codes_as_digit_strings_and_stored_as_entered(world: World) -> None:
    data = reached_data(risk_level="1", insight="2", classification="2", symptoms=["3", "1"], contacts=["2", "1"])
    data["next_date"] = data["date"] + 14 * DAY
    followup = record(world.patient_a, world.doctor_a, data)
    followup.refresh_from_db()
    assert (followup.risk_level, followup.insight, followup.symptoms, followup.contacts) == (1, 2, [1, 3], [1, 2])


def test_a_patient_in_hospital_needs_no_risk_level_and_still_counts_as_complete(world: World) -> None:
    data = reached_data(hospitalisation=1, risk_level=None, insight=None, classification=2)
    data["next_date"] = data["date"] + 14 * DAY
    followup = record(world.patient_a, world.doctor_a, data, [])
    assert followup.is_complete and followup.risk_level is None
    assert followup.suggested_classification == 2  # nothing proves stability: left to the doctor
    assert FollowUp.objects.complete().get() == followup


def test_details_of_other_answers_are_dropped(world: World) -> None:
    data = reached_data(
        lab=1,
        lab_text="血常规正常",
        adverse_reaction=1,
        adverse_reaction_severe=True,
        referral=1,
        referral_reason="x",
        hospitalisation=0,
        last_discharge_date=TODAY - 30 * DAY,
        symptoms=[1],
        symptom_other="y",
        classification=2,
    )
    data["next_date"] = data["date"] + 14 * DAY
    followup = record(world.patient_a, world.doctor_a, data)
    assert (followup.lab_text, followup.adverse_reaction_severe, followup.referral_reason) == ("", False, "")
    assert (followup.last_discharge_date, followup.symptom_other) == (None, "")


def test_confirmed_self_harm_below_four_and_a_reasoned_later_date_are_accepted(world: World) -> None:
    data = reached_data(
        risk_level=2,
        self_harm=1,
        self_harm_level_confirmed=True,
        classification=2,
        next_date=TODAY + 40 * DAY,
        next_date_reason="患者外出务工，返乡后随访",
    )
    followup = record(world.patient_a, world.doctor_a, data)
    assert followup.risk_level == 2 and followup.self_harm_level_confirmed  # stored as entered, never raised
    assert followup.next_date_reason == "患者外出务工，返乡后随访"


def test_an_earlier_next_date_needs_no_reason_and_keeps_none(world: World) -> None:
    data = reached_data(next_date=TODAY + 7 * DAY, next_date_reason="无关的理由")
    followup = record(world.patient_a, world.doctor_a, data)
    assert followup.next_date == TODAY + 7 * DAY and followup.next_date_reason == ""


def test_referral_and_lab_details_are_kept(world: World) -> None:
    data = reached_data(
        referral=2,
        referral_reason="病情加重",
        referral_institution="市精神卫生中心",
        referral_department="精神科",
        lab=2,
        lab_text="肝功能轻度异常",
        adverse_reaction=2,
        adverse_reaction_text="锥体外系反应",
        adverse_reaction_severe=True,
        classification=1,
    )
    data["next_date"] = data["date"] + 14 * DAY
    followup = record(world.patient_a, world.doctor_a, data)
    assert followup.suggested_classification == 1  # a severe adverse reaction suggests unstable
    assert (followup.referral_department, followup.adverse_reaction_text) == ("精神科", "锥体外系反应")


# --- every refusal writes nothing ----------------------------------------------------------------------------------

LONG = "长" * 201
REACHED_REFUSALS = [
    # (case, changes to a valid reached follow-up, field named)
    ("date in the future", {"date": TODAY + DAY, "next_date": TODAY + 30 * DAY}, "date"),
    ("date before registration", {"date": TODAY - 2000 * DAY, "next_date": TODAY - 1990 * DAY}, "date"),
    ("date missing", {"date": None}, "date"),
    ("date not a date", {"date": "2025-02-30"}, "date"),
    ("outcome missing", {"outcome": None}, "outcome"),
    ("outcome unknown", {"outcome": "MAYBE"}, "outcome"),
    ("mode missing", {"mode": None}, "mode"),
    ("mode unknown", {"mode": 4}, "mode"),
    ("nobody contacted", {"contacts": []}, "contacts"),
    ("contact unknown", {"contacts": [1, 7]}, "contacts"),
    ("risk level missing", {"risk_level": None}, "risk_level"),
    ("risk level 6", {"risk_level": 6}, "risk_level"),
    ("risk level not a number", {"risk_level": "高"}, "risk_level"),
    ("insight missing", {"insight": None}, "insight"),
    ("adherence missing", {"adherence": None}, "adherence"),
    ("hospitalisation missing", {"hospitalisation": None}, "hospitalisation"),
    ("classification missing", {"classification": None}, "classification"),
    ("classification 4", {"classification": 4}, "classification"),
    ("next date missing", {"next_date": None}, "next_date"),
    ("next date on the visit day", {"next_date": TODAY - DAY}, "next_date"),
    ("next date later than suggested without reason", {"next_date": TODAY + 200 * DAY}, "next_date"),
    ("symptom unknown", {"symptoms": [13]}, "symptoms"),
    ("symptoms not a list", {"symptoms": "1"}, "symptoms"),
    ("'other' symptom without text", {"symptoms": [12], "classification": 2}, "symptom_other"),
    ("self-care 'not applicable'", {"social_selfcare": 9}, "social_selfcare"),
    ("hospitalisation 2 without discharge date", {"hospitalisation": 2}, "last_discharge_date"),
    ("discharge after the visit", {"hospitalisation": 2, "last_discharge_date": TODAY}, "last_discharge_date"),
    ("negative count", {"trouble": -1}, "trouble"),
    ("count not a whole number", {"minor_trouble": "两"}, "minor_trouble"),
    ("count too large", {"disaster": 100}, "disaster"),
    ("lab done without result", {"lab": 2}, "lab_text"),
    ("adverse reaction without description", {"adverse_reaction": 2}, "adverse_reaction_text"),
    ("referral without reason", {"referral": 2, "referral_institution": "市精神卫生中心"}, "referral_reason"),
    ("referral without institution", {"referral": 2, "referral_reason": "加重"}, "referral_institution"),
    ("rehabilitation 'other' without text", {"rehabilitation": [5]}, "rehabilitation_other"),
    ("text too long", {"lab": 2, "lab_text": LONG}, "lab_text"),
    ("text with a NUL character", {"lab": 2, "lab_text": "正常\x00"}, "lab_text"),
    ("a superscript is not a digit", {"risk_level": "²"}, "risk_level"),
    ("self-harm below level 4 unconfirmed", {"risk_level": 2, "self_harm": 1}, "risk_level"),
    ("suicide attempt at level 0 unconfirmed", {"suicide_attempt": 1}, "risk_level"),
]


@pytest.mark.parametrize(("case", "changes", "field"), REACHED_REFUSALS, ids=[r[0] for r in REACHED_REFUSALS])
def test_a_reached_follow_up_is_refused(world: World, case: str, changes: dict[str, Any], field: str) -> None:
    data = {**reached_data(), **changes}
    refuse(record, field, patient=world.patient_a, actor=world.doctor_a, data=data, medications=[RISPERIDONE])


MEDICATION_REFUSALS = [
    ("non-numeric dose", {"drug": "奥氮平", "shape": "frequency", "times_per_day": "2", "mg_per_dose": "五"}),
    ("zero dose", {"drug": "奥氮平", "shape": "depot", "depot_every_weeks": "4", "depot_mg": "0"}),
    ("negative dose", {"drug": "奥氮平", "shape": "schedule", "evening_mg": "-5"}),
    ("no drug name", {"drug": " ", "shape": "schedule", "evening_mg": "5"}),
    ("drug name too long", {"drug": "药" * 61, "shape": "schedule", "evening_mg": "5"}),
    ("drug name with a NUL character", {"drug": "奥氮\x00平", "shape": "schedule", "evening_mg": "5"}),
    ("unknown shape", {"drug": "奥氮平", "shape": "daily", "evening_mg": "5"}),
    ("frequency without mg", {"drug": "奥氮平", "shape": "frequency", "times_per_day": "2"}),
    ("depot without interval", {"drug": "棕榈酸帕利哌酮注射液", "shape": "depot", "depot_mg": "150"}),
    ("schedule without any dose", {"drug": "奥氮平", "shape": "schedule"}),
    ("fractional times per day", {"drug": "奥氮平", "shape": "frequency", "times_per_day": "1.5", "mg_per_dose": "5"}),
    ("three decimals", {"drug": "碳酸锂", "shape": "schedule", "morning_mg": "0.125"}),
    ("dose too large", {"drug": "碳酸锂", "shape": "schedule", "morning_mg": "100000"}),
    ("infinite dose", {"drug": "碳酸锂", "shape": "schedule", "morning_mg": "Infinity"}),
    ("fields of another shape", {"drug": "奥氮平", "shape": "schedule", "evening_mg": "5", "depot_mg": "5"}),
]


@pytest.mark.parametrize(("case", "row"), MEDICATION_REFUSALS, ids=[r[0] for r in MEDICATION_REFUSALS])
def test_a_medication_row_is_refused_by_its_number(world: World, case: str, row: dict[str, Any]) -> None:
    messages = refuse(
        record, "medication-2", patient=world.patient_a, actor=world.doctor_a, data=reached_data(),
        medications=[RISPERIDONE, row],
    )  # fmt: skip
    assert messages, case


ATTEMPT_REFUSALS = [
    ("clinical fields on a not-reached attempt", attempt_data(risk_level=2), [], "outcome"),
    ("hospitalisation 0 is still an answer", attempt_data(hospitalisation=0), [], "outcome"),
    ("medication on a not-reached attempt", attempt_data(), [RISPERIDONE], "outcome"),
    ("lost without a reason", attempt_data(outcome="LOST"), [], "lost_reason"),
    ("lost with an unknown reason", attempt_data(outcome="LOST", lost_reason=9), [], "lost_reason"),
    ("dead without a date", attempt_data(outcome="DEAD", death_cause=2), [], "death_date"),
    ("dead without a cause", attempt_data(outcome="DEAD", death_date=TODAY - DAY), [], "death_cause"),
    (
        "dead of a physical illness without its kind",
        attempt_data(outcome="DEAD", death_date=TODAY - DAY, death_cause=1),
        [],
        "death_subcause",
    ),
    (
        "death after the visit",
        attempt_data(TODAY - 2 * DAY, outcome="DEAD", death_date=TODAY - DAY, death_cause=2),
        [],
        "death_date",
    ),
    (
        "death before registration",
        attempt_data(outcome="DEAD", death_date=TODAY - 2000 * DAY, death_cause=2),
        [],
        "death_date",
    ),
]


@pytest.mark.parametrize(
    ("case", "data", "medications", "field"), ATTEMPT_REFUSALS, ids=[r[0] for r in ATTEMPT_REFUSALS]
)
def test_an_attempt_is_refused(
    world: World, case: str, data: dict[str, Any], medications: list[Any], field: str
) -> None:
    refuse(record, field, patient=world.patient_a, actor=world.doctor_a, data=data, medications=medications)


def test_every_problem_is_reported_at_once(world: World) -> None:
    """Each stage reports all of its problems together: the parser every single field, then the service every
    rule that spans fields."""
    data = reached_data(risk_level=None, mode=None, hospitalisation=2, trouble=-3)
    with pytest.raises(services.FollowUpError) as error:
        record(world.patient_a, world.doctor_a, data, [{"drug": "", "shape": "schedule", "depot_mg": "0"}])
    assert {"mode", "trouble", "medication-1"} <= set(error.value.errors)
    data = reached_data(risk_level=None, hospitalisation=2)
    with pytest.raises(services.FollowUpError) as error:
        record(world.patient_a, world.doctor_a, data, [{"drug": "", "shape": "schedule"}])
    assert {"risk_level", "last_discharge_date", "medication-1"} <= set(error.value.errors)


@pytest.mark.parametrize("status", ["DEAD", "CLOSED"])
def test_no_follow_up_for_a_dead_or_closed_record(world: World, status: str) -> None:
    Patient.objects.filter(pk=world.patient_a.pk).update(status=status)
    world.patient_a.refresh_from_db()
    refuse(record, "__all__", patient=world.patient_a, actor=world.doctor_a, data=reached_data(), medications=[])


def test_a_key_used_for_another_patient_is_refused(world: World) -> None:
    key = uuid.uuid4()
    record(world.patient_a, world.doctor_a, key=key)
    refuse(
        record, "__all__", patient=world.patient_b, actor=world.doctor_b, data=reached_data(), medications=[], key=key
    )


def test_a_status_change_the_registry_refuses_rolls_the_follow_up_back(world: World) -> None:
    registry_services.change_status(
        actor=world.doctor_a, patient=world.patient_a, to_status="REFUSED", effective_date=TODAY - 10 * DAY
    )
    world.patient_a.refresh_from_db()
    data = attempt_data(TODAY - 20 * DAY, outcome="LOST", lost_reason=1)  # before the refusal began
    refuse(record, "date", patient=world.patient_a, actor=world.doctor_a, data=data, medications=[])


def test_a_death_before_a_recorded_follow_up_is_refused(world: World) -> None:
    record(world.patient_a, world.doctor_a, reached_data(TODAY - 5 * DAY))
    data = attempt_data(TODAY - DAY, outcome="DEAD", death_date=TODAY - 10 * DAY, death_cause=2)
    refuse(record, "death_date", patient=world.patient_a, actor=world.doctor_a, data=data, medications=[])


# --- idempotency ---------------------------------------------------------------------------------------------------


def test_the_same_submission_twice_creates_one_follow_up(world: World) -> None:
    key = uuid.uuid4()
    first = record(world.patient_a, world.doctor_a, key=key)
    before = counts()
    again = record(world.patient_a, world.doctor_a, reached_data(risk_level=5), key=key)  # even with other data
    assert first.pk == again.pk and again.risk_level == 0
    assert counts() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_double_submit_creates_one_follow_up() -> None:
    from tests.base import build_world

    world = build_world()
    key, results, failures, barrier = uuid.uuid4(), [], [], threading.Barrier(2)

    def submit() -> None:
        try:
            patient = Patient.objects.get(pk=world.patient_a.pk)
            barrier.wait()
            results.append(record(patient, world.doctor_a, key=key).pk)
        except Exception as exc:  # reported below: an exception in a thread would otherwise pass silently
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(results) == 2 and results[0] == results[1]
    assert FollowUp.objects.count() == 1 and MedicationRow.objects.count() == 1
    assert AuditEvent.objects.filter(detail__record="followup").count() == 1


# --- care state ----------------------------------------------------------------------------------------------------


def test_not_reached_attempts_count_keep_the_patient_overdue_and_a_reached_one_resets(world: World) -> None:
    first = record(world.patient_a, world.doctor_a, reached_data(TODAY - 100 * DAY, next_date=TODAY - 10 * DAY))
    for days in (3, 2, 1):
        record(world.patient_a, world.doctor_a, attempt_data(TODAY - days * DAY), [])
    state = PatientCareState.objects.get(patient=world.patient_a)
    assert state.consecutive_not_reached == 3 and state.next_due_date == first.next_date
    assert rules.is_overdue(state.next_due_date, TODAY)
    assert state.last_followup_date == TODAY - DAY and state.last_complete_followup == first
    assert rules.three_not_reached(
        list(FollowUp.objects.filter(patient=world.patient_a).values_list("outcome", flat=True))
    )
    latest = record(world.patient_a, world.doctor_a, reached_data(TODAY))
    state.refresh_from_db()
    assert state.consecutive_not_reached == 0 and state.next_due_date == latest.next_date
    assert not rules.is_overdue(state.next_due_date, TODAY)


def test_a_late_entry_of_an_older_visit_does_not_move_the_schedule(world: World) -> None:
    newest = record(world.patient_a, world.doctor_a, reached_data(TODAY - 5 * DAY))
    older = reached_data(TODAY - 50 * DAY, risk_level=3, classification=1, next_date=TODAY - 36 * DAY)
    record(world.patient_a, world.doctor_a, older)
    state = PatientCareState.objects.get(patient=world.patient_a)
    assert (state.next_due_date, state.classification, state.last_complete_followup) == (
        newest.next_date,
        3,
        newest,
    )


def test_the_care_state_rebuilt_from_history_equals_the_incremental_one(world: World) -> None:
    record(world.patient_a, world.doctor_a, reached_data(TODAY - 60 * DAY, risk_level=1, classification=2,
                                                         next_date=TODAY - 46 * DAY))  # fmt: skip
    record(world.patient_a, world.doctor_a, attempt_data(TODAY - 40 * DAY), [])
    record(world.patient_a, world.doctor_a, reached_data(TODAY - 90 * DAY))  # entered late
    record(world.patient_a, world.doctor_a, attempt_data(TODAY - 30 * DAY), [])
    fields = [f.name for f in PatientCareState._meta.fields if f.name != "updated_at"]
    incremental = PatientCareState.objects.filter(patient=world.patient_a).values(*fields).get()
    PatientCareState.objects.all().delete()
    services.refresh_care_state(world.patient_a)
    assert PatientCareState.objects.filter(patient=world.patient_a).values(*fields).get() == incremental


def test_next_date_follows_the_previous_reached_classification(world: World) -> None:
    first_day = TODAY - 20 * DAY
    record(world.patient_a, world.doctor_a, reached_data(first_day, risk_level=1, classification=2,
                                                         next_date=first_day + 14 * DAY))  # fmt: skip
    record(world.patient_a, world.doctor_a, attempt_data(TODAY - 3 * DAY), [])  # an attempt does not count
    second = record(
        world.patient_a, world.doctor_a, reached_data(TODAY, risk_level=1, classification=2, next_date=TODAY + 20 * DAY)
    )
    assert second.suggested_next_date == rules.next_followup_date(2, TODAY, previous_reached_classification=2)
    assert services.previous_reached_classification(world.patient_a) == 2


# --- status: LOST and DEAD -------------------------------------------------------------------------------------------


def test_lost_then_found_again_and_dead(world: World) -> None:
    record(world.patient_a, world.doctor_a, attempt_data(TODAY - 5 * DAY, outcome="LOST", lost_reason=1), [])
    world.patient_a.refresh_from_db()
    assert (world.patient_a.status, world.patient_a.status_since) == ("LOST", TODAY - 5 * DAY)
    record(world.patient_a, world.doctor_a, reached_data(TODAY - 3 * DAY))
    world.patient_a.refresh_from_db()
    assert world.patient_a.status == "ACTIVE"
    dead = attempt_data(TODAY, outcome="DEAD", death_date=TODAY - DAY, death_cause=1, death_subcause=3)
    record(world.patient_a, world.doctor_a, dead, [])
    world.patient_a.refresh_from_db()
    assert (world.patient_a.status, world.patient_a.status_since) == ("DEAD", TODAY - DAY)
    changes = list(world.patient_a.status_changes.order_by("effective_date", "id"))
    assert [c.to_status for c in changes] == ["ACTIVE", "LOST", "ACTIVE", "DEAD"]
    assert (changes[1].lost_reason, changes[3].death_cause, changes[3].death_subcause) == (1, 1, 3)


def test_three_not_reached_then_lost_with_reason_four(world: World) -> None:
    for days in (30, 20, 10):
        record(world.patient_a, world.doctor_a, attempt_data(TODAY - days * DAY), [])
    outcomes = FollowUp.objects.filter(patient=world.patient_a).values_list("outcome", flat=True)
    assert rules.three_not_reached(list(outcomes))
    record(world.patient_a, world.doctor_a, attempt_data(TODAY - DAY, outcome="LOST", lost_reason=4), [])
    world.patient_a.refresh_from_db()
    assert world.patient_a.status == "LOST"
    assert world.patient_a.status_changes.get(to_status="LOST").lost_reason == 4


def test_an_older_lost_record_entered_late_does_not_change_the_status(world: World) -> None:
    record(world.patient_a, world.doctor_a, reached_data(TODAY - 5 * DAY))
    record(world.patient_a, world.doctor_a, attempt_data(TODAY - 50 * DAY, outcome="LOST", lost_reason=2), [])
    world.patient_a.refresh_from_db()
    assert world.patient_a.status == "ACTIVE"


def test_a_refused_patient_reached_stays_refused(world: World) -> None:
    registry_services.change_status(
        actor=world.doctor_a, patient=world.patient_a, to_status="REFUSED", effective_date=TODAY - 10 * DAY
    )
    world.patient_a.refresh_from_db()
    record(world.patient_a, world.doctor_a, reached_data(TODAY - DAY))
    world.patient_a.refresh_from_db()
    assert world.patient_a.status == "REFUSED"


# --- rehabilitation ------------------------------------------------------------------------------------------------


def rehab(**changes: Any) -> dict[str, Any]:
    return {"provider_type": "clubhouse", "service_type": "职业康复", "start_date": TODAY - 30 * DAY, **changes}


def test_rehab_participation_is_recorded_and_ended(world: World) -> None:
    participation = rehab_services.record_rehab_participation(
        actor=world.doctor_a, patient=world.patient_a, data=rehab(), today=TODAY
    )
    assert participation.is_ongoing and participation.overlaps(TODAY, TODAY)
    rehab_services.end_rehab_participation(
        actor=world.doctor_a, participation=participation, end_date=TODAY, today=TODAY
    )
    participation.refresh_from_db()
    assert participation.end_date == TODAY and not participation.overlaps(TODAY + DAY, TODAY + 9 * DAY)
    assert [e.detail.get("change") for e in AuditEvent.objects.filter(detail__record="rehab").order_by("id")] == [
        None,
        "ended",
    ]


@pytest.mark.parametrize(
    ("case", "data", "field"),
    [
        ("unknown provider", rehab(provider_type="hospital"), "provider_type"),
        ("no start date", rehab(start_date=None), "start_date"),
        ("start in the future", rehab(start_date=TODAY + DAY), "start_date"),
        ("end before start", rehab(end_date=TODAY - 31 * DAY), "end_date"),
        ("end in the future", rehab(end_date=TODAY + DAY), "end_date"),
        ("service text too long", rehab(service_type="康" * 101), "service_type"),
    ],
)
def test_rehab_participation_is_refused(world: World, case: str, data: dict[str, Any], field: str) -> None:
    refuse(
        rehab_services.record_rehab_participation, field, actor=world.doctor_a, patient=world.patient_a, data=data,
        today=TODAY,
    )  # fmt: skip


def test_rehab_unknown_keys_are_a_programming_error(world: World) -> None:
    with pytest.raises(TypeError):
        rehab_services.record_rehab_participation(actor=world.doctor_a, patient=world.patient_a, data=rehab(note="x"))


@pytest.mark.parametrize(
    ("case", "end_date", "already_ended"),
    [
        ("before the start", TODAY - 31 * DAY, False),
        ("in the future", TODAY + DAY, False),
        ("already ended", TODAY, True),
    ],
)
def test_ending_rehab_participation_is_refused(world: World, case: str, end_date: dt.date, already_ended: bool) -> None:
    data = rehab(end_date=TODAY - DAY) if already_ended else rehab()
    participation = rehab_services.record_rehab_participation(
        actor=world.doctor_a, patient=world.patient_a, data=data, today=TODAY
    )
    refuse(
        rehab_services.end_rehab_participation, "end_date", actor=world.doctor_a, participation=participation,
        end_date=end_date, today=TODAY,
    )  # fmt: skip


# --- health checks -------------------------------------------------------------------------------------------------


def health(**changes: Any) -> dict[str, Any]:
    return {"date": TODAY - DAY, "consent": True, "blood_pressure": "120/80", "weight_kg": "63.25", **changes}


def test_a_health_check_is_recorded_and_may_link_a_follow_up(world: World) -> None:
    followup = record(world.patient_a, world.doctor_a)
    check = rehab_services.record_health_check(
        actor=world.doctor_a, patient=world.patient_a, data=health(followup=followup, ecg="窦性心律"), today=TODAY
    )
    assert (check.weight_kg, check.followup, check.ecg) == (Decimal("63.2"), followup, "窦性心律")
    assert AuditEvent.objects.filter(detail__record="health_check").count() == 1


def test_a_refused_health_check_is_kept_without_results(world: World) -> None:
    data = {"date": TODAY - DAY, "consent": False}
    check = rehab_services.record_health_check(actor=world.doctor_a, patient=world.patient_a, data=data, today=TODAY)
    assert not check.consent and check.weight_kg is None


@pytest.mark.parametrize(
    ("case", "changes", "field"),
    [
        ("no date", {"date": None}, "date"),
        ("in the future", {"date": TODAY + DAY}, "date"),
        ("before registration", {"date": TODAY - 2000 * DAY}, "date"),
        ("results without consent", {"consent": False}, "consent"),
        ("weight not a number", {"weight_kg": "六十"}, "weight_kg"),
        ("weight out of range", {"weight_kg": "0.5"}, "weight_kg"),
        ("text too long", {"blood_pressure": "1" * 21}, "blood_pressure"),
    ],
)
def test_a_health_check_is_refused(world: World, case: str, changes: dict[str, Any], field: str) -> None:
    refuse(
        rehab_services.record_health_check, field, actor=world.doctor_a, patient=world.patient_a,
        data=health(**changes), today=TODAY,
    )  # fmt: skip


def test_a_second_check_on_the_same_day_or_another_patients_follow_up_is_refused(world: World) -> None:
    rehab_services.record_health_check(actor=world.doctor_a, patient=world.patient_a, data=health(), today=TODAY)
    refuse(
        rehab_services.record_health_check, "date", actor=world.doctor_a, patient=world.patient_a, data=health(),
        today=TODAY,
    )  # fmt: skip
    other = record(world.patient_b, world.doctor_b)
    refuse(
        rehab_services.record_health_check, "followup", actor=world.doctor_a, patient=world.patient_a,
        data=health(date=TODAY - 2 * DAY, followup=other), today=TODAY,
    )  # fmt: skip


# --- rebuilding every care state -----------------------------------------------------------------------------------


def test_rebuild_changes_nothing_after_the_service_and_repairs_what_was_written_around_it(world: World) -> None:
    from io import StringIO

    from django.core.management import call_command

    record(world.patient_a, world.doctor_a, reached_data(TODAY - 30 * DAY))
    record(world.patient_a, world.doctor_a, attempt_data(TODAY - 10 * DAY), [])
    record(world.patient_b, world.doctor_b, reached_data(TODAY - 5 * DAY, risk_level=1, classification=2,
                                                         next_date=TODAY + 9 * DAY))  # fmt: skip
    fields = [f.attname for f in PatientCareState._meta.fields if f.name != "updated_at"]
    before = list(PatientCareState.objects.order_by("patient_id").values(*fields))
    assert services.rebuild_care_states(batch_size=1) == (2, 0)

    PatientCareState.objects.filter(patient=world.patient_a).update(next_due_date=None, consecutive_not_reached=0)
    PatientCareState.objects.filter(patient=world.patient_b).delete()  # e.g. follow-ups imported in bulk
    out = StringIO()
    call_command("rebuild_care_states", "--batch-size", "1", stdout=out)
    assert "2" in out.getvalue()
    assert list(PatientCareState.objects.order_by("patient_id").values(*fields)) == before
