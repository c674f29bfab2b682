"""``python manage.py import_workbook PATH [--dry-run]``: load a registry workbook (exchange.md §1).

Runs as the system, whose scope is every area: records are created by a dedicated inactive account (or by
``--user``). Prints counts per sheet, or every problem with its sheet, row and column and exits with status 1,
having written nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from casemgmt.accounts.models import Role, User
from casemgmt.management import options as option
from followup.workbook.loading import WorkbookError, import_workbook

SYSTEM_USERNAME = "system-import"


def system_actor() -> User:
    """The account that imports run from the command are recorded under: inactive, no password, no areas."""
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"role": Role.ADMIN, "is_active": False, "display_name": _("系统导入")},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


class Command(BaseCommand):
    # A plain str, not gettext_lazy: argparse refuses a lazy proxy in --help.
    help = _("导入登记表（xlsx、xls、ods、CSV文件、CSV文件夹或CSV压缩包）：全部通过检查才写入，重复导入不会重复写入。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path",
            help=_(
                "xlsx、xls或ods文件，单个CSV文件（按文件名对应工作表，否则视为patients），装有CSV文件的文件夹或zip压缩包。"
            ),
        )
        parser.add_argument("--dry-run", action="store_true", help=_("只检查并报告，不写入。"))
        parser.add_argument("--user", help=_("记为哪个账号导入（默认为系统导入账号）。"))

    def handle(self, *args: object, **options: object) -> None:
        actor = system_actor()
        if option.optional_text(options, "user"):
            try:
                actor = User.objects.get(username=option.optional_text(options, "user"))
            except User.DoesNotExist as exc:
                raise CommandError(_("没有该账号：%(name)s") % {"name": option.optional_text(options, "user")}) from exc
        try:
            report = import_workbook(option.text(options, "path"), actor=actor, dry_run=option.flag(options, "dry_run"))
        except WorkbookError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(_("登记表有问题，未导入。"), returncode=1)
        self.stdout.write(self.style.SUCCESS(_("试运行完成。") if report.dry_run else _("导入完成。")))
