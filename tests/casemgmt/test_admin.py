"""The Django admin is for superusers only: everyone else gets the site's 404 (anonymous: the login page)."""

from __future__ import annotations

from django.test import Client

from casemgmt.accounts.models import Role, User
from casemgmt.audit.models import Action, AuditEvent
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


def test_account_changes_in_the_admin_are_audited(world: World, client: Client) -> None:
    root = User.objects.create_superuser("root_x", password=PASSWORD, role=Role.ADMIN)
    client.force_login(root)
    url = f"/admin/accounts/user/{world.doctor_b.pk}/change/"
    data = {
        "username": "doctor_b",
        "role": Role.DOCTOR,
        "display_name": "乙医生",
        "phone": "",
        "is_active": "on",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": str(world.doctor_b.memberships.get().pk),
        "memberships-0-user": str(world.doctor_b.pk),
        "memberships-0-area": world.township_b.code,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action=Action.ACCOUNT_UPDATE)
    assert event.actor == root and event.detail["username"] == "doctor_b" and event.detail["source"] == "admin"
    password_url = f"/admin/accounts/user/{world.doctor_b.pk}/password/"
    new = "Admin-Set-Pass-2027"
    response = client.post(password_url, {"password1": new, "password2": new, "usable_password": "true"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=Action.ACCOUNT_UPDATE).count() == 2
