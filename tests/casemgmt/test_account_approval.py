"""Separation of duties (issue 14 §3): an account change that gives access to identities takes effect only after
a second authorised person approves it in the product; nobody grants themselves anything; removals are at once.

The default rule (``ACCOUNT_APPROVER_RULE = "county_officer"``): area staff whose membership covers the
account's areas approve doctor (township) accounts; a second administrator approves every other account.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from casemgmt.accounts.models import AccountChangeRequest, ChangeState, Role, User
from casemgmt.areas.models import AreaLevel
from casemgmt.audit.models import Action, AuditEvent
from registry.models import Patient
from tests.base import PASSWORD, World, make_area, make_user


def edit_url(user: User, name: str = "manage:account_edit") -> str:
    return reverse(name, kwargs={"account_uuid": user.uuid})


def request_url(change: AccountChangeRequest, name: str = "manage:approval_detail") -> str:
    return reverse(name, kwargs={"request_uuid": change.uuid})


def sees(user: User, patient: Patient) -> bool:
    fresh = User.objects.get(pk=user.pk)
    return Patient.objects.visible_to(fresh).filter(pk=patient.pk).exists()


def admin_f() -> User:
    return make_user("admin_f", Role.ADMIN)


def test_an_administrator_cannot_create_a_doctor_and_log_in_with_its_password(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    response = client.post(
        reverse("manage:account_create"),
        {"username": "doctor_new", "display_name": "新医生", "role": Role.DOCTOR, "areas": [world.township_a.code]},
    )
    assert response.status_code == 302
    assert "password" not in (response.context or {})
    assert not User.objects.filter(username="doctor_new").exists()  # created only at approval
    change = AccountChangeRequest.objects.get()
    assert change.state == ChangeState.PENDING and change.requested_by == world.admin_e
    assert change.username == "doctor_new" and change.role == Role.DOCTOR
    assert change.area_codes == [world.township_a.code] and change.account is None
    event = AuditEvent.objects.get(action=Action.ACCOUNT_CHANGE_REQUEST)
    assert event.actor == world.admin_e and event.detail["username"] == "doctor_new"
    assert event.detail["request"] == str(change.uuid)
    assert not AuditEvent.objects.filter(action=Action.ACCOUNT_CREATE).exists()

    # The requester cannot decide it: every approval URL is the site's 404 for them.
    for name in ("manage:approval_detail", "manage:approval_approve", "manage:approval_reject"):
        assert client.post(request_url(change, name)).status_code == 404, name
    page = client.get(reverse("manage:approval_list")).content.decode()
    assert request_url(change) not in page and 'id="no-pending-requests"' in page
    assert 'id="my-requests"' in page and "doctor_new" in page  # listed among the requester's own, undecidable

    # The county officer sees it, approves it, and is shown the temporary password once.
    officer = Client()
    officer.force_login(world.county_d)
    assert "doctor_new" in officer.get(reverse("manage:approval_list")).content.decode()
    assert "doctor_new" in officer.get(request_url(change)).content.decode()
    response = officer.post(request_url(change, "manage:approval_approve"))
    assert response.status_code == 200
    password = response.context["password"]
    assert password in response.content.decode()
    user = User.objects.get(username="doctor_new")
    assert user.is_active and user.must_change_password and user.role == Role.DOCTOR
    assert user.check_password(password)
    assert list(user.memberships.values_list("area_id", flat=True)) == [world.township_a.code]
    assert sees(user, world.patient_a)
    change.refresh_from_db()
    assert change.state == ChangeState.APPROVED and change.decided_by == world.county_d and change.account == user
    approve = AuditEvent.objects.get(action=Action.ACCOUNT_CHANGE_APPROVE)
    assert approve.actor == world.county_d and approve.detail["request"] == str(change.uuid)
    assert password not in json.dumps(list(AuditEvent.objects.values_list("detail", flat=True)))
    # Deciding twice does nothing more.
    assert officer.post(request_url(change, "manage:approval_approve")).status_code == 404


def test_the_original_finding_an_administrator_cannot_make_itself_a_doctor(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    response = client.post(
        edit_url(world.admin_e),
        {"display_name": "管理员", "role": Role.DOCTOR, "areas": [world.township_a.code]},
    )
    assert response.status_code == 200
    assert "不能" in " ".join(response.context["form"].errors.get("role", []))
    world.admin_e.refresh_from_db()
    assert world.admin_e.role == Role.ADMIN and not world.admin_e.memberships.exists()
    assert not AccountChangeRequest.objects.exists()
    assert not sees(world.admin_e, world.patient_a)


def test_administrators_cannot_collude_through_their_own_account(world: World, client: Client) -> None:
    """Another administrator proposing the first one as a doctor still needs the county officer; the first one
    can never approve a request about itself."""
    second = admin_f()
    client.force_login(second)
    promotion = {"display_name": "管理员", "role": Role.DOCTOR, "areas": [world.township_a.code]}
    client.post(edit_url(world.admin_e), promotion)
    change = AccountChangeRequest.objects.get()
    assert change.account == world.admin_e and change.state == ChangeState.PENDING
    world.admin_e.refresh_from_db()
    assert world.admin_e.role == Role.ADMIN
    subject = Client()
    subject.force_login(world.admin_e)
    assert subject.post(request_url(change, "manage:approval_approve")).status_code == 404
    change.refresh_from_db()
    assert change.state == ChangeState.PENDING
    assert not sees(world.admin_e, world.patient_a)


def test_adding_an_area_waits_for_the_county_officer(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    response = client.post(
        edit_url(world.doctor_b),
        {"display_name": "doctor_b", "role": Role.DOCTOR, "areas": [world.township_b.code, world.township_a.code]},
    )
    assert response.status_code == 302
    assert not sees(world.doctor_b, world.patient_a)
    assert list(world.doctor_b.memberships.values_list("area_id", flat=True)) == [world.township_b.code]
    change = AccountChangeRequest.objects.get()
    page = client.get(edit_url(world.doctor_b)).content.decode()
    assert "待审批" in page

    # A doctor, a case member and the requester cannot decide it; the county officer can.
    for who in (world.doctor_a, world.police_c, world.admin_e):
        other = Client()
        other.force_login(who)
        assert other.post(request_url(change, "manage:approval_approve")).status_code == 404
    officer = Client()
    officer.force_login(world.county_d)
    response = officer.post(request_url(change, "manage:approval_approve"))
    assert response.status_code == 302
    assert sees(world.doctor_b, world.patient_a)
    assert AuditEvent.objects.filter(action=Action.ACCOUNT_UPDATE, detail__username="doctor_b").count() == 1


def test_county_staff_of_another_county_cannot_decide(world: World, client: Client) -> None:
    other_county = make_area("320509000000", "另一区", AreaLevel.COUNTY, world.city)
    stranger = make_user("county_x", Role.AREA_STAFF, other_county)
    client.force_login(world.admin_e)
    client.post(edit_url(world.doctor_b), {"display_name": "b", "role": Role.DOCTOR, "areas": [world.township_a.code]})
    change = AccountChangeRequest.objects.get()
    client = Client()
    client.force_login(stranger)
    assert "doctor_b" not in client.get(reverse("manage:approval_list")).content.decode()
    for name in ("manage:approval_detail", "manage:approval_approve", "manage:approval_reject"):
        assert client.post(request_url(change, name)).status_code == 404, name
    change.refresh_from_db()
    assert change.state == ChangeState.PENDING


def test_anonymous_visitors_are_sent_to_log_in(world: World, client: Client) -> None:
    Client().force_login(world.admin_e)
    admin = Client()
    admin.force_login(world.admin_e)
    admin.post(edit_url(world.doctor_b), {"display_name": "b", "role": Role.DOCTOR, "areas": [world.township_a.code]})
    change = AccountChangeRequest.objects.get()
    for url in (
        reverse("manage:approval_list"),
        request_url(change),
        request_url(change, "manage:approval_approve"),
        request_url(change, "manage:approval_reject"),
    ):
        response = client.post(url) if url.endswith(("/approve/", "/reject/")) else client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_removals_take_effect_at_once(world: World, client: Client) -> None:
    doctor = make_user("doctor_ab", Role.DOCTOR, world.township_a, world.township_b)
    client.force_login(world.admin_e)
    response = client.post(
        edit_url(doctor), {"display_name": "新名字", "role": Role.DOCTOR, "areas": [world.township_b.code]}
    )
    assert response.status_code == 302
    assert not sees(doctor, world.patient_a) and sees(doctor, world.patient_b)
    doctor.refresh_from_db()
    assert doctor.display_name == "新名字"
    assert not AccountChangeRequest.objects.exists()
    client.post(edit_url(doctor, "manage:account_active"), {"active": "0"})
    doctor.refresh_from_db()
    assert not doctor.is_active


def test_reactivation_and_role_change_wait_for_approval(world: World, client: Client) -> None:
    second = admin_f()
    client.force_login(world.admin_e)
    client.post(edit_url(world.doctor_b, "manage:account_active"), {"active": "0"})
    client.post(edit_url(world.doctor_b, "manage:account_active"), {"active": "1"})
    world.doctor_b.refresh_from_db()
    assert not world.doctor_b.is_active
    reactivate = AccountChangeRequest.objects.get(account=world.doctor_b)
    client.post(edit_url(world.police_c), {"display_name": "c", "role": Role.AREA_STAFF, "areas": [world.county.code]})
    world.police_c.refresh_from_db()
    assert world.police_c.role == Role.CASE_MEMBER
    promote = AccountChangeRequest.objects.get(account=world.police_c)

    officer = Client()
    officer.force_login(world.county_d)
    officer.post(request_url(reactivate, "manage:approval_approve"))
    world.doctor_b.refresh_from_db()
    assert world.doctor_b.is_active
    # A new area-staff account is not a township account: a second administrator decides.
    assert officer.post(request_url(promote, "manage:approval_approve")).status_code == 404
    other = Client()
    other.force_login(second)
    other.post(request_url(promote, "manage:approval_approve"))
    world.police_c.refresh_from_db()
    assert world.police_c.role == Role.AREA_STAFF


def test_a_password_reset_is_shown_only_to_the_approver(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    response = client.post(edit_url(world.doctor_a, "manage:account_reset_password"))
    assert response.status_code == 302
    assert "password" not in (response.context or {})
    world.doctor_a.refresh_from_db()
    assert world.doctor_a.check_password(PASSWORD) and not world.doctor_a.must_change_password
    change = AccountChangeRequest.objects.get()
    officer = Client()
    officer.force_login(world.county_d)
    response = officer.post(request_url(change, "manage:approval_approve"))
    password = response.context["password"]
    world.doctor_a.refresh_from_db()
    assert world.doctor_a.check_password(password) and world.doctor_a.must_change_password
    assert AuditEvent.objects.filter(action=Action.PASSWORD_RESET, actor=world.county_d).exists()


def test_reject_changes_nothing(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    client.post(edit_url(world.doctor_b), {"display_name": "b", "role": Role.DOCTOR, "areas": [world.township_a.code]})
    change = AccountChangeRequest.objects.get()
    officer = Client()
    officer.force_login(world.county_d)
    response = officer.post(request_url(change, "manage:approval_reject"), {"note": "长" * 201})
    assert response.status_code == 200
    assert "驳回理由最长200个字符" in " ".join(response.context["form"].errors["note"])
    change.refresh_from_db()
    assert change.state == ChangeState.PENDING
    response = officer.post(request_url(change, "manage:approval_reject"), {"note": "不是本区医生"})
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.state == ChangeState.REJECTED and change.decided_by == world.county_d
    assert change.decision_note == "不是本区医生"
    assert not sees(world.doctor_b, world.patient_a)
    event = AuditEvent.objects.get(action=Action.ACCOUNT_CHANGE_REJECT)
    assert event.actor == world.county_d and event.detail["request"] == str(change.uuid)
    # The account can be edited again once the request is decided.
    client.post(edit_url(world.doctor_b), {"display_name": "b", "role": Role.DOCTOR, "areas": [world.township_a.code]})
    assert AccountChangeRequest.objects.filter(state=ChangeState.PENDING).count() == 1


def test_one_pending_request_per_account(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    client.post(edit_url(world.doctor_b), {"display_name": "b", "role": Role.DOCTOR, "areas": [world.township_a.code]})
    response = client.post(
        edit_url(world.doctor_b), {"display_name": "b", "role": Role.DOCTOR, "areas": [world.village_a1.code]}
    )
    assert response.status_code == 200
    assert "待审批" in " ".join(response.context["form"].non_field_errors())
    assert AccountChangeRequest.objects.count() == 1
    client.post(reverse("manage:account_create"), {"username": "x_new", "display_name": "x", "role": Role.CASE_MEMBER})
    response = client.post(
        reverse("manage:account_create"), {"username": "X_NEW", "display_name": "x", "role": Role.CASE_MEMBER}
    )
    assert "该用户名已被使用" in " ".join(response.context["form"].errors["username"])


def test_approval_refuses_a_username_taken_meanwhile(world: World, client: Client) -> None:
    second = admin_f()
    client.force_login(world.admin_e)
    client.post(reverse("manage:account_create"), {"username": "x_new", "display_name": "x", "role": Role.CASE_MEMBER})
    change = AccountChangeRequest.objects.get()
    make_user("x_new", Role.DOCTOR, world.township_b)
    other = Client()
    other.force_login(second)
    response = other.post(request_url(change, "manage:approval_approve"))
    assert response.status_code == 200
    assert "该用户名已被使用" in response.content.decode()
    change.refresh_from_db()
    assert change.state == ChangeState.PENDING
    assert User.objects.get(username="x_new").role == Role.DOCTOR


@override_settings(ACCOUNT_APPROVER_RULE="second_admin")
def test_the_rule_can_require_a_second_administrator_for_every_account(world: World, client: Client) -> None:
    second = admin_f()
    client.force_login(world.admin_e)
    client.post(edit_url(world.doctor_b), {"display_name": "b", "role": Role.DOCTOR, "areas": [world.township_a.code]})
    change = AccountChangeRequest.objects.get()
    officer = Client()
    officer.force_login(world.county_d)
    assert officer.post(request_url(change, "manage:approval_approve")).status_code == 404
    other = Client()
    other.force_login(second)
    assert other.post(request_url(change, "manage:approval_approve")).status_code == 302
    assert sees(world.doctor_b, world.patient_a)


@pytest.mark.parametrize("rule", ["", "nobody", "county"])
def test_an_unknown_rule_is_refused_by_the_system_check(rule: str) -> None:
    from casemgmt.accounts.manage.approvals import approver_rule_problems

    with override_settings(ACCOUNT_APPROVER_RULE=rule):
        assert approver_rule_problems()


def test_the_approval_pages_speak_english_when_asked(world: World, client: Client) -> None:
    from django.conf import settings

    admin = Client()
    admin.force_login(world.admin_e)
    admin.post(edit_url(world.doctor_b), {"display_name": "b", "role": Role.DOCTOR, "areas": [world.township_a.code]})
    change = AccountChangeRequest.objects.get()
    client.force_login(world.county_d)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("manage:approval_list")).content.decode()
    assert "Account approvals" in page and "Awaiting my approval" in page and "账号审批" not in page
    page = client.get(request_url(change)).content.decode()
    assert "Added areas" in page and "Reject the request" in page and "批准" not in page


def test_a_superusers_account_is_decided_by_another_superuser_only(world: World) -> None:
    root = User.objects.create_superuser("root_x", password=PASSWORD, role=Role.ADMIN)
    other_root = User.objects.create_superuser("root_y", password=PASSWORD, role=Role.ADMIN)
    root_client = Client()
    root_client.force_login(root)
    root_client.post(edit_url(other_root, "manage:account_reset_password"))
    change = AccountChangeRequest.objects.get()
    admin = Client()
    admin.force_login(world.admin_e)  # an administrator without the superuser flag
    assert admin.post(request_url(change, "manage:approval_approve")).status_code == 404
    third = User.objects.create_superuser("root_z", password=PASSWORD, role=Role.ADMIN)
    decider = Client()
    decider.force_login(third)
    assert decider.post(request_url(change, "manage:approval_approve")).status_code == 200
