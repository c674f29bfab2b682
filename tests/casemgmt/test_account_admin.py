"""Account administration inside the product: who reaches it, what it does, and the audit it leaves."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.urls import reverse

from casemgmt.accounts.models import Role, User
from casemgmt.audit.models import Action, AuditEvent
from tests.base import PASSWORD, World, make_user

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse


def edit_url(user: User, name: str = "manage:account_edit") -> str:
    return reverse(name, kwargs={"account_uuid": user.uuid})


def approve_waiting(approver: User) -> _MonkeyPatchedWSGIResponse:
    """The second person approves the one waiting request (casemgmt.accounts.manage.approvals)."""
    from casemgmt.accounts.models import AccountChangeRequest, ChangeState

    change = AccountChangeRequest.objects.get(state=ChangeState.PENDING)
    client = Client()
    client.force_login(approver)
    response = client.post(reverse("manage:approval_approve", kwargs={"request_uuid": change.uuid}))
    assert response.status_code in (200, 302)
    return response


def all_urls(world: World) -> list[tuple[str, str]]:
    target = world.doctor_a
    return [
        ("get", reverse("manage:account_list")),
        ("get", reverse("manage:account_create")),
        ("post", reverse("manage:account_create")),
        ("get", edit_url(target)),
        ("post", edit_url(target)),
        ("post", edit_url(target, "manage:account_active")),
        ("post", edit_url(target, "manage:account_reset_password")),
        ("get", reverse("manage:area_children")),
    ]


def test_anonymous_is_sent_to_log_in(world: World, client: Client) -> None:
    for method, url in all_urls(world):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


@pytest.mark.parametrize("who", ["doctor_a", "county_d", "police_c"])
def test_other_roles_get_the_sites_404(world: World, client: Client, who: str) -> None:
    client.force_login(getattr(world, who))
    for method, url in all_urls(world):
        response = getattr(client, method)(url, {"active": "0"} if method == "post" else {})
        assert response.status_code == 404, url
        assert "main-nav" in response.content.decode() or "<nav" in response.content.decode()
    world.doctor_a.refresh_from_db()
    assert world.doctor_a.is_active and not world.doctor_a.must_change_password
    assert not AuditEvent.objects.filter(action__startswith="account").exists()


def test_an_inactive_administrator_gets_404(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    User.objects.filter(pk=world.admin_e.pk).update(is_active=False)
    assert client.get(reverse("manage:account_list")).status_code in (302, 404)


def test_list_search_filter_and_paging(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    page = client.get(reverse("manage:account_list")).content.decode()
    for username in ("doctor_a", "doctor_b", "county_d", "police_c", "admin_e"):
        assert username in page
    assert "账号管理" in page and "甲街道" in page
    page = client.get(reverse("manage:account_list"), {"q": "doctor_a"}).content.decode()
    assert "doctor_a" in page and "doctor_b" not in page
    page = client.get(reverse("manage:account_list"), {"role": Role.AREA_STAFF}).content.decode()
    assert "county_d" in page and "doctor_a" not in page
    page = client.get(reverse("manage:account_list"), {"area": world.township_b.code}).content.decode()
    assert "doctor_b" in page and "doctor_a" not in page
    bad = client.get(reverse("manage:account_list"), {"area": "bad", "role": "nope", "page": "x"})
    assert bad.status_code == 200
    for n in range(30):
        make_user(f"extra_{n:02d}", Role.CASE_MEMBER)
    first = client.get(reverse("manage:account_list")).content.decode()
    second = client.get(reverse("manage:account_list"), {"page": 2}).content.decode()
    assert "第 1 / 2 页" in first and "第 2 / 2 页" in second


def test_superusers_are_hidden_from_other_administrators(world: World, client: Client) -> None:
    root = User.objects.create_superuser("root_x", password=PASSWORD, role=Role.ADMIN)
    client.force_login(world.admin_e)
    assert "root_x" not in client.get(reverse("manage:account_list")).content.decode()
    assert client.get(edit_url(root)).status_code == 404
    assert client.post(edit_url(root, "manage:account_reset_password")).status_code == 404


def test_create_a_doctor_with_a_temporary_password(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    form = client.get(reverse("manage:account_create")).content.decode()
    assert 'id="area-picker"' in form and "area_picker.js" in form
    response = client.post(
        reverse("manage:account_create"),
        {"username": "doctor_new", "display_name": "新医生", "role": Role.DOCTOR, "areas": [world.township_a.code]},
    )
    assert response.status_code == 302  # a request: the county officer approves it and sees the password
    assert not User.objects.filter(username="doctor_new").exists()
    response = approve_waiting(world.county_d)
    password = response.context["password"]
    assert password in response.content.decode()
    user = User.objects.get(username="doctor_new")
    assert user.role == Role.DOCTOR and user.must_change_password and user.is_active and not user.is_staff
    assert list(user.memberships.values_list("area_id", flat=True)) == [world.township_a.code]
    assert user.check_password(password)
    event = AuditEvent.objects.get(action=Action.ACCOUNT_CREATE)
    assert event.actor == world.county_d
    expected = {"username": "doctor_new", "role": "doctor", "areas": [world.township_a.code], "active": True}
    assert event.detail == expected
    assert password not in json.dumps(event.detail)
    assert not event.subjects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"role": Role.DOCTOR, "areas": ["320508000000"]}, "areas", "精防医生的辖区必须是"),
        ({"role": Role.DOCTOR}, "areas", "至少需要一个辖区"),
        ({"role": Role.CASE_MEMBER, "areas": ["320508001000"]}, "areas", "个案管理团队成员的辖区必须是"),
        ({"role": Role.ADMIN, "areas": ["320508000000"]}, "areas", "不能设置辖区"),
        ({"role": Role.DOCTOR, "areas": ["abc"]}, "areas", "请用区划选择器选择辖区"),
        ({"role": Role.DOCTOR, "areas": ["999999999999"]}, "areas", "所选辖区不存在"),
        ({"role": "superuser"}, "role", "请选择有效的角色"),
        ({"role": Role.DOCTOR, "username": "doctor_a", "areas": ["320508001000"]}, "username", "该用户名已被使用"),
        ({"role": Role.DOCTOR, "username": "有 空格", "areas": ["320508001000"]}, "username", "用户名只能包含"),
        ({"role": Role.DOCTOR, "display_name": "", "areas": ["320508001000"]}, "display_name", "请填写姓名"),
        ({"role": Role.DOCTOR, "display_name": "名" * 51, "areas": ["320508001000"]}, "display_name", "最长50个字符"),
        ({"role": Role.DOCTOR, "username": "u" * 151, "areas": ["320508001000"]}, "username", "最长150个字符"),
        ({"role": Role.DOCTOR, "areas": [f"3205080010{n:02d}" for n in range(21)]}, "areas", "最多选择20个"),
        ({"role": Role.DOCTOR, "areas": ["３２０５０８００１０００"]}, "areas", "请用区划选择器"),
    ],
)
def test_create_refusals_are_chinese_field_messages(
    world: World, client: Client, data: dict[str, object], field: str, message: str
) -> None:
    client.force_login(world.admin_e)
    post = {"username": "someone_new", "display_name": "某人", **data}
    response = client.post(reverse("manage:account_create"), post)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and any(message in error for error in errors[field]), errors
    assert not User.objects.filter(username="someone_new").exists()
    assert not AuditEvent.objects.filter(action=Action.ACCOUNT_CREATE).exists()


def test_change_role_and_areas(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    page = client.get(edit_url(world.doctor_a)).content.decode()
    assert 'value="320508001000" checked' in page
    response = client.post(
        edit_url(world.doctor_a),
        {"display_name": "甲医生", "role": Role.DOCTOR, "areas": [world.township_b.code, world.village_a1.code]},
    )
    assert response.status_code == 302
    approve_waiting(world.county_d)  # township B added: the county officer approves
    world.doctor_a.refresh_from_db()
    assert world.doctor_a.display_name == "甲医生"
    assert sorted(world.doctor_a.memberships.values_list("area_id", flat=True)) == sorted(
        [world.township_b.code, world.village_a1.code]
    )
    event = AuditEvent.objects.get(action=Action.ACCOUNT_UPDATE)
    assert event.detail["username"] == "doctor_a"
    assert event.detail["changed"] == ["areas", "display_name"]
    response = client.post(
        edit_url(world.doctor_a), {"display_name": "甲医生", "role": Role.AREA_STAFF, "areas": [world.county.code]}
    )
    world.doctor_a.refresh_from_db()
    assert world.doctor_a.role == Role.DOCTOR
    approve_waiting(make_user("admin_f", Role.ADMIN))  # not a doctor account: a second administrator approves
    world.doctor_a.refresh_from_db()
    assert world.doctor_a.role == Role.AREA_STAFF


def test_editing_a_deactivated_account_keeps_it_deactivated(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    client.post(edit_url(world.doctor_b, "manage:account_active"), {"active": "0"})
    client.post(edit_url(world.doctor_b), {"display_name": "乙", "role": Role.DOCTOR, "areas": [world.township_b.code]})
    world.doctor_b.refresh_from_db()
    assert not world.doctor_b.is_active


def test_an_administrator_cannot_drop_their_own_role_or_deactivate_themselves(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    response = client.post(edit_url(world.admin_e), {"display_name": "管理员", "role": Role.DOCTOR})
    assert "不能修改自己的角色" in response.content.decode()
    client.post(edit_url(world.admin_e, "manage:account_active"), {"active": "0"})
    world.admin_e.refresh_from_db()
    assert world.admin_e.is_system_admin and world.admin_e.is_active


def test_deactivate_and_reactivate(world: World, client: Client) -> None:
    doctor = Client()
    assert doctor.login(username="doctor_b", password=PASSWORD)
    client.force_login(world.admin_e)
    response = client.post(edit_url(world.doctor_b, "manage:account_active"), {"active": "0"})
    assert response.status_code == 302
    world.doctor_b.refresh_from_db()
    assert not world.doctor_b.is_active
    assert doctor.get(reverse("followup:worklist")).status_code == 302  # the open session no longer works
    assert not Client().login(username="doctor_b", password=PASSWORD)
    client.post(edit_url(world.doctor_b, "manage:account_active"), {"active": "0"})  # no second row
    client.post(edit_url(world.doctor_b, "manage:account_active"), {"active": "1"})
    world.doctor_b.refresh_from_db()
    assert not world.doctor_b.is_active  # reactivation gives access back: it waits for the county officer
    approve_waiting(world.county_d)
    world.doctor_b.refresh_from_db()
    assert world.doctor_b.is_active
    rows = AuditEvent.objects.filter(action__in=[Action.ACCOUNT_DEACTIVATE, Action.ACCOUNT_REACTIVATE]).order_by("id")
    actions = list(rows.values_list("action", "actor", "detail"))
    assert actions == [
        (Action.ACCOUNT_DEACTIVATE, world.admin_e.pk, {"username": "doctor_b", "role": "doctor"}),
        (Action.ACCOUNT_REACTIVATE, world.county_d.pk, {"username": "doctor_b", "role": "doctor"}),
    ]


def test_reset_password_forces_a_change_at_next_login(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    response = client.post(edit_url(world.doctor_a, "manage:account_reset_password"))
    assert response.status_code == 302
    temporary = approve_waiting(world.county_d).context["password"]
    event = AuditEvent.objects.get(action=Action.PASSWORD_RESET)
    assert event.actor == world.county_d
    assert event.detail == {"username": "doctor_a", "role": "doctor"}
    assert temporary not in json.dumps(event.detail)
    assert not Client().login(username="doctor_a", password=PASSWORD)

    doctor = Client()
    assert doctor.login(username="doctor_a", password=temporary)
    for url in (reverse("followup:worklist"), reverse("registry:patient_list"), reverse("home")):
        response = doctor.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("password_change"), url
    assert doctor.post(reverse("registry:patient_list"), {"q": "x"})["Location"] == reverse("password_change")
    page = doctor.get(reverse("password_change")).content.decode()
    assert "临时密码" in page
    response = doctor.post(
        reverse("password_change"),
        {"old_password": temporary, "new_password1": "Another-Pass-2027", "new_password2": "Another-Pass-2027"},
    )
    assert response.status_code == 302
    world.doctor_a.refresh_from_db()
    assert not world.doctor_a.must_change_password
    assert doctor.get(reverse("followup:worklist")).status_code == 200
    change = AuditEvent.objects.get(action=Action.PASSWORD_CHANGE)
    assert change.actor == world.doctor_a
    assert change.detail == {"username": "doctor_a", "role": "doctor", "was_temporary": True}


def test_the_area_picker_lists_one_level_at_a_time(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    roots = client.get(reverse("manage:area_children")).json()["areas"]
    assert [row["code"] for row in roots] == [world.province.code]
    rows = client.get(reverse("manage:area_children"), {"parent": world.county.code}).json()["areas"]
    assert rows == [
        {"code": world.township_a.code, "name": "甲街道", "level": 4},
        {"code": world.township_b.code, "name": "乙街道", "level": 4},
    ]
    assert client.get(reverse("manage:area_children"), {"parent": "x" * 40}).json() == {"areas": []}


def test_posts_need_a_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.admin_e)
    for name in ("manage:account_active", "manage:account_reset_password"):
        url = edit_url(world.doctor_a, name)
        assert client.post(url, {"active": "0"}).status_code == 403
    world.doctor_a.refresh_from_db()
    assert world.doctor_a.is_active and not world.doctor_a.must_change_password


def test_unknown_uuid_and_wrong_methods(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    assert client.get("/manage/accounts/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get("/manage/accounts/not-a-uuid/").status_code == 404
    assert client.get(edit_url(world.doctor_a, "manage:account_reset_password")).status_code == 405


def test_the_navigation_links_the_pages_for_administrators_only(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    page = client.get(reverse("home")).content.decode()
    assert reverse("manage:account_list") in page and reverse("areas:population_list") in page
    client.force_login(world.doctor_a)
    page = client.get(reverse("registry:patient_list")).content.decode()
    assert reverse("manage:account_list") not in page


def test_the_pages_speak_english_when_asked(world: World, client: Client) -> None:
    from django.conf import settings

    client.force_login(world.admin_e)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("manage:account_list")).content.decode()
    assert "Accounts" in page and "New account" in page and "账号管理" not in page
    page = client.get(reverse("manage:account_create")).content.decode()
    assert "Add the chosen area" in page and "Choose the areas" not in page
    response = client.post(reverse("manage:account_create"), {"username": "x_y", "display_name": "X", "role": "nope"})
    assert "Choose a valid role." in response.content.decode()
    page = client.get(reverse("areas:population_list"), {"area": world.county.code}).content.decode()
    assert "Own figure" in page and "Population used" in page


def test_the_provisioning_command_is_audited_too(world: World) -> None:
    from io import StringIO

    from django.core.management import call_command

    call_command("provision_account", "doctor_cli", "--role", "doctor", "--area", "320508001", stdout=StringIO())
    call_command(
        "provision_account",
        "doctor_cli",
        "--role",
        "doctor",
        "--area",
        "320508002",
        "--reset-password",
        stdout=StringIO(),
    )
    rows = AuditEvent.objects.filter(detail__username="doctor_cli").order_by("id")
    assert [(row.action, row.actor_id, row.detail.get("source")) for row in rows] == [
        (Action.ACCOUNT_CREATE, None, "command"),
        (Action.ACCOUNT_UPDATE, None, "command"),
        (Action.PASSWORD_RESET, None, "command"),
    ]
    assert rows[1].detail["areas"] == ["320508002000"]
