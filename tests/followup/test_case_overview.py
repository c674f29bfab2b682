"""The case sections of the county overview: open cases per township, overdue plan reviews, unstable patients
without a follow-up in 14 days — counts and masked lines, within the user's scope, with a fixed query count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from casemgmt.accounts.models import Role
from followup.models import Case
from registry.patients.masking import mask_name
from tests.base import TODAY, World, make_patient, make_user
from tests.followup.case_base import client_for, open_case

pytestmark = pytest.mark.django_db
URL = "followup:overview"


def seed(world: World) -> Case:
    old = open_case(world, day=TODAY - dt.timedelta(days=20))  # unstable, last seen 20 days ago
    Case.objects.filter(pk=old.pk).update(review_date=TODAY - dt.timedelta(days=2))
    open_case(world, world.patient_b, day=TODAY - dt.timedelta(days=3))
    return old


def test_counts_and_masked_lines(world: World) -> None:
    seed(world)
    response = client_for(world.county_d).get(reverse(URL))
    body = response.content.decode()
    assert response.status_code == 200
    assert [(area.name, n) for area, n in response.context["townships"]] == [("甲街道", 1), ("乙街道", 1)]
    assert "进行中的个案（2）" in body
    assert "方案评估已逾期（1）" in body
    assert "14 天内未随访的不稳定患者（1）" in body
    assert mask_name(world.patient_a.name) in body and world.patient_a.name not in body
    assert [r.patient_uuid for r in response.context["review_rows"]] == [world.patient_a.uuid]
    assert [r.patient_uuid for r in response.context["quiet_rows"]] == [world.patient_a.uuid]


def test_scope_is_the_users_areas(world: World) -> None:
    seed(world)
    township = make_user("township_b_staff", Role.AREA_STAFF, world.township_b)
    response = client_for(township).get(reverse(URL))
    assert [(area.name, n) for area, n in response.context["townships"]] == [("乙街道", 1)]
    assert response.context["review_rows"] == [] and response.context["quiet_rows"] == []


@pytest.mark.parametrize("extra", [0, 3])
def test_query_count_does_not_grow_with_the_lines(world: World, extra: int, django_assert_num_queries: Any) -> None:
    seed(world)
    for _ in range(extra):
        case = open_case(world, make_patient(world.doctor_a, world.village_a2), day=TODAY - dt.timedelta(days=20))
        Case.objects.filter(pk=case.pk).update(review_date=TODAY - dt.timedelta(days=1))
    client = client_for(world.county_d)
    with django_assert_num_queries(23):  # 21, the session's second-factor device and the navigation's count of
        # break-glass accesses to acknowledge
        response = client.get(reverse(URL))
    assert len(response.context["review_rows"]) == 1 + extra
