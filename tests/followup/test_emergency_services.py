"""Emergency services (domain.md §9): recording for a patient or an unregistered person, completion, the 24-hour
flag, linking, the indicators' announcement and the close follow-up."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from casemgmt.audit.models import AuditEvent
from followup.emergencies import services
from followup.models import Emergency
from registry.signals import patient_facts_changed
from tests.base import TODAY, World, make_patient, patient_fields
from tests.followup.base import reached_data, record

pytestmark = pytest.mark.django_db

COMPLETE: dict[str, Any] = {
    "place": "家中",
    "situations": ["danger"],
    "risk_level": 3,
    "reported_by": "家属",
    "participants": "精防医生、民警",
    "measures": ["deescalation", "medication", "transport"],
    "medication_drug": "氟哌啶醇",
    "medication_dose": "5mg",
    "medication_route": "肌注",
    "disposition": "admit",
    "hospital": "市精神卫生中心",
    "consent": 2,
}


def values(hours_ago: float = 2, **overrides: Any) -> dict[str, Any]:
    return {"occurred_at": timezone.now() - dt.timedelta(hours=hours_ago), **COMPLETE, **overrides}


class Listener:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append({"patient_ids": kwargs["patient_ids"], "since": kwargs["since"]})

    def __enter__(self) -> Listener:
        patient_facts_changed.connect(self)
        return self

    def __exit__(self, *exc: object) -> None:
        patient_facts_changed.disconnect(self)


def test_record_complete_for_a_patient_announces_the_change(world: World) -> None:
    with Listener() as heard:
        emergency = services.record_emergency(
            actor=world.doctor_a,
            values=values(),
            handler=None,
            complete=True,
            now=timezone.now(),
            patient=world.patient_a,
        )
    assert emergency.completed_at is not None
    assert emergency.area_id == world.village_a1.code
    assert emergency.handler == world.doctor_a
    assert heard.calls == [{"patient_ids": (world.patient_a.pk,), "since": timezone.localdate(emergency.occurred_at)}]
    event = AuditEvent.objects.get(detail__emergency=str(emergency.uuid))
    assert list(event.subjects.values_list("patient_uuid", flat=True)) == [world.patient_a.uuid]


def test_completion_lists_what_is_missing(world: World) -> None:
    with pytest.raises(services.EmergencyError) as caught:
        services.record_emergency(
            actor=world.doctor_a,
            values={"occurred_at": timezone.now(), "measures": ["medication"], "disposition": "admit"},
            handler=None,
            complete=True,
            now=timezone.now(),
            patient=world.patient_a,
        )
    errors = caught.value.errors
    assert {"situations", "risk_level", "medication_drug", "hospital", "consent", "place"} <= set(errors)
    assert "请至少选择一种情形。" in errors["situations"]
    assert not Emergency.objects.exists()


def test_future_time_is_refused(world: World) -> None:
    with pytest.raises(services.EmergencyError, match="不能晚于现在"):
        services.record_emergency(
            actor=world.doctor_a, values=values(hours_ago=-3), handler=None, complete=False, now=timezone.now(),
            patient=world.patient_a,
        )  # fmt: skip


def test_unregistered_person_identity_is_encrypted_and_linkable(world: World) -> None:
    fields = patient_fields()
    emergency = services.record_emergency(
        actor=world.doctor_a,
        values=values(),
        handler=None,
        complete=False,
        now=timezone.now(),
        area=world.village_a2,
        person_name=fields["name"],
        person_national_id=fields["national_id"],
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT person_name, person_national_id, place FROM followup_emergency")
        stored = cursor.fetchone()
    assert fields["name"] not in str(stored) and fields["national_id"] not in str(stored)
    assert "家中" not in str(stored)
    assert Emergency.objects.get().person_name == fields["name"]
    event = AuditEvent.objects.get(detail__emergency=str(emergency.uuid))
    assert fields["name"] not in str(event.detail)
    # Not registered yet: linking explains what to do.
    with pytest.raises(services.EmergencyError, match="请先建档"):
        services.link_emergency(actor=world.doctor_a, emergency=emergency)
    patient = make_patient(world.doctor_a, world.village_a2, **fields)
    with Listener() as heard:
        linked = services.link_emergency(actor=world.doctor_a, emergency=emergency)
    assert linked.patient == patient
    assert heard.calls == [{"patient_ids": (patient.pk,), "since": timezone.localdate(emergency.occurred_at)}]
    # Linking again is harmless; doctor_b cannot link a record to a patient outside their view.
    assert services.link_emergency(actor=world.doctor_a, emergency=linked).patient == patient


def test_unregistered_needs_a_name_and_a_village_of_the_jurisdiction(world: World) -> None:
    with pytest.raises(services.EmergencyError) as caught:
        services.record_emergency(
            actor=world.doctor_a, values=values(), handler=None, complete=False, now=timezone.now(),
            area=world.village_b1, person_name="", person_national_id="123",
        )  # fmt: skip
    assert set(caught.value.errors) == {"person_name", "person_national_id", "area"}


def test_late_flag_and_completed_records_are_final(world: World) -> None:
    now = timezone.now()
    late = services.record_emergency(
        actor=world.doctor_a,
        values=values(hours_ago=30),
        handler=None,
        complete=False,
        now=now,
        patient=world.patient_a,
    )
    fresh = services.record_emergency(
        actor=world.doctor_a, values=values(hours_ago=1), handler=None, complete=False, now=now, patient=world.patient_a
    )
    assert late.is_late(now) and not fresh.is_late(now)
    assert list(Emergency.objects.filter(services.open_late_q(now))) == [late]
    done = services.update_emergency(
        actor=world.doctor_a, emergency=late, values=values(hours_ago=30), handler=None, complete=True, now=now
    )
    assert done.completed_at == now
    assert done.is_late(now)  # completed, but after 24 hours: still flagged
    assert list(Emergency.objects.filter(services.late_q(now))) == [late]
    with pytest.raises(services.EmergencyError, match="不能再修改"):
        services.update_emergency(
            actor=world.doctor_a, emergency=late, values=values(hours_ago=30), handler=None, complete=True, now=now
        )
    with pytest.raises(services.EmergencyError, match="只有本辖区"):
        services.update_emergency(
            actor=world.doctor_b, emergency=fresh, values=values(), handler=None, complete=False, now=now
        )


def test_visibility_follows_the_one_rule(world: World) -> None:
    now = timezone.now()
    mine = services.record_emergency(
        actor=world.doctor_a, values=values(), handler=None, complete=False, now=now, patient=world.patient_a
    )
    person = services.record_emergency(
        actor=world.doctor_a, values=values(), handler=None, complete=False, now=now, area=world.village_a1,
        person_name="不详",
    )  # fmt: skip
    assert set(services.emergencies_visible_to(world.doctor_a)) == {mine, person}
    assert set(services.emergencies_visible_to(world.county_d)) == {mine, person}
    assert not services.emergencies_visible_to(world.doctor_b).exists()
    assert not services.emergencies_visible_to(world.police_c).exists()  # a case grant does not open them


def test_close_follow_until_two_stable_follow_ups(world: World) -> None:
    occurred = timezone.now() - dt.timedelta(days=10)
    services.record_emergency(
        actor=world.doctor_a, values=values(hours_ago=240), handler=None, complete=True, now=timezone.now(),
        patient=world.patient_a,
    )  # fmt: skip
    event_day = timezone.localdate(occurred)
    state = services.close_follow_for(world.patient_a, TODAY)
    assert state is not None and state.active
    assert state.visit_by == event_day + dt.timedelta(days=14)
    assert [r.patient_uuid for r in services.close_follow_rows(world.doctor_a, TODAY)] == [world.patient_a.uuid]
    record(world.patient_a, world.doctor_a, reached_data(event_day + dt.timedelta(days=3)))
    record(world.patient_a, world.doctor_a, reached_data(event_day + dt.timedelta(days=8)))
    state = services.close_follow_for(world.patient_a, TODAY)
    assert state is not None and not state.active
    assert services.close_follow_rows(world.doctor_a, TODAY) == []


def test_emergency_dates_for_the_indicators(world: World) -> None:
    occurred = timezone.now() - dt.timedelta(days=2)
    services.record_emergency(
        actor=world.doctor_a, values=values(hours_ago=48), handler=None, complete=False, now=timezone.now(),
        patient=world.patient_a,
    )  # fmt: skip
    day = timezone.localdate(occurred)
    assert services.emergency_dates([world.patient_a.pk, world.patient_b.pk], day) == {world.patient_a.pk: (day,)}
    assert services.emergency_dates([world.patient_a.pk], day - dt.timedelta(days=1)) == {}
