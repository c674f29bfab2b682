"""The second factor (issue 14 §5): area staff, administrators and superusers pass a TOTP code (or a single-use
recovery code) after their password; until then every page but the code pages and logging out refuses them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt.accounts import throttle
from casemgmt.accounts.models import Role, User
from casemgmt.audit.models import Action, AuditEvent
from tests.base import PASSWORD, World, make_user
from tests.second_factor import code_for_key, current_code, enrolled_device, password_only_login

VERIFY = "/login/code/"
ENROL = "/login/enrol/"
RECOVERY_CODES = "/login/recovery-codes/"


@pytest.fixture(autouse=True)
def clear_throttle() -> None:
    cache.clear()
    throttle._fallback.clear()


def login(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password, **extra}, REMOTE_ADDR="10.0.0.1")


def enter_code(client: Client, code: str, url: str = VERIFY) -> Any:
    return client.post(url, {"code": code}, REMOTE_ADDR="10.0.0.1")


def wrong_code(hex_key: str) -> str:
    """A code the authenticator does not show in any step the server accepts (the previous, now, the next)."""
    accepted = {code_for_key(hex_key, steps_ahead=step) for step in (-1, 0, 1)}
    return next(code for code in ("123456", "654321", "111111", "222222") if code not in accepted)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_who_must_pass_a_second_factor(world: World) -> None:
    from casemgmt.accounts.twofactor.policy import requires_second_factor

    assert requires_second_factor(world.county_d) and requires_second_factor(world.admin_e)
    assert not requires_second_factor(world.doctor_a) and not requires_second_factor(world.police_c)
    root = User.objects.create_superuser("root_x", password=PASSWORD, role=Role.DOCTOR)
    assert requires_second_factor(root)


def test_doctors_and_case_members_log_in_with_a_password_alone(world: World, client: Client) -> None:
    assert login(client, "doctor_a")["Location"] == reverse("home")
    assert client.get(reverse("registry:patient_list")).status_code == 200
    assert not TOTPDevice.objects.exists()


def test_area_staff_without_an_authenticator_are_sent_to_enrol_and_nowhere_else(world: World, client: Client) -> None:
    response = login(client, "county_d", next="/patients/")
    assert response.status_code == 302
    for url in ("/", "/patients/", "/reports/", "/password/", "/manage/populations/", "/admin/"):
        refused = client.get(url)
        assert refused.status_code == 302 and refused["Location"].startswith(VERIFY), url
    assert client.get(VERIFY)["Location"].startswith(ENROL)
    page = client.get(ENROL)
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=world.county_d)
    assert not device.confirmed
    assert 'src="data:image/svg+xml' in html
    secret = re.search(r'data-secret="([A-Z2-7 ]+)"', html)
    assert secret is not None
    import base64

    assert base64.b32decode(secret.group(1).replace(" ", "")).hex() == device.key
    assert client.post(reverse("logout")).status_code == 302


def test_enrolment_confirms_the_authenticator_and_shows_ten_recovery_codes_once(world: World, client: Client) -> None:
    login(client, "county_d")
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=world.county_d)
    wrong = enter_code(client, wrong_code(device.key), ENROL)
    assert wrong.status_code == 200 and "动态口令不正确" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert events(Action.OTP_FAILED)[0].detail == {"username": "county_d", "step": "enrol"}

    done = enter_code(client, code_for_key(device.key), ENROL)
    assert done.status_code == 302 and done["Location"] == RECOVERY_CODES
    device.refresh_from_db()
    assert device.confirmed
    tokens = set(StaticToken.objects.filter(device__user=world.county_d).values_list("token", flat=True))
    assert len(tokens) == 10
    shown = client.get(RECOVERY_CODES).content.decode()
    assert all(token in shown for token in tokens)
    assert not any(token in client.get(RECOVERY_CODES).content.decode() for token in tokens)  # shown once
    [enrol] = events(Action.OTP_ENROLL)
    assert enrol.actor == world.county_d and enrol.detail == {"username": "county_d"}
    assert not any(token in str(e.detail) for e in AuditEvent.objects.all() for token in tokens)
    assert client.get("/patients/").status_code == 200
    assert client.get(ENROL).status_code == 302  # enrolled and verified: no second enrolment


def test_an_enrolled_account_passes_the_code_page(world: World, client: Client) -> None:
    device = enrolled_device(world.county_d)
    assert login(client, "county_d", next="/reports/")["Location"].startswith(VERIFY)
    assert client.get(ENROL)["Location"].startswith(VERIFY)  # no enrolling a second authenticator with a password
    assert client.get("/patients/")["Location"].startswith(VERIFY)
    ok = client.post(f"{VERIFY}?next=/reports/", {"code": current_code(device)}, REMOTE_ADDR="10.0.0.1")
    assert ok.status_code == 302 and ok["Location"] == "/reports/"
    assert client.get("/patients/").status_code == 200
    logins = events(Action.LOGIN)
    assert [e.detail for e in logins] == [
        {"username": "county_d", "second_factor": "pending"},
        {"username": "county_d", "second_factor": "totp"},
    ]


def test_a_code_is_accepted_once(world: World, client: Client) -> None:
    device = enrolled_device(world.county_d)
    code = current_code(device)
    login(client, "county_d")
    assert enter_code(client, code).status_code == 302
    other = Client()
    login(other, "county_d")
    assert enter_code(other, code).status_code == 200  # replaying a seen code is refused
    assert other.get("/patients/").status_code == 302


def test_a_wrong_code_is_refused_audited_and_counts_toward_the_lockout(world: World, client: Client) -> None:
    device = enrolled_device(world.county_d)
    login(client, "county_d")
    wrong = wrong_code(device.key)
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        page = enter_code(client, wrong)
        assert page.status_code == 200 and "动态口令不正确" in page.content.decode()
        assert login(Client(), "county_d").status_code == 302  # the right password again does not wipe the count
    assert len(events(Action.OTP_FAILED)) == settings.LOGIN_FAILURE_LIMIT - 1
    assert events(Action.OTP_FAILED)[0].detail == {"username": "county_d", "step": "verify"}
    enter_code(client, wrong)
    [lockout] = events(Action.LOCKOUT)
    assert lockout.actor == world.county_d and lockout.detail == {"username": "county_d", "scope": "username"}
    locked = enter_code(client, current_code(device))
    assert locked.status_code == 200 and "登录失败次数过多" in locked.content.decode()
    assert client.get("/patients/").status_code == 302
    assert "登录失败次数过多" in login(Client(), "county_d").content.decode()


def test_a_recovery_code_works_once(world: World, client: Client) -> None:
    enrolled_device(world.county_d)
    static = StaticDevice.objects.create(user=world.county_d, name="recovery", confirmed=True)
    StaticToken.objects.create(device=static, token="abcd2345")
    StaticToken.objects.create(device=static, token="efgh6789")
    login(client, "county_d")
    assert enter_code(client, " ABCD-2345 ").status_code == 302
    [used] = events(Action.OTP_RECOVERY_USED)
    assert used.detail == {"username": "county_d", "remaining": 1}
    assert events(Action.LOGIN)[-1].detail["second_factor"] == "recovery"
    assert client.get("/patients/").status_code == 200
    again = Client()
    login(again, "county_d")
    refused = enter_code(again, "abcd2345")
    assert refused.status_code == 200 and "动态口令不正确" in refused.content.decode()
    assert list(static.token_set.values_list("token", flat=True)) == ["efgh6789"]


def test_a_temporary_password_is_changed_after_the_second_factor(world: World, client: Client) -> None:
    device = enrolled_device(world.county_d)
    User.objects.filter(pk=world.county_d.pk).update(must_change_password=True)
    login(client, "county_d")
    assert client.get("/password/")["Location"].startswith(VERIFY)
    assert client.get(VERIFY).status_code == 200
    enter_code(client, current_code(device))
    assert client.get("/patients/")["Location"] == reverse("password_change")


def test_the_django_admin_needs_the_second_factor_too(world: World, client: Client) -> None:
    root = User.objects.create_superuser("root_x", password=PASSWORD, role=Role.ADMIN)
    password_only_login(client, root)
    assert client.get("/admin/")["Location"].startswith(VERIFY)
    client.force_login(root)  # the shared helper: a verified session
    assert client.get("/admin/").status_code == 200


def test_the_shared_test_login_is_verified(world: World, client: Client) -> None:
    client.force_login(world.county_d)
    assert client.get("/patients/").status_code == 200
    other = Client()
    assert other.login(username="admin_e", password=PASSWORD)
    assert other.get("/manage/accounts/").status_code == 200


def reset_url(user: User) -> str:
    return reverse("locks:reset_second_factor", kwargs={"account_uuid": user.uuid})


def test_an_officer_resets_a_colleagues_authenticator(world: World, client: Client) -> None:
    colleague = make_user("county_d2", Role.AREA_STAFF, world.county)
    enrolled_device(colleague)
    static = StaticDevice.objects.create(user=colleague, name="recovery", confirmed=True)
    StaticToken.objects.create(device=static, token="abcd2345")
    colleague_session = Client()
    colleague_session.force_login(colleague)
    assert colleague_session.get("/patients/").status_code == 200
    client.force_login(world.county_d)
    response = client.post(reset_url(colleague))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=colleague).exists()
    assert not StaticDevice.objects.filter(user=colleague).exists()
    [reset] = events(Action.OTP_RESET)
    assert reset.actor == world.county_d and reset.detail == {"username": "county_d2"}
    # The colleague's open session is no longer verified: it must enrol a new authenticator.
    assert colleague_session.get("/patients/")["Location"].startswith(VERIFY)
    assert colleague_session.get(VERIFY)["Location"].startswith(ENROL)


def test_an_administrator_resets_from_the_account_page(world: World, client: Client) -> None:
    enrolled_device(world.county_d)
    client.force_login(world.admin_e)
    page = client.get(reverse("manage:account_edit", kwargs={"account_uuid": world.county_d.uuid})).content.decode()
    assert f'action="{reset_url(world.county_d)}"' in page
    assert client.post(reset_url(world.county_d)).status_code == 302
    assert not TOTPDevice.objects.filter(user=world.county_d).exists()
    assert events(Action.OTP_RESET)[0].actor == world.admin_e


def test_hostile_users_cannot_reset(world: World, client: Client) -> None:
    other_county = make_user("county_x", Role.AREA_STAFF)
    from casemgmt.areas.models import Area, AreaLevel

    elsewhere = Area.objects.create(code="320509000000", name="别区", level=AreaLevel.COUNTY, parent=world.city)
    other_county.memberships.create(area=elsewhere)
    enrolled_device(world.county_d)
    for who in (world.doctor_a, world.police_c, other_county):
        hostile = Client()
        hostile.force_login(who)
        assert hostile.post(reset_url(world.county_d)).status_code == 404, who
    client.force_login(world.county_d)
    assert client.post(reset_url(world.county_d)).status_code == 404  # not one's own (ask a colleague)
    anonymous = Client().post(reset_url(world.county_d))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    assert client.get(reset_url(world.admin_e)).status_code in (404, 405)
    assert TOTPDevice.objects.filter(user=world.county_d).exists()
    assert not events(Action.OTP_RESET)


def test_the_demo_prints_the_code_an_authenticator_would_show(world: World, client: Client) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    login(client, "county_d")
    client.get(ENROL)
    out = StringIO()
    call_command("demo_otp_code", "county_d", stdout=out)
    assert enter_code(client, out.getvalue().strip(), ENROL)["Location"] == RECOVERY_CODES
    with pytest.raises(CommandError):
        call_command("demo_otp_code", "doctor_a")


def test_the_django_admin_does_not_edit_authenticators(world: World, client: Client) -> None:
    """Devices change through the audited reset only (the page, or the command for superusers)."""
    from django.contrib import admin

    assert not admin.site.is_registered(TOTPDevice) and not admin.site.is_registered(StaticDevice)
    root = User.objects.create_superuser("root_x", password=PASSWORD, role=Role.ADMIN)
    client.force_login(root)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404


def test_the_operators_command_resets_a_superusers_authenticator(world: World) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    root = User.objects.create_superuser("root_x", password=PASSWORD, role=Role.ADMIN)
    enrolled_device(root)
    StaticDevice.objects.create(user=root, name="recovery", confirmed=True)
    out = StringIO()
    call_command("reset_second_factor", "root_x", stdout=out)
    assert "root_x" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=root).exists() and not StaticDevice.objects.filter(user=root).exists()
    [reset] = events(Action.OTP_RESET)
    assert reset.actor is None and reset.detail == {"username": "root_x", "source": "command"}
    with pytest.raises(CommandError):
        call_command("reset_second_factor", "nobody_here")
    assert len(events(Action.OTP_RESET)) == 1
