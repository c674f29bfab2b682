"""``python manage.py export_workbook --area PREFIX [--output PATH]``: write an area's whole registry as a registry
workbook (exchange.md §1) that ``import_workbook`` loads again.

Runs as the system (the operator of the server): identity columns included, every patient the area held at some
time exported, the export audited. Prints the counts per sheet; a bad area ends with a Chinese message and exit
status 1, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.areas import codes
from casemgmt.areas.models import Area
from casemgmt.management import options as option
from followup.workbook.export import area_selection, export_workbook


def find_area(code_or_prefix: str) -> Area:
    """An area by its 12-digit code or significant prefix (2, 4, 6, 9 or 12 digits)."""
    text = code_or_prefix.strip()
    try:
        code = text if codes.is_valid_code(text) else codes.code_from_prefix(text)
    except codes.AreaCodeError:
        message = _("区划代码“%(code)s”格式不正确：应为12位代码，或其2、4、6、9位有效前缀。")
        raise CommandError(message % {"code": text[:20]}) from None
    area = Area.objects.filter(code=code).first()
    if area is None:
        raise CommandError(_("未找到区划代码为“%(code)s”的行政区划。") % {"code": code})
    return area


class Command(BaseCommand):
    # A plain str, not gettext_lazy: argparse refuses a lazy proxy in --help.
    help = _("把一个地区的全部登记数据导出为登记表（xlsx），可再用 import_workbook 导入。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--area", required=True, help=_("12位区划代码或其2、4、6、9位有效前缀。"))
        parser.add_argument("--output", help=_("写入的xlsx文件（默认为当前目录下的 registry-代码-日期.xlsx）。"))

    def handle(self, *args: object, **options: object) -> None:
        area = find_area(option.text(options, "area"))
        default_name = f"registry-{area.code}-{timezone.localdate():%Y%m%d}.xlsx"
        path = Path(option.optional_text(options, "output") or default_name)
        if not path.parent.is_dir():
            raise CommandError(_("输出目录不存在：%(path)s") % {"path": path.parent})
        summary = export_workbook(area_selection(area), path, actor=None)
        for sheet, count in summary.rows.items():
            self.stdout.write(f"{sheet}: {count}")
        message = _("已导出%(patients)d名患者，用时%(seconds).1f秒：%(path)s")
        self.stdout.write(
            self.style.SUCCESS(message % {"patients": summary.patients, "seconds": summary.seconds, "path": path})
        )
