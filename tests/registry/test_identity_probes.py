"""Issue 14 §2, "no oracle anywhere", on the registry side: a registration, an identity edit or a search by ID
number that hits an existing patient is audited against THAT patient (its own doctors see it in the access log),
says nothing about a patient outside the user's view beyond "registered elsewhere", and — for registration and
editing — is limited per account and day (``IDENTITY_PROBE_LIMIT_PER_DAY``), also while Redis is down."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from casemgmt.audit.models import Action, AuditEvent
from registry.models import Patient
from tests.base import World
from tests.registry.test_views_edit import edit_url, patient_data
from tests.registry.test_views_register import NUMBER, REGISTER, form_data

pytestmark = pytest.mark.django_db

LIST = reverse("registry:patient_list")
LIMIT_MESSAGE = "查重次数已达今日上限"


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def probes_of(patient: Patient) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=Action.IDENTITY_PROBE, subjects__patient_uuid=patient.uuid).order_by("id")
    )


def no_identity_in(event: AuditEvent, patient: Patient) -> bool:
    text = json.dumps([event.purpose, event.detail], ensure_ascii=False)
    return patient.national_id not in text and patient.name not in text


def register(client: Client, world: World, national_id: str) -> str:
    response = client.post(REGISTER, form_data(world, national_id=national_id))
    assert response.status_code == 200  # refused: the form again, never a 500
    return response.content.decode()


def test_a_registration_outside_the_view_is_a_probe_of_that_patient(world: World) -> None:
    page = register(logged_in(world.doctor_a), world, world.patient_b.national_id)
    assert "已在其他辖区建档" in page
    assert world.village_b1.code not in page and world.village_b1.name not in page and world.patient_b.name not in page
    [event] = probes_of(world.patient_b)
    assert event.actor == world.doctor_a
    assert event.detail["channel"] == "registration" and event.detail["outcome"] == "registered_elsewhere"
    assert no_identity_in(event, world.patient_b)


def test_a_registration_inside_the_view_is_a_probe_too_and_costs_nothing(world: World, settings: Any) -> None:
    settings.IDENTITY_PROBE_LIMIT_PER_DAY = 1
    client = logged_in(world.doctor_a2)
    for _ in range(3):
        assert "该身份证号已建档" in register(client, world, world.patient_a.national_id)
    events = probes_of(world.patient_a)
    assert len(events) == 3 and {e.detail["outcome"] for e in events} == {"matched"}
    from registry.patients import probes

    assert probes.probes_left(world.doctor_a2) == 1


def test_registration_probes_outside_the_view_are_limited(world: World, settings: Any) -> None:
    settings.IDENTITY_PROBE_LIMIT_PER_DAY = 1
    client = logged_in(world.doctor_a)
    assert "已在其他辖区建档" in register(client, world, world.patient_b.national_id)
    before = Patient.objects.count()
    again = register(client, world, world.patient_b.national_id)
    assert LIMIT_MESSAGE in again and "其他辖区建档" not in again
    # Over the limit a number registered nowhere is refused alike: the refusal itself must not answer.
    fresh = register(client, world, NUMBER)
    assert LIMIT_MESSAGE in fresh
    assert Patient.objects.count() == before
    outcomes = [e.detail["outcome"] for e in probes_of(world.patient_b)]
    assert outcomes == ["registered_elsewhere", "refused_over_limit"]
    # Another account has its own allowance.
    assert "已在其他辖区建档" in register(logged_in(world.doctor_a2), world, world.patient_b.national_id)


class Down:
    """A shared cache that cannot be reached."""

    def __getattr__(self, name: str) -> Any:
        def fail(*args: object, **kwargs: object) -> None:
            raise ConnectionError("redis is down")

        return fail


def test_with_redis_down_probes_are_still_counted(world: World, settings: Any, monkeypatch: Any) -> None:
    from registry.patients import probes

    settings.IDENTITY_PROBE_LIMIT_PER_DAY = 1
    monkeypatch.setattr(probes, "cache", Down())
    client = logged_in(world.doctor_a)
    assert "已在其他辖区建档" in register(client, world, world.patient_b.national_id)
    assert LIMIT_MESSAGE in register(client, world, world.patient_b.national_id)


def test_an_identity_edit_to_a_number_held_elsewhere_is_a_limited_probe(world: World, settings: Any) -> None:
    settings.IDENTITY_PROBE_LIMIT_PER_DAY = 1
    client = logged_in(world.doctor_a)
    url, taken = edit_url(world.patient_a), world.patient_b.national_id
    first = client.post(url, patient_data(world.patient_a, national_id=taken, sex="", birth_date=""))
    assert first.status_code == 200 and "已在其他辖区建档" in first.content.decode()
    [event] = probes_of(world.patient_b)
    assert event.detail["channel"] == "edit" and no_identity_in(event, world.patient_b)
    second = client.post(url, patient_data(world.patient_a, national_id=taken, sex="", birth_date=""))
    assert second.status_code == 200 and LIMIT_MESSAGE in second.content.decode()
    # An edit that keeps the number probes nothing, so the limit does not stand in its way.
    saved = client.post(url, patient_data(world.patient_a, phone="13700001234"))
    assert saved.status_code == 302


def test_a_search_by_id_number_is_audited_against_the_patient_wherever_they_are(world: World) -> None:
    response = logged_in(world.doctor_a).post(LIST, {"q": world.patient_b.national_id}, follow=True)
    assert [row.uuid for row in response.context["rows"]] == []
    [event] = probes_of(world.patient_b)
    assert event.actor == world.doctor_a and event.detail["channel"] == "search"
    assert no_identity_in(event, world.patient_b)
    logged_in(world.doctor_a).post(LIST, {"q": world.patient_a.national_id}, follow=True)
    [own] = probes_of(world.patient_a)
    assert own.detail["channel"] == "search"


def test_the_patients_own_doctor_sees_who_probed_in_the_access_log(world: World) -> None:
    register(logged_in(world.doctor_a), world, world.patient_b.national_id)
    url = reverse("registry:access_log", kwargs={"patient_uuid": world.patient_b.uuid})
    page = logged_in(world.doctor_b).get(url).content.decode()
    assert "身份证号查重" in page and "新建档案" in page and str(world.doctor_a) in page
