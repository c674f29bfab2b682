"""The Django admin is for superusers only: everyone else gets the site's 404 (anonymous: the login page)."""

from __future__ import annotations

from django.test import Client

from casemgmt.accounts.models import Role, User
from tests.base import PASSWORD, World


def test_a_superuser_uses_the_admin_without_groups_or_permissions(world: World, client: Client) -> None:
    root = User.objects.create_superuser("root_x", password=PASSWORD, role=Role.ADMIN)
    client.force_login(root)
    assert client.get("/admin/areas/area/").status_code == 200
    page = client.get(f"/admin/accounts/user/{world.doctor_a.pk}/change/").content.decode()
    assert 'name="role"' in page
    assert 'name="groups"' not in page and 'name="user_permissions"' not in page and 'name="is_superuser"' not in page
    assert client.get("/admin/auth/group/").status_code == 404
    assert client.get("/admin/registry/patient/").status_code == 404


def test_system_administrators_and_other_roles_get_404_even_if_staff(world: World, client: Client) -> None:
    for user in (world.admin_e, world.county_d, world.doctor_a, world.police_c):
        user.is_staff = True
        user.save()
        client.force_login(user)
        for url in ("/admin/", "/admin/areas/area/", "/admin/accounts/user/", "/admin/login/"):
            response = client.get(url)
            assert response.status_code == 404, (user.username, url)


def test_anonymous_visitors_are_sent_to_the_products_login(db: object, client: Client) -> None:
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/admin/accounts/user/")
