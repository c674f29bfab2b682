"""Administrators never read identities (issue 14 §3): an account with the administrator role sees no patient,
not even through a per-patient grant it still holds from an earlier case-team role."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from casemgmt.accounts.models import AreaMembership, Role
from registry.models import Patient
from tests.base import World, grant

pytestmark = pytest.mark.django_db


def patient_pages(world: World) -> list[str]:
    kwargs = {"patient_uuid": world.patient_a.uuid}
    return [
        reverse(name, kwargs=kwargs)
        for name in (
            "registry:patient_detail",
            "registry:patient_edit",
            "registry:supplementary_edit",
            "registry:status_change",
            "registry:access_log",
        )
    ]


def test_an_administrator_with_a_left_over_grant_sees_no_patient(world: World, client: Client) -> None:
    grant(world.patient_a, world.admin_e, world.doctor_a)  # e.g. a case-team account later made administrator
    assert not Patient.objects.visible_to(world.admin_e).exists()
    client.force_login(world.admin_e)
    for url in patient_pages(world):
        assert client.get(url).status_code == 404, url
    opened = reverse("registry:patient_open", kwargs={"patient_uuid": world.patient_a.uuid})
    assert client.post(opened, {"reason": "核实身份信息"}).status_code == 404
    page = client.get(reverse("registry:patient_list")).content.decode()
    assert str(world.patient_a.uuid) not in page and world.patient_a.name not in page


def test_an_administrator_with_a_membership_row_sees_no_patient(world: World, client: Client) -> None:
    """A membership row written behind the product's back (a data fix, a script) gives an administrator nothing."""
    AreaMembership.objects.create(user=world.admin_e, area=world.township_a)
    assert world.admin_e.role == Role.ADMIN
    assert not Patient.objects.visible_to(world.admin_e).exists()
    client.force_login(world.admin_e)
    for url in patient_pages(world):
        assert client.get(url).status_code == 404, url
    opened = reverse("registry:patient_open", kwargs={"patient_uuid": world.patient_a.uuid})
    assert client.post(opened, {"reason": "核实身份信息"}).status_code == 404
    for name in ("followup:worklist", "followup:case_list", "registry:patient_list"):
        response = client.get(reverse(name))
        assert response.status_code in (200, 403, 404), name
        assert world.patient_a.name not in response.content.decode(), name


def test_a_case_member_affiliated_with_a_county_sees_only_granted_patients(world: World) -> None:
    """The county affiliation of a case-team account is not a jurisdiction."""
    assert list(world.police_c.memberships.values_list("area_id", flat=True)) == [world.county.code]
    assert world.police_c.jurisdiction_prefixes() == []
    assert set(Patient.objects.visible_to(world.police_c)) == {world.patient_a}
