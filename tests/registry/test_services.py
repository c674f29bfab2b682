"""The registry services the pages rely on: duplicates and what they reveal, initial status, status rules,
closure by a second person, identity revisions, and the permission helpers of registry.access.visibility."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from registry import codes
from registry.access import visibility as access
from registry.models import ClosureRequest, IdentityRevision, Patient, StatusChange
from registry.patients import services
from tests.base import TODAY, World, edit_patient, make_patient

pytestmark = pytest.mark.django_db


def reload(patient: Patient) -> Patient:
    return Patient.objects.get(pk=patient.pk)


@pytest.mark.parametrize(
    ("consent", "harmed_others", "status"),
    [(1, False, "ACTIVE"), (0, False, "REFUSED"), (0, True, "ACTIVE"), (1, True, "ACTIVE")],
)
def test_initial_status(consent: int, harmed_others: bool, status: str) -> None:
    assert services.initial_status(consent=consent, harmed_others=harmed_others) == status


def test_duplicate_inside_visibility_names_the_record(world: World) -> None:
    with pytest.raises(services.DuplicateRegistration) as caught:
        make_patient(world.doctor_a2, world.village_a2, national_id=world.patient_a.national_id)
    assert caught.value.existing_uuid == world.patient_a.uuid


def test_duplicate_outside_visibility_names_nothing(world: World) -> None:
    with pytest.raises(services.DuplicateRegistration) as caught:
        make_patient(world.doctor_a, world.village_a1, national_id=world.patient_b.national_id)
    assert caught.value.existing_uuid is None
    assert str(world.patient_b.uuid) not in str(caught.value)


def test_registration_writes_history_and_custody(world: World) -> None:
    patient = make_patient(world.doctor_a, world.village_a2, birth_date=dt.date(1970, 1, 1))
    assert list(patient.status_changes.values_list("to_status", flat=True)) == [codes.Status.ACTIVE]
    span = patient.custody_spans.get()
    assert (span.area_id, span.start_date, span.end_date) == (world.village_a2.code, patient.registered_on, None)


def test_status_rules(world: World) -> None:
    patient = world.patient_a
    with pytest.raises(services.RegistryError):
        services.change_status(
            actor=world.doctor_a, patient=patient, to_status=codes.Status.LOST, effective_date=TODAY
        )  # no reason
    with pytest.raises(services.RegistryError):
        services.change_status(
            actor=world.doctor_a, patient=patient, to_status=codes.Status.ACTIVE, effective_date=TODAY
        )  # not a change
    services.change_status(
        actor=world.doctor_a,
        patient=patient,
        to_status=codes.Status.LOST,
        effective_date=TODAY,
        lost_reason=codes.LostReason.THREE_MISSED,
    )
    services.change_status(actor=world.doctor_a, patient=patient, to_status=codes.Status.ACTIVE, effective_date=TODAY)
    assert list(StatusChange.objects.filter(patient=patient).values_list("to_status", flat=True)) == [
        "ACTIVE",
        "LOST",
        "ACTIVE",
    ]


def test_closure_needs_a_second_person(world: World) -> None:
    closure = services.request_closure(
        actor=world.doctor_a, patient=world.patient_a, effective_date=TODAY, reason=codes.ClosureReason.DUPLICATE
    )
    with pytest.raises(services.RegistryError):
        services.request_closure(
            actor=world.doctor_a2, patient=world.patient_a, effective_date=TODAY, reason=codes.ClosureReason.OTHER
        )
    with pytest.raises(services.RegistryError):
        services.decide_closure(actor=world.doctor_a, closure=closure, confirm=True)
    assert reload(world.patient_a).status == codes.Status.ACTIVE
    services.decide_closure(actor=world.county_d, closure=closure, confirm=True)
    assert reload(world.patient_a).status == codes.Status.CLOSED
    assert ClosureRequest.objects.get(pk=closure.pk).decided_by == world.county_d


def test_identity_changes_keep_the_previous_values_encrypted(world: World) -> None:
    old_phone = world.patient_a.phone
    edit_patient(world.doctor_a, world.patient_a, phone="13500001111")
    revision = IdentityRevision.objects.get(patient=world.patient_a)
    assert json.loads(revision.previous_values) == {"phone": old_phone}
    stored = IdentityRevision.objects.filter(pk=revision.pk).values_list("previous_values", flat=True).get()
    assert old_phone not in str(stored)
    assert reload(world.patient_a).phone == "13500001111"


def test_permission_helpers(world: World) -> None:
    a, b = world.patient_a, world.patient_b
    assert access.can_write(world.doctor_a, a) and not access.can_write(world.doctor_a, b)
    assert not access.can_write(world.county_d, a) and not access.can_write(world.police_c, a)
    assert access.can_decide_closure(world.doctor_a2, a) and access.can_decide_closure(world.county_d, b)
    assert not access.can_decide_closure(world.police_c, a) and not access.can_decide_closure(world.doctor_b, a)
    assert access.can_view_access_log(world.county_d, a) and access.can_view_access_log(world.doctor_a, a)
    assert not access.can_view_access_log(world.police_c, a) and not access.can_view_access_log(world.admin_e, a)
    assert access.can_register_in(world.doctor_a, world.village_a2)
    assert not access.can_register_in(world.doctor_a, world.village_b1)
    assert not access.can_register_in(world.doctor_a, world.township_a)
    assert not access.can_register_in(world.county_d, world.village_a1)
    assert access.sees_masked_identity(world.county_d) and not access.sees_masked_identity(world.doctor_a)
