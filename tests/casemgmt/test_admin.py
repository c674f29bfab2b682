"""The admin site is for the ADMIN role only, and never shows patients."""

from __future__ import annotations

from django.test import Client

from tests.base import World


def test_system_admin_manages_areas_and_accounts(world: World, client: Client) -> None:
    world.admin_e.is_staff = True
    world.admin_e.save()
    client.force_login(world.admin_e)
    assert client.get("/admin/areas/area/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/registry/patient/").status_code == 404


def test_other_roles_cannot_use_the_admin_even_if_staff(world: World, client: Client) -> None:
    world.county_d.is_staff = True
    world.county_d.save()
    client.force_login(world.county_d)
    assert client.get("/admin/areas/area/").status_code == 403
