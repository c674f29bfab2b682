"""The Django admin is for superusers only: everyone else gets the site's 404 (anonymous: the login page)."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from casemgmt.accounts.models import Role, User
from casemgmt.audit.models import Action, AuditEvent
from tests.base import PASSWORD, World


def test_a_superuser_uses_the_admin_without_groups_or_permissions(world: World, client: Client) -> None:
    root = User.objects.create_superuser("root_x", password=PASSWORD, role=Role.ADMIN)
    client.force_login(root)
    assert client.get("/admin/areas/area/").status_code == 200
    page = client.get(f"/admin/accounts/user/{world.doctor_a.pk}/change/").content.decode()
    assert 'name="display_name"' in page
    for field in ("role", "groups", "user_permissions", "is_superuser", "is_staff", "is_active", "memberships-0-area"):
        assert f'name="{field}"' not in page, field
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
    response = client.post(url, {"username": "doctor_b", "display_name": "乙医生", "phone": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action=Action.ACCOUNT_UPDATE)
    assert event.actor == root and event.detail["username"] == "doctor_b" and event.detail["source"] == "admin"
    world.doctor_b.refresh_from_db()
    assert world.doctor_b.display_name == "乙医生"


def _self_promotion(root: User, world: World) -> dict[str, str]:
    """What the original finding posted: the superuser's own change form with role doctor and a township."""
    return {
        "username": root.username,
        "role": Role.DOCTOR,
        "display_name": "root",
        "phone": "",
        "is_active": "on",
        "is_superuser": "on",
        "is_staff": "on",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-user": str(root.pk),
        "memberships-0-area": world.township_a.code,
    }


def test_a_superuser_cannot_give_itself_patient_access_in_the_admin(world: World, client: Client) -> None:
    """Issue 14 §3: the superuser set its own role to doctor, added a township membership and read identities."""
    from registry.models import Patient

    root = User.objects.create_superuser("root_x", password=PASSWORD, role=Role.ADMIN)
    client.force_login(root)
    client.post(f"/admin/accounts/user/{root.pk}/change/", _self_promotion(root, world))
    root.refresh_from_db()
    assert root.role == Role.ADMIN and not root.memberships.exists()
    assert not Patient.objects.visible_to(root).exists()
    detail = reverse("registry:patient_detail", kwargs={"patient_uuid": world.patient_a.uuid})
    assert client.get(detail).status_code == 404


def test_the_admin_cannot_change_memberships_roles_or_passwords(world: World, client: Client) -> None:
    root = User.objects.create_superuser("root_x", password=PASSWORD, role=Role.ADMIN)
    client.force_login(root)
    data = _self_promotion(root, world) | {"username": "doctor_b", "memberships-0-user": str(world.doctor_b.pk)}
    data["role"] = Role.AREA_STAFF
    client.post(f"/admin/accounts/user/{world.doctor_b.pk}/change/", data)
    world.doctor_b.refresh_from_db()
    assert world.doctor_b.role == Role.DOCTOR and not world.doctor_b.is_superuser and not world.doctor_b.is_staff
    assert list(world.doctor_b.memberships.values_list("area_id", flat=True)) == [world.township_b.code]
    # No account is made here (a new account goes through the product's approval) and no password is set here
    # (a password the superuser chose would let it sign in as the doctor).
    assert client.get("/admin/accounts/user/add/").status_code == 403
    new = "Admin-Set-Pass-2027"
    response = client.post(
        "/admin/accounts/user/add/", {"username": "doc_x", "password1": new, "password2": new, "role": Role.DOCTOR}
    )
    assert response.status_code == 403 and not User.objects.filter(username="doc_x").exists()
    password_url = f"/admin/accounts/user/{world.doctor_b.pk}/password/"
    response = client.post(password_url, {"password1": new, "password2": new, "usable_password": "true"})
    assert response.status_code in (403, 404)
    world.doctor_b.refresh_from_db()
    assert world.doctor_b.check_password(PASSWORD)
    assert client.get("/admin/accounts/areamembership/").status_code == 404
