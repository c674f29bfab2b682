"""``python manage.py load_area_changes PATH [--dry-run]``: an area change list (区划变更, sheet ``area_changes``).

Whole or nothing; on any problem every one is listed (sheet, row, column, message) and the exit status is 1.
The rules are in ``casemgmt.areas.changes`` and docs/area-changes.md.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from casemgmt.areas.changes import AreaChangeLoadError, ChangeReport, load_area_changes
from casemgmt.management import options as option
from casemgmt.management.problems import refuse


class Command(BaseCommand):
    # A plain str, not gettext_lazy: argparse formats the description with re, which refuses a lazy proxy.
    help = _("导入区划变更清单（area_changes）：合并、拆分、更名、变更代码；.xlsx、CSV文件夹或.zip。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help=_("Excel文件、装有CSV文件的文件夹，或CSV文件的.zip压缩包"))
        parser.add_argument("--dry-run", action="store_true", help=_("只检查并报告，不写入数据库"))

    def handle(self, *args: object, **options: object) -> None:
        try:
            report = load_area_changes(option.text(options, "path"), dry_run=option.flag(options, "dry_run"))
        except AreaChangeLoadError as exc:
            raise CommandError(str(exc)) from exc
        if not report.ok:
            raise refuse(self.stderr, report.problems)
        self._summary(report)

    def _summary(self, report: ChangeReport) -> None:
        counts = {"steps": len(report.steps), "unchanged": report.unchanged, "moved": report.patients_moved}
        if report.dry_run:
            self.stdout.write(
                _("检查通过（试运行，未写入任何数据）。")
                + _("待导入变更%(steps)d条，已导入过%(unchanged)d条。") % counts
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                _("导入完成。") + _("新导入变更%(steps)d条（迁移患者%(moved)d人），已导入过%(unchanged)d条。") % counts
            )
        )
        for username, area, successors in report.accounts_to_review:
            self.stdout.write(
                self.style.WARNING(
                    _("账号%(user)s的辖区%(area)s已撤销，请管理员改为新区划（%(successors)s）。")
                    % {"user": username, "area": area, "successors": "、".join(successors) or "—"}
                )
            )
