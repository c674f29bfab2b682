"""Creating and updating staff accounts from the command line (``provision_account``) and the demo loader.

The rules a role imposes on its areas live here so that every way of making an account obeys them: a doctor
works in townships or villages, area staff supervise a county, city or province, a case-team member may belong
to one county (an affiliation that decides which patients' teams may take the account, never what it sees: case
members see only explicitly granted patients, ``User.jurisdiction_prefixes``), and administrators hold no area
at all (administrators see no patient).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from casemgmt.accounts.models import AreaMembership, Role, User
from casemgmt.areas import codes
from casemgmt.areas.models import Area, AreaLevel
from casemgmt.listing import enumeration

ALLOWED_AREA_LEVELS: dict[str, frozenset[int]] = {
    Role.DOCTOR: frozenset({codes.TOWNSHIP, codes.VILLAGE}),
    Role.AREA_STAFF: frozenset({codes.PROVINCE, codes.CITY, codes.COUNTY}),
    Role.CASE_MEMBER: frozenset({codes.COUNTY}),
    Role.ADMIN: frozenset(),
}
# Roles whose area is optional, and how many areas at most (a case-team member's one county).
OPTIONAL_AREAS: frozenset[str] = frozenset({Role.CASE_MEMBER})
MAX_AREAS: dict[str, int] = {Role.CASE_MEMBER: 1}
GENERATED_PASSWORD_LENGTH = 20
# No look-alike characters (0/O, 1/l/I): generated passwords are read off a terminal and typed in.
PASSWORD_ALPHABET = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "0O1lI")


class ProvisioningError(Exception):
    """A request the rules refuse; every message is for the operator, in Chinese."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True)
class ProvisionResult:
    user: User
    created: bool
    password_changed: bool


def generate_password() -> str:
    """A random password from the OS CSPRNG; ~114 bits, far beyond any validator."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(GENERATED_PASSWORD_LENGTH))


def resolve_area(spec: str) -> Area:
    """A 12-digit code or a significant prefix (2, 4, 6, 9 digits) of an area that exists."""
    try:
        code = codes.code_from_prefix(spec.strip())
    except codes.AreaCodeError:
        raise ProvisioningError(
            [_("区划代码“%(code)s”格式不正确：应为12位数字，或2、4、6、9位有效前缀。") % {"code": spec}]
        ) from None
    area = Area.objects.filter(code=code).first()
    if area is None:
        raise ProvisioningError([_("区划代码“%(code)s”不存在，请先导入行政区划。") % {"code": code}])
    return area


def check_role_areas(role: str, areas: Sequence[Area]) -> list[str]:
    """Every problem with giving *role* these areas (an empty list when they fit)."""
    if role not in ALLOWED_AREA_LEVELS:
        return [_("角色“%(role)s”不存在。") % {"role": role}]
    allowed = ALLOWED_AREA_LEVELS[role]
    label = Role(role).label
    if not allowed:
        return [_("%(role)s不能设置辖区。") % {"role": label}] if areas else []
    if not areas:
        return [] if role in OPTIONAL_AREAS else [_("%(role)s至少需要一个辖区（--area）。") % {"role": label}]
    if role in MAX_AREAS and len(areas) > MAX_AREAS[role]:
        return [_("%(role)s只能属于%(count)d个县/区。") % {"role": label, "count": MAX_AREAS[role]}]
    allowed_names = enumeration(AreaLevel(level).label for level in sorted(allowed))
    return [
        _("%(role)s的辖区必须是%(levels)s：%(area)s不符合。")
        % {"role": label, "levels": allowed_names, "area": f"{area.name}（{area.code}）"}
        for area in areas
        if area.level not in allowed
    ] + [
        _("%(area)s已于%(day)s撤销（区划变更），请改为新区划。")
        % {"area": f"{area.name}（{area.code}）", "day": area.retired_on}
        for area in areas
        if area.retired_on is not None
    ]


def _password_messages() -> dict[str, str]:
    """Chinese messages for Django's validators (its zh_Hans catalog lags behind some 5.2 msgids)."""
    return {
        "password_too_short": _("密码太短：至少需要%(min_length)d个字符。"),
        "password_too_common": _("密码过于常见，请换一个。"),
        "password_entirely_numeric": _("密码不能全是数字。"),
        "password_too_similar": _("密码与用户名或显示名过于相似。"),
    }


def check_password(password: str, user: User) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        known = _password_messages()
        return [known[e.code] % (e.params or {}) if e.code in known else " ".join(e.messages) for e in exc.error_list]
    return []


@transaction.atomic
def provision_account(
    *,
    username: str,
    role: str,
    areas: Sequence[Area],
    display_name: str | None = None,
    password: str | None = None,
) -> ProvisionResult:
    """Create the account, or bring an existing one to exactly this role and these areas.

    Memberships not listed are removed; the account is (re)activated; ``is_staff`` follows the role (the
    Django admin itself admits active superusers only, see ``admin_access``) and ``is_superuser`` survives only
    on an administrator. The
    password changes only when one is given. Raises ProvisioningError, writing nothing, when anything is wrong.
    """
    problems = check_role_areas(role, areas)
    user = User.objects.filter(username=username).first()
    created = user is None
    if user is None:
        user = User(username=username)
        try:
            User._meta.get_field("username").run_validators(username)
        except ValidationError:
            problems.append(_("用户名只能包含字母、数字和 @ . + - _，最长150个字符。"))
    user.role = role
    if display_name is not None:
        user.display_name = display_name.strip()
    if password is not None:
        problems.extend(check_password(password, user))
    if problems:
        raise ProvisioningError(problems)
    user.is_active = True
    user.is_staff = role == Role.ADMIN
    # The role is the one source of what an account may do: a superuser flag (from createsuperuser) would
    # bypass every Django permission check, so only an administrator may keep one.
    user.is_superuser = user.is_superuser and role == Role.ADMIN
    if password is not None:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.save()
    wanted = {area.code for area in areas}
    user.memberships.exclude(area_id__in=wanted).delete()
    existing = set(user.memberships.values_list("area_id", flat=True))
    AreaMembership.objects.bulk_create(
        [AreaMembership(user=user, area=area) for area in areas if area.code not in existing]
    )
    return ProvisionResult(user=user, created=created, password_changed=password is not None)
