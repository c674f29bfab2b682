"""Editing identity and clinical basics, and the supplementary form: changes go through the services (with an
encrypted identity revision and an audit row naming fields, never values); bad input writes nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse

from casemgmt.audit.models import Action, AuditEvent
from registry import codes
from registry.models import IdentityRevision, Patient, SupplementaryForm
from registry.patients import idnumber
from registry.patients.forms import PatientForm, SupplementaryFormForm
from tests.base import TODAY, World, make_patient

pytestmark = pytest.mark.django_db
FUTURE = (TODAY + dt.timedelta(days=1)).isoformat()


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def edit_url(patient: Patient) -> str:
    return reverse("registry:patient_edit", kwargs={"patient_uuid": patient.uuid})


def supplementary_url(patient: Patient) -> str:
    return reverse("registry:supplementary_edit", kwargs={"patient_uuid": patient.uuid})


def post_value(value: Any) -> Any:
    """A value as a browser would post it (None for an unchecked box, which is left out)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [str(v) for v in value]
    return value


def as_post(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    posted = {prefix + name: post_value(value) for name, value in values.items()}
    return {name: value for name, value in posted.items() if value is not None}


def patient_data(patient: Patient, **overrides: Any) -> dict[str, Any]:
    return {**as_post(model_to_dict(patient, PatientForm.Meta.fields)), **overrides}


def supplementary_data(patient: Patient, **overrides: Any) -> dict[str, Any]:
    form = SupplementaryForm.objects.get(patient=patient)
    return {**as_post(model_to_dict(form, list(SupplementaryFormForm.base_fields))), **overrides}


def reload(patient: Patient) -> Patient:
    return Patient.objects.visible_to(patient.created_by).get(pk=patient.pk)


def writes() -> tuple[int, ...]:
    """Rows a refused edit must not add; the page it re-shows is logged as a view (issue 14 finding 9)."""
    return (AuditEvent.objects.exclude(action=Action.VIEW).count(), IdentityRevision.objects.count())


def assert_redisplay_logged(patient: Patient, page: str) -> None:
    shown = AuditEvent.objects.latest("id")
    assert (shown.action, shown.detail) == (Action.VIEW, {"page": page, "disclosure": "full", "redisplay": True})
    assert [str(s.patient_uuid) for s in shown.subjects.all()] == [str(patient.uuid)]


def test_edit_page_shows_current_values_and_is_audited(world: World) -> None:
    response = logged_in(world.doctor_a).get(edit_url(world.patient_a))
    assert response.status_code == 200
    assert response.context["form"]["name"].value() == world.patient_a.name
    event = AuditEvent.objects.latest("id")
    assert event.action == Action.VIEW and event.detail["page"] == "edit"


def test_edit_saves_changes_with_a_revision_and_an_audit_row_naming_fields(world: World) -> None:
    patient, old_name = world.patient_a, world.patient_a.name
    data = patient_data(patient, name="新名字", phone="13700007777", disorder=str(codes.Disorder.BIPOLAR))
    response = logged_in(world.doctor_a).post(edit_url(patient), data)
    assert response.status_code == 302
    saved = reload(patient)
    assert (saved.name, saved.phone, saved.disorder) == ("新名字", "13700007777", codes.Disorder.BIPOLAR)
    revision = IdentityRevision.objects.get(patient=patient)
    assert revision.changed_fields == ["name", "phone"]
    assert json.loads(revision.previous_values)["name"] == old_name
    event = AuditEvent.objects.filter(action=Action.UPDATE).latest("id")
    assert sorted(event.detail["fields"]) == ["disorder", "name", "phone"]
    assert "新名字" not in json.dumps(event.detail, ensure_ascii=False)


def test_edit_without_changes_writes_nothing(world: World) -> None:
    before = writes()
    response = logged_in(world.doctor_a).post(edit_url(world.patient_a), patient_data(world.patient_a))
    assert response.status_code == 302
    assert writes() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sex": "9"}, "sex"),
        ({"name": ""}, "name"),
        ({"name": "名" * 51}, "name"),
        ({"diagnosis_date": FUTURE}, "diagnosis_date"),
        ({"diagnosis_date": "1900-01-01"}, "diagnosis_date"),
        ({"national_id": "123"}, "national_id"),
    ],
)
def test_bad_edits_show_a_message_and_write_nothing(world: World, overrides: dict[str, Any], field: str) -> None:
    before = writes()
    response = logged_in(world.doctor_a).post(edit_url(world.patient_a), patient_data(world.patient_a, **overrides))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert writes() == before
    assert reload(world.patient_a).name == world.patient_a.name
    assert_redisplay_logged(world.patient_a, "edit")


def test_sex_contradicting_the_id_is_refused(world: World) -> None:
    patient = world.patient_a
    other_sex = "1" if patient.sex == codes.Sex.FEMALE else "2"
    response = logged_in(world.doctor_a).post(edit_url(patient), patient_data(patient, sex=other_sex))
    assert "性别与身份证号不符" in response.content.decode()


def test_changing_to_an_id_number_registered_in_another_jurisdiction_reveals_nothing(world: World) -> None:
    patient, other = world.patient_a, world.patient_b
    data = patient_data(patient, national_id=other.national_id, sex="", birth_date="")
    response = logged_in(world.doctor_a).post(edit_url(patient), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "已在其他辖区建档" in html and str(other.uuid) not in html
    assert reload(patient).national_id == patient.national_id


def test_changing_to_an_id_number_registered_here_links_to_it(world: World) -> None:
    first17 = "32050819900101003"
    other = make_patient(world.doctor_a, world.village_a2, national_id=first17 + idnumber.check_digit(first17))
    data = patient_data(world.patient_a, national_id=other.national_id, sex="", birth_date="")
    response = logged_in(world.doctor_a).post(edit_url(world.patient_a), data)
    assert reverse("registry:patient_detail", kwargs={"patient_uuid": other.uuid}) in response.content.decode()


def test_supplementary_edit_saves_changes(world: World) -> None:
    patient = world.patient_a
    data = supplementary_data(patient, employment="4", past_symptoms=["2", "8"], trouble="1", filled_on="")
    response = logged_in(world.doctor_a2).post(supplementary_url(patient), data)
    assert response.status_code == 302
    form = SupplementaryForm.objects.get(patient=patient)
    assert (form.employment, form.past_symptoms, form.trouble) == (4, [2, 8], 1)
    assert form.filled_on == TODAY and form.filled_by == world.doctor_a2
    event = AuditEvent.objects.filter(action=Action.UPDATE).latest("id")
    assert set(event.detail["supplementary"]) >= {"employment", "past_symptoms", "trouble"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"onset_date": FUTURE}, "onset_date"),
        ({"onset_date": "1900-01-01"}, "onset_date"),
        ({"consent": ""}, "consent"),
        ({"consent": "7"}, "consent"),
        ({"specialist_opinion": "意" * 1001}, "specialist_opinion"),
        ({"past_symptoms": ["13"]}, "past_symptoms"),
    ],
)
def test_bad_supplementary_edits_write_nothing(world: World, overrides: dict[str, Any], field: str) -> None:
    before = writes()
    data = supplementary_data(world.patient_a, **overrides)
    response = logged_in(world.doctor_a).post(supplementary_url(world.patient_a), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert writes() == before
    assert_redisplay_logged(world.patient_a, "supplementary")
