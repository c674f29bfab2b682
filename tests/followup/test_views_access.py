"""Who may reach which follow-up page: allowed (200), foreign jurisdiction (404, the same as a UUID that does
not exist), read-only county staff (403 on writes), case-team members (403 on clinical pages), wrong method
(405) and anonymous (login redirect), for every view."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from casemgmt.audit.models import AuditEvent
from followup.models import FollowUp, HealthCheck, RehabParticipation
from followup.rehab import services as rehab_services
from registry.access.disclosure import remember_opening
from registry.models import Patient
from tests.base import TODAY, World, comparable_page
from tests.followup.base import reached_data, record

pytestmark = pytest.mark.django_db

# name -> (allowed methods, whether GET is already a write page, whether POST writes)
PATIENT_VIEWS: dict[str, tuple[set[str], bool]] = {
    "followup_new": ({"GET", "POST"}, True),
    "followup_detail": ({"GET"}, False),
    "timeline": ({"GET"}, False),
    "medication": ({"GET"}, False),
    "rehab": ({"GET", "POST"}, False),
    "rehab_end": ({"POST"}, False),
    "health_check": ({"GET", "POST"}, False),
}
POSTING_VIEWS = [name for name, (methods, _g) in PATIENT_VIEWS.items() if "POST" in methods]
GET_VIEWS = [name for name, (methods, _g) in PATIENT_VIEWS.items() if "GET" in methods]
READ_PAGES = [name for name, (methods, write_page) in PATIENT_VIEWS.items() if "GET" in methods and not write_page]


@pytest.fixture
def records(world: World) -> dict[str, dict[str, Any]]:
    """One follow-up and one rehabilitation record for each of patient_a and patient_b."""
    out: dict[str, dict[str, Any]] = {}
    for key, patient, doctor in (("a", world.patient_a, world.doctor_a), ("b", world.patient_b, world.doctor_b)):
        followup = record(patient, doctor, reached_data())
        participation = rehab_services.record_rehab_participation(
            actor=doctor, patient=patient, data={"provider_type": "clubhouse", "start_date": TODAY}
        )
        out[key] = {"followup_uuid": followup.uuid, "rehab_uuid": participation.uuid}
    return out


def url(name: str, patient: Patient | uuid.UUID, extra: dict[str, Any]) -> str:
    patient_uuid = patient.uuid if isinstance(patient, Patient) else patient
    kwargs: dict[str, Any] = {"patient_uuid": patient_uuid}
    if name == "followup_detail":
        kwargs["followup_uuid"] = extra["followup_uuid"]
    if name == "rehab_end":
        kwargs["rehab_uuid"] = extra["rehab_uuid"]
    return reverse(f"followup:{name}", kwargs=kwargs)


def url_a(name: str, world: World, records: dict[str, dict[str, Any]]) -> str:
    return url(name, world.patient_a, records["a"])


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def first_method(name: str) -> str:
    return "get" if "GET" in PATIENT_VIEWS[name][0] else "post"


@pytest.mark.parametrize("name", list(PATIENT_VIEWS))
def test_anonymous_is_sent_to_login(world: World, records: dict[str, dict[str, Any]], name: str) -> None:
    for method in ("get", "post"):
        response = getattr(Client(), method)(url_a(name, world, records))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_anonymous_is_sent_to_login_from_the_work_list(db: Any) -> None:
    response = Client().get(reverse("followup:worklist"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", GET_VIEWS)
def test_doctor_of_the_jurisdiction_gets_every_page(
    world: World, records: dict[str, dict[str, Any]], name: str
) -> None:
    response = logged_in(world.doctor_a2).get(url_a(name, world, records))
    assert response.status_code == 200
    assert world.patient_a.name in response.content.decode()


@pytest.mark.parametrize("name", list(PATIENT_VIEWS))
def test_other_township_gets_the_same_404_as_a_missing_record(
    world: World, records: dict[str, dict[str, Any]], name: str
) -> None:
    client = logged_in(world.doctor_b)
    for method in PATIENT_VIEWS[name][0]:
        foreign = client.generic(method, url_a(name, world, records))
        missing = client.generic(method, url(name, uuid.uuid4(), records["b"]))
        assert foreign.status_code == missing.status_code == 404, method
        assert comparable_page(foreign.content) == comparable_page(missing.content)


@pytest.mark.parametrize("name", ["followup_detail", "rehab_end"])
def test_a_record_of_another_patient_is_404(world: World, records: dict[str, dict[str, Any]], name: str) -> None:
    """patient_a's page with patient_b's follow-up or rehabilitation record: not found, nothing changed."""
    client = logged_in(world.doctor_a)
    response = client.generic(first_method(name).upper(), url(name, world.patient_a, records["b"]))
    assert response.status_code == 404
    assert RehabParticipation.objects.filter(end_date__isnull=False).count() == 0


@pytest.mark.parametrize("name", POSTING_VIEWS)
def test_read_only_county_staff_get_403_on_writes(world: World, records: dict[str, dict[str, Any]], name: str) -> None:
    client = logged_in(world.county_d)
    remember_opening_for(client, world.patient_a)  # even with the record opened, county staff write nothing
    before = (FollowUp.objects.count(), RehabParticipation.objects.count(), HealthCheck.objects.count())
    assert client.post(url_a(name, world, records), {"end_date": TODAY.isoformat()}).status_code == 403
    assert (FollowUp.objects.count(), RehabParticipation.objects.count(), HealthCheck.objects.count()) == before
    assert RehabParticipation.objects.filter(end_date__isnull=False).count() == 0


def test_county_staff_cannot_open_the_follow_up_form(world: World, records: dict[str, dict[str, Any]]) -> None:
    assert logged_in(world.county_d).get(url_a("followup_new", world, records)).status_code == 403


def remember_opening_for(client: Client, patient: Patient) -> None:
    session = client.session
    remember_opening(session, patient.uuid)
    session.save()


@pytest.mark.parametrize("name", READ_PAGES)
def test_county_staff_state_a_reason_before_reading_the_clinical_pages(
    world: World, records: dict[str, dict[str, Any]], name: str
) -> None:
    client = logged_in(world.county_d)
    response = client.get(url_a(name, world, records))
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:patient_detail", kwargs={"patient_uuid": world.patient_a.uuid})
    remember_opening_for(client, world.patient_a)
    response = client.get(url_a(name, world, records))
    assert response.status_code == 200
    assert "新增随访" not in response.content.decode()  # no write links for a read-only user


@pytest.mark.parametrize("name", list(PATIENT_VIEWS))
def test_case_team_members_never_reach_the_clinical_pages(
    world: World, records: dict[str, dict[str, Any]], name: str
) -> None:
    client = logged_in(world.police_c)  # granted patient_a only
    for method in PATIENT_VIEWS[name][0]:
        assert client.generic(method, url_a(name, world, records)).status_code == 404, method
        assert client.generic(method, url(name, world.patient_b, records["b"])).status_code == 404, method


@pytest.mark.parametrize("name", list(PATIENT_VIEWS))
def test_admin_gets_404_everywhere(world: World, records: dict[str, dict[str, Any]], name: str) -> None:
    client = logged_in(world.admin_e)
    for method in PATIENT_VIEWS[name][0]:
        assert client.generic(method, url_a(name, world, records)).status_code == 404


@pytest.mark.parametrize("name", list(PATIENT_VIEWS))
def test_wrong_method_is_405(world: World, records: dict[str, dict[str, Any]], name: str) -> None:
    client = logged_in(world.doctor_a)
    for method in {"GET", "POST", "PUT", "DELETE", "PATCH"} - PATIENT_VIEWS[name][0]:
        assert client.generic(method, url_a(name, world, records)).status_code == 405, method


def test_work_list_methods_and_roles(world: World) -> None:
    worklist = reverse("followup:worklist")
    assert logged_in(world.doctor_a).get(worklist).status_code == 200
    assert logged_in(world.county_d).get(worklist).status_code == 200
    assert logged_in(world.police_c).get(worklist).status_code == 403
    assert logged_in(world.admin_e).get(worklist).status_code == 403
    for method in ("POST", "PUT", "DELETE"):
        assert logged_in(world.doctor_a).generic(method, worklist).status_code == 405


@pytest.mark.parametrize("name", GET_VIEWS)
def test_every_page_view_is_audited_without_identity(
    world: World, records: dict[str, dict[str, Any]], name: str
) -> None:
    before = AuditEvent.objects.count()
    logged_in(world.doctor_a).get(url_a(name, world, records))
    event = AuditEvent.objects.latest("id")
    assert AuditEvent.objects.count() == before + 1
    assert [str(s.patient_uuid) for s in event.subjects.all()] == [str(world.patient_a.uuid)]
    flat = f"{event.detail} {event.purpose}"
    assert world.patient_a.name not in flat and world.patient_a.national_id not in flat
