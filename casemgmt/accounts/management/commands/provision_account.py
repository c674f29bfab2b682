"""``python manage.py provision_account USERNAME --role ROLE [--area CODE ...] [--name 显示名] [--password-file F]``.

Creates an account, or brings an existing one to exactly the given role and areas (memberships not listed
are removed). A new account without ``--password-file`` gets a strong random password, printed once; an
existing account keeps its password unless ``--password-file`` or ``--reset-password`` is given, so that
moving a doctor to another township does not lock them out.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from casemgmt.accounts.management.provisioning import (
    ProvisioningError,
    check_role_areas,
    generate_password,
    provision_account,
    resolve_area,
)
from casemgmt.accounts.models import Role, User
from casemgmt.areas.models import Area
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from casemgmt.management import options as option


def read_password_file(path: str) -> str:
    """The first line of the file (a trailing newline is not part of the password)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise CommandError(_("无法读取密码文件：%(path)s") % {"path": path}) from None
    password = text.splitlines()[0] if text else ""
    if not password:
        raise CommandError(_("密码文件为空：%(path)s") % {"path": path})
    return password


def resolve_areas(specs: list[str]) -> tuple[list[Area], list[str]]:
    areas: list[Area] = []
    problems: list[str] = []
    for spec in specs:
        try:
            area = resolve_area(spec)
        except ProvisioningError as exc:
            problems.extend(exc.messages)
        else:
            if area not in areas:
                areas.append(area)
    return areas, problems


def audit_provisioning(user: User, *, created: bool, password_changed: bool) -> None:
    """The command's account changes go to the append-only audit like the product's (no actor: the operator
    at the server's console is not an account)."""
    areas = sorted(user.memberships.values_list("area_id", flat=True))
    detail = {"username": user.username, "role": user.role, "areas": areas, "source": "command"}
    record_event(actor=None, action=Action.ACCOUNT_CREATE if created else Action.ACCOUNT_UPDATE, detail=detail)
    if password_changed and not created:
        record_event(actor=None, action=Action.PASSWORD_RESET, detail={"username": user.username, "source": "command"})


class Command(BaseCommand):
    # A plain str, not gettext_lazy: argparse formats the description with re, which refuses a lazy proxy
    # (``--help`` crashed). Commands are imported after set-up, in the default language.
    help = _("新建或更新工作人员账号：角色、辖区、显示名与密码。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help=_("用户名（登录名）"))
        parser.add_argument("--role", required=True, metavar="|".join(Role.values), help=_("角色"))
        parser.add_argument(
            "--area",
            action="extend",
            nargs="+",
            default=[],
            metavar="CODE",
            help=_("辖区区划代码：12位，或2、4、6、9位有效前缀；可多次给出。"),
        )
        parser.add_argument("--name", dest="display_name", help=_("显示名，如“王医生”"))
        parser.add_argument("--password-file", help=_("从此文件的第一行读取密码"))
        parser.add_argument(
            "--reset-password", action="store_true", help=_("为已有账号生成新的随机密码（新账号总是生成）")
        )

    def handle(self, *args: object, **options: object) -> None:
        password_file = option.optional_text(options, "password_file")
        password = read_password_file(password_file) if password_file else None
        areas, problems = resolve_areas(option.texts(options, "area"))
        if problems:
            # Report the role's objections to the areas that did resolve too, but not "needs an area"
            # when the operator gave areas that could not be found.
            if areas or option.text(options, "role") not in Role.values:
                problems += check_role_areas(option.text(options, "role"), areas)
            raise CommandError("\n".join(problems))
        generated: str | None = None
        is_new = not User.objects.filter(username=option.text(options, "username")).exists()
        if password is None and (is_new or option.flag(options, "reset_password")):
            password = generated = generate_password()
        try:
            result = provision_account(
                username=option.text(options, "username"),
                role=option.text(options, "role"),
                areas=areas,
                display_name=option.optional_text(options, "display_name"),
                password=password,
            )
        except ProvisioningError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        user = result.user
        audit_provisioning(user, created=result.created, password_changed=result.password_changed)
        summary = {"username": user.username, "role": Role(user.role).label}
        if result.created:
            self.stdout.write(self.style.SUCCESS(_("已新建账号 %(username)s（%(role)s）。") % summary))
        else:
            self.stdout.write(self.style.SUCCESS(_("已更新账号 %(username)s（%(role)s）。") % summary))
        for membership in user.memberships.select_related("area").order_by("area_id"):
            self.stdout.write(
                _("辖区：%(name)s（%(code)s）") % {"name": membership.area.name, "code": membership.area_id}
            )
        if generated is not None:
            self.stdout.write(_("密码（只显示这一次，请妥善转交）：%(password)s") % {"password": generated})
