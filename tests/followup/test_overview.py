"""The county overview: area staff only (403 for others), their scope only, masked identity, 405 on POST."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casemgmt.accounts.models import Role
from followup.emergencies import services as emergency_services
from registry.patients.masking import mask_name
from registry.transfers import services as transfers
from tests.base import PASSWORD, TODAY, World, make_area, make_user

pytestmark = pytest.mark.django_db
URL = "followup:overview"


def client_for(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def seed(world: World) -> None:
    emergency_services.record_emergency(
        actor=world.doctor_a,
        values={"occurred_at": timezone.now() - dt.timedelta(hours=30)},
        handler=None,
        complete=False,
        now=timezone.now(),
        patient=world.patient_a,
    )
    transfers.request_transfer(
        actor=world.doctor_b,
        patient=world.patient_b,
        to_village=world.village_a1,
        reason="",
        today=TODAY - dt.timedelta(days=20),
    )


def test_county_staff_see_masked_sections(world: World) -> None:
    seed(world)
    response = client_for(world.county_d).get(reverse(URL))
    assert response.status_code == 200
    body = response.content.decode()
    assert mask_name(world.patient_a.name) in body and world.patient_a.name not in body
    assert mask_name(world.patient_b.name) in body and world.patient_b.name not in body
    assert world.patient_b.national_id not in body
    assert "待接收超过14天的迁移申请（1）" in body
    assert "超过24小时仍未完成（1）" in body


def test_scope_is_the_users_areas(world: World) -> None:
    seed(world)
    other_county = make_area("320509000000", "别区", 3, world.city)
    other = make_user("county_x", Role.AREA_STAFF, other_county)
    body = client_for(other).get(reverse(URL)).content.decode()
    assert mask_name(world.patient_a.name) not in body
    assert "待接收超过14天的迁移申请（0）" in body


def test_others_403_and_post_405(world: World) -> None:
    for user in (world.doctor_a, world.police_c, world.admin_e):
        assert client_for(user).get(reverse(URL)).status_code == 403
    assert client_for(world.county_d).post(reverse(URL)).status_code == 405
    assert Client().get(reverse(URL)).status_code == 302


def test_nav_link_for_area_staff_only(world: World) -> None:
    home = reverse("followup:emergency_list")
    assert reverse(URL) in client_for(world.county_d).get(home).content.decode()
    assert reverse(URL) not in client_for(world.doctor_a).get(home).content.decode()


def test_query_count_is_pinned(world: World, django_assert_max_num_queries: Any) -> None:
    seed(world)
    client = client_for(world.county_d)
    with django_assert_max_num_queries(22):  # 20, the session's second-factor device and the navigation's count
        # of break-glass accesses to acknowledge
        assert client.get(reverse(URL)).status_code == 200
