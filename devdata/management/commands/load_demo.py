"""``python manage.py load_demo [--seed N]``: the demo city 芜湖市 (see devdata/registry_demo.py).

Idempotent: a second run writes nothing and prints the accounts again.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from casemgmt.management import options as option
from devdata import registry_demo as demo

MAX_PER_THOUSAND = 20  # a registered prevalence above 2% is no county's


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Plain aligned columns; Chinese characters count double so columns line up in a terminal."""

    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)

    widths = [max(width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell + " " * (w - width(cell)) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in [header, *rows]]  # fmt: skip


class Command(BaseCommand):
    # A plain str, not gettext_lazy: argparse formats the description with re, which refuses a lazy proxy
    # (``--help`` crashed). Commands are imported after set-up, in the default language.
    help = _(
        "装入演示城市芜湖市（真实行政区划和人口、演示县各角色账号、按患病率生成的虚构患者及随访史）；重复运行不会重复写入。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=demo.DEFAULT_SEED, help=_("随机种子：相同种子生成相同的演示患者。")
        )
        parser.add_argument(
            "--per-thousand",
            type=float,
            default=demo.PER_THOUSAND,
            help=_("每千名常住人口的患者数（默认4.5；测试用较小的值）。"),
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            per_thousand = option.number(options, "per_thousand")
            if not 0 < per_thousand <= MAX_PER_THOUSAND:
                raise demo.DemoError(_("每千名常住人口的患者数应大于0且不超过20。"))
            report = demo.load_demo(seed=option.integer(options, "seed"), per_thousand=per_thousand)
        except demo.DemoError as exc:
            raise CommandError(str(exc)) from exc
        if report.changed:
            counts = {
                "areas": report.areas_created,
                "populations": report.populations_created,
                "accounts": report.accounts_created,
                "patients": report.patients_created,
            }
            message = _(
                "演示数据已装入：区划 %(areas)d 个，人口 %(populations)d 条，账号 %(accounts)d 个，"
                "患者 %(patients)d 名（含随访史）。"
            )
            self.stdout.write(self.style.SUCCESS(message % counts))
        else:
            self.stdout.write(_("演示数据已存在，未作任何改动。"))
        header = (_("用户名"), _("角色"), _("辖区"))
        rows = [(row.username, row.role, row.areas) for row in report.accounts]
        for line in format_table(header, rows):
            self.stdout.write(line)
        self.stdout.write(
            _("演示账号的密码均为 %(password)s（仅供演示，切勿用于真实数据）。") % {"password": demo.DEMO_PASSWORD}
        )
        self.stdout.write(
            _(
                "县/市/省管理人员和系统管理员账号首次登录时须用手机身份验证器绑定动态口令；没有身份验证器时，"
                "运行 python manage.py demo_otp_code <用户名> 显示当前的6位动态口令。"
            )
        )
