"""Lifting a login lock in the product (issue 14 §5): a county officer lifts the locks of the accounts inside the
county, an administrator anyone's; everyone else gets the site's 404 (or the login page)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from casemgmt.accounts import throttle
from casemgmt.accounts.models import Role, User
from casemgmt.areas.models import Area, AreaLevel
from casemgmt.audit.models import Action, AuditEvent
from tests.base import PASSWORD, World, make_user
from tests.second_factor import enrolled_device

PAGE = "/security/"


@pytest.fixture(autouse=True)
def clear_throttle() -> None:
    cache.clear()
    throttle._fallback.clear()


def login(client: Client, username: str, password: str = PASSWORD, address: str = "10.0.0.7") -> Any:
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def lock(username: str) -> None:
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        login(Client(), username, "wrong-password")
    assert throttle.is_locked(username, "")


def lift_url(user: User) -> str:
    return reverse("locks:lift", kwargs={"account_uuid": user.uuid})


def other_county_officer(world: World) -> User:
    elsewhere = Area.objects.create(code="320509000000", name="别区", level=AreaLevel.COUNTY, parent=world.city)
    return make_user("county_x", Role.AREA_STAFF, elsewhere)


def test_an_officer_sees_the_locked_accounts_of_the_county_and_lifts_one(world: World, client: Client) -> None:
    lock("doctor_a")
    client.force_login(world.county_d)
    page = client.get(PAGE).content.decode()
    assert "doctor_a" in page and f'action="{lift_url(world.doctor_a)}"' in page
    assert f'action="{lift_url(world.doctor_b)}"' not in page  # not locked
    assert "登录失败次数过多" in login(Client(), "doctor_a").content.decode()

    response = client.post(lift_url(world.doctor_a))
    assert response.status_code == 302 and response["Location"] == PAGE
    assert not throttle.is_locked("doctor_a", "")
    [event] = AuditEvent.objects.filter(action=Action.LOCK_LIFTED)
    assert event.actor == world.county_d and event.detail == {"username": "doctor_a"}
    assert "10.0.0.7" not in json.dumps([e.detail for e in AuditEvent.objects.all()])
    assert login(Client(), "doctor_a").status_code == 302
    assert f'action="{lift_url(world.doctor_a)}"' not in client.get(PAGE).content.decode()


def test_lifting_an_account_that_is_not_locked_changes_nothing(world: World, client: Client) -> None:
    client.force_login(world.county_d)
    response = client.post(lift_url(world.doctor_b), follow=True)
    assert "未被锁定" in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.LOCK_LIFTED).exists()


def test_an_administrator_lifts_anyones_lock(world: World, client: Client) -> None:
    drifter = make_user("grid_x", Role.CASE_MEMBER)  # a case-team account of no county: only an administrator
    lock("grid_x")
    county = Client()
    county.force_login(world.county_d)
    assert "grid_x" not in county.get(PAGE).content.decode()
    assert county.post(lift_url(drifter)).status_code == 404
    client.force_login(world.admin_e)
    assert "grid_x" in client.get(PAGE).content.decode()
    assert client.post(lift_url(drifter)).status_code == 302
    assert login(Client(), "grid_x").status_code == 302
    assert AuditEvent.objects.get(action=Action.LOCK_LIFTED).actor == world.admin_e


def test_the_county_officer_lifts_the_lock_of_a_case_team_account_of_the_county(world: World, client: Client) -> None:
    lock("police_c")  # affiliated with the county (an affiliation, not a jurisdiction)
    client.force_login(world.county_d)
    assert "police_c" in client.get(PAGE).content.decode()
    assert client.post(lift_url(world.police_c)).status_code == 302
    assert login(Client(), "police_c").status_code == 302


def test_the_page_offers_to_reset_the_authenticators_in_reach(world: World, client: Client) -> None:
    colleague = make_user("county_d2", Role.AREA_STAFF, world.county)
    enrolled_device(colleague)
    client.force_login(world.county_d)
    page = client.get(PAGE).content.decode()
    reset = reverse("locks:reset_second_factor", kwargs={"account_uuid": colleague.uuid})
    assert f'action="{reset}"' in page
    own = reverse("locks:reset_second_factor", kwargs={"account_uuid": world.county_d.uuid})
    assert f'action="{own}"' not in page


def test_the_nav_links_the_page_for_officers_and_administrators(world: World, client: Client) -> None:
    for user, linked in ((world.county_d, True), (world.admin_e, True), (world.doctor_a, False)):
        client.force_login(user)
        assert (f'href="{PAGE}"' in client.get(reverse("home"), follow=True).content.decode()) is linked, user


def test_hostile_users_get_404_or_the_login_page(world: World) -> None:
    lock("doctor_a")
    for who in (world.doctor_a2, world.doctor_b, world.police_c, other_county_officer(world)):
        hostile = Client()
        hostile.force_login(who)
        if who.is_area_staff:
            assert hostile.get(PAGE).status_code == 200
            assert "doctor_a" not in hostile.get(PAGE).content.decode()
        else:
            assert hostile.get(PAGE).status_code == 404, who
        assert hostile.post(lift_url(world.doctor_a)).status_code == 404, who
    anonymous = Client()
    for response in (anonymous.get(PAGE), anonymous.post(lift_url(world.doctor_a))):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert throttle.is_locked("doctor_a", "")
    assert not AuditEvent.objects.filter(action=Action.LOCK_LIFTED).exists()


def test_with_the_shared_cache_down_locks_are_listed_and_lifted_from_process_memory(
    world: World, client: Client, monkeypatch: Any
) -> None:
    from tests.casemgmt.test_login_hardening import Down

    monkeypatch.setattr(throttle, "cache", Down())
    lock("doctor_a")
    client.force_login(world.county_d)
    assert f'action="{lift_url(world.doctor_a)}"' in client.get(PAGE).content.decode()
    assert client.post(lift_url(world.doctor_a)).status_code == 302
    assert login(Client(), "doctor_a").status_code == 302
