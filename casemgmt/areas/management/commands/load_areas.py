"""``python manage.py load_areas PATH [--dry-run]``: areas and populations from .xlsx, a CSV folder or a .zip.

Whole or nothing; on any problem every one is listed (sheet, row, column, message) and the exit status is 1.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from casemgmt.areas.loading import AreaLoadError, load_areas
from casemgmt.management import options as option


class Command(BaseCommand):
    # A plain str, not gettext_lazy: argparse formats the description with re, which refuses a lazy proxy
    # (``--help`` crashed). Commands are imported after set-up, in the default language.
    help = _("导入行政区划（areas）和常住人口（population）：.xlsx、CSV文件夹或.zip。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help=_("Excel文件、装有CSV文件的文件夹，或CSV文件的.zip压缩包"))
        parser.add_argument("--dry-run", action="store_true", help=_("只检查并报告，不写入数据库"))

    def handle(self, *args: object, **options: object) -> None:
        try:
            report = load_areas(option.text(options, "path"), dry_run=option.flag(options, "dry_run"))
        except AreaLoadError as exc:
            raise CommandError(str(exc)) from exc
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                _("发现%(count)d个问题，未写入任何数据。") % {"count": len(report.problems)}, returncode=1
            )
        counts = {
            "areas_created": report.areas_created,
            "areas_unchanged": report.areas_unchanged,
            "pop_created": report.populations_created,
            "pop_updated": report.populations_updated,
            "pop_unchanged": report.populations_unchanged,
        }
        summary = (
            _("行政区划：新增%(areas_created)d个，已存在%(areas_unchanged)d个。") % counts
            + _("常住人口：新增%(pop_created)d条，更新%(pop_updated)d条，未变%(pop_unchanged)d条。") % counts
        )
        if report.dry_run:
            self.stdout.write(_("检查通过（试运行，未写入任何数据）。") + summary)
        else:
            self.stdout.write(self.style.SUCCESS(_("导入完成。") + summary))
