"""provision_account: role/area rules, passwords, updates; every refusal is Chinese, non-zero and writes nothing."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from casemgmt.accounts.models import AreaMembership, Role, User
from casemgmt.areas.models import Area, AreaLevel
from tests.base import World

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("provision_account", *args, stdout=out)
    return out.getvalue()


def _refused(*args: str) -> str:
    users, memberships = User.objects.count(), AreaMembership.objects.count()
    with pytest.raises(CommandError) as info:
        _run(*args)
    assert (User.objects.count(), AreaMembership.objects.count()) == (users, memberships)
    return str(info.value)


def _printed_password(output: str) -> str:
    match = re.search(r"密码（只显示这一次，请妥善转交）：(\S+)", output)
    assert match is not None
    return match.group(1)


def test_new_doctor_with_code_and_prefix_gets_a_printed_random_password(world: World) -> None:
    output = _run("wang", "--role", "doctor", "--area", "320508001", world.village_b1.code, "--name", "王医生")
    user = User.objects.get(username="wang")
    assert user.role == Role.DOCTOR and user.display_name == "王医生" and not user.is_staff
    assert set(user.memberships.values_list("area_id", flat=True)) == {world.township_a.code, world.village_b1.code}
    password = _printed_password(output)
    assert len(password) >= 16
    assert authenticate(username="wang", password=password) == user
    assert "已新建账号 wang" in output


def test_repeated_area_option_and_admin(world: World, tmp_path: Path) -> None:
    _run("li", "--role", "area_staff", "--area", "3205", "--area", "32")
    assert set(User.objects.get(username="li").memberships.values_list("area_id", flat=True)) == {
        world.city.code,
        world.province.code,
    }
    secret = tmp_path / "pw"
    secret.write_text("Correct-Horse-Battery-9\n", encoding="utf-8")
    output = _run("root2", "--role", "admin", "--password-file", str(secret))
    admin = User.objects.get(username="root2")
    assert admin.is_staff and not admin.is_superuser and not admin.memberships.exists()
    assert authenticate(username="root2", password="Correct-Horse-Battery-9") == admin
    assert "Correct-Horse" not in output and "密码（" not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--role", "doctor"), "精防医生至少需要一个辖区"),
        (("--role", "area_staff"), "至少需要一个辖区"),
        (("--role", "doctor", "--area", "320508"), "精防医生的辖区必须是乡镇/街道、村/社区"),
        (("--role", "area_staff", "--area", "320508001001"), "的辖区必须是省、市、县/区"),
        (("--role", "case_member", "--area", "320508001"), "个案管理团队成员的辖区必须是"),
        (("--role", "admin", "--area", "32"), "系统管理员不能设置辖区"),
        (("--role", "nurse"), "角色“nurse”不存在"),
        (("--role", "doctor", "--area", "3205080010"), "格式不正确"),
        (("--role", "doctor", "--area", "abc"), "格式不正确"),
        (("--role", "doctor", "--area", "330000"), "区划代码“330000000000”不存在"),
    ],
)
def test_refusals(world: World, args: tuple[str, ...], message: str) -> None:
    assert message in _refused("newbie", *args)


def test_every_area_problem_is_reported_at_once(world: World) -> None:
    message = _refused("newbie", "--role", "doctor", "--area", "3205", "99", "123", "320508001")
    assert "苏州市（320500000000）不符合" in message
    assert "“990000000000”不存在" in message
    assert "“123”格式不正确" in message
    assert "需要一个辖区" not in message


def test_bad_username_and_bad_password_files(world: World, tmp_path: Path) -> None:
    assert "用户名只能包含" in _refused("bad name!", "--role", "case_member")
    short = tmp_path / "short"
    short.write_text("abc\n", encoding="utf-8")
    assert "密码太短" in _refused("newbie", "--role", "case_member", "--password-file", str(short))
    numeric = tmp_path / "numeric"
    numeric.write_text("2837465019283\n", encoding="utf-8")
    assert "全是数字" in _refused("newbie", "--role", "case_member", "--password-file", str(numeric))
    empty = tmp_path / "empty"
    empty.write_text("", encoding="utf-8")
    assert "密码文件为空" in _refused("newbie", "--role", "case_member", "--password-file", str(empty))
    assert "无法读取密码文件" in _refused("newbie", "--role", "case_member", "--password-file", str(tmp_path / "no"))


def test_update_replaces_role_and_areas_and_keeps_the_password(world: World) -> None:
    output = _run("moving", "--role", "doctor", "--area", world.township_a.code)
    password = _printed_password(output)
    output = _run("moving", "--role", "doctor", "--area", world.township_b.code)
    user = User.objects.get(username="moving")
    assert list(user.memberships.values_list("area_id", flat=True)) == [world.township_b.code]
    assert "已更新账号 moving" in output and "密码（" not in output
    assert authenticate(username="moving", password=password) == user
    _run("moving", "--role", "case_member")
    user.refresh_from_db()
    assert user.role == Role.CASE_MEMBER and not user.memberships.exists()
    _run("moving", "--role", "case_member", "--area", world.county.code)  # the county it belongs to
    user.refresh_from_db()
    assert list(user.memberships.values_list("area_id", flat=True)) == [world.county.code]
    assert user.jurisdiction_prefixes() == []
    Area.objects.create(code="320509000000", name="另一区", level=AreaLevel.COUNTY, parent=world.city)
    assert "只能属于1个县/区" in _refused("moving", "--role", "case_member", "--area", "320508", "--area", "320509")


def test_reset_password_and_reactivation(world: World) -> None:
    User.objects.filter(pk=world.doctor_a.pk).update(is_active=False)
    output = _run("doctor_a", "--role", "doctor", "--area", world.township_a.code, "--reset-password")
    user = User.objects.get(pk=world.doctor_a.pk)
    assert user.is_active
    assert authenticate(username="doctor_a", password=_printed_password(output)) == user


def test_admin_loses_staff_flag_when_role_changes(world: World) -> None:
    _run("admin_e", "--role", "admin")
    assert User.objects.get(username="admin_e").is_staff
    _run("admin_e", "--role", "area_staff", "--area", world.county.code)
    assert not User.objects.get(username="admin_e").is_staff


def test_exit_status_is_non_zero(world: World) -> None:
    with pytest.raises(CommandError) as info:
        _run("x", "--role", "doctor")
    assert info.value.returncode != 0


def test_a_superuser_made_doctor_loses_the_superuser_flag(world: World) -> None:
    User.objects.filter(pk=world.admin_e.pk).update(is_superuser=True)
    _run("admin_e", "--role", "admin")
    assert User.objects.get(pk=world.admin_e.pk).is_superuser  # an administrator keeps it
    _run("admin_e", "--role", "doctor", "--area", world.township_a.code)
    user = User.objects.get(pk=world.admin_e.pk)
    assert not user.is_superuser and not user.is_staff


def test_help_renders(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        call_command("provision_account", "--help")
    assert "新建或更新工作人员账号" in capsys.readouterr().out
