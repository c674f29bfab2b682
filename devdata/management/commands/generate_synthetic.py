"""manage.py generate_synthetic --patients N --years Y --seed S: a synthetic province for benchmarks."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils.translation import gettext as _

from casemgmt.management import options as option
from devdata.synthetic.run import AlreadyGenerated, WorkerFailed, generate

if TYPE_CHECKING:
    from typing import TextIO


class ProgressLine:
    """One ``\\r`` line on stderr: patients done / total, rate, time left."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        rate = done / elapsed
        left = (total - done) / rate if rate else 0
        self.stream.write(f"\r{done:>9,}/{total:,} patients  {rate:7,.0f}/s  ETA {left:5.0f} s ")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Generate a synthetic province (areas, patients, follow-up histories) for benchmarks; never real people."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, required=True)
        parser.add_argument("--years", type=int, default=2, help="years of follow-up history, ending today")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--province", default="71", help="2-digit code of the synthetic province")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--no-state", action="store_true", help="do not announce the batches (rebuild the indicator state after)"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes building counties side by side (PostgreSQL; default: one per CPU)",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: object, **options: object) -> None:
        workers = option.optional_integer(options, "workers")
        if (
            min(
                option.integer(options, "patients"),
                option.integer(options, "years"),
                option.integer(options, "batch_size"),
                1 if workers is None else workers,
            )
            < 1
        ):
            raise CommandError(_("患者数、年数、批次大小和进程数必须为正整数。"))
        province = option.text(options, "province")
        if len(province) != 2 or not province.isdigit() or province == "00":
            raise CommandError(_("省代码应为两位数字（01–99）。"))
        # Other connections (the workers', the writer thread's) cannot see an enclosing transaction (a test's):
        # they are used only in autocommit.
        parallel_ok = connection.vendor == "postgresql" and not connection.in_atomic_block
        workers = workers or os.cpu_count() or 1
        started = time.perf_counter()
        try:
            summary = generate(
                patients=option.integer(options, "patients"),
                years=option.integer(options, "years"),
                seed=option.integer(options, "seed"),
                province=option.text(options, "province"),
                batch_size=option.integer(options, "batch_size"),
                announce=not option.flag(options, "no_state"),
                overlap=parallel_ok,
                workers=workers if parallel_ok else 1,
                progress=None if option.flag(options, "no_progress") else ProgressLine(),
            )
        except AlreadyGenerated as exc:
            raise CommandError(_("区划 %(code)s 已存在：请换一个省代码或使用新的数据库。") % {"code": exc}) from exc
        except WorkerFailed as exc:
            raise CommandError(_("生成中断：%(error)s（已完成的批次已写入）") % {"error": exc}) from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(
            _("已生成 %(patients)s 名患者、%(followups)s 条随访（%(counties)s 个县），用时 %(seconds).1f 秒。")
            % {
                "patients": summary.patients,
                "followups": summary.followups,
                "counties": summary.counties,
                "seconds": elapsed,
            }
        )
        if option.flag(options, "no_state"):
            self.stdout.write(_("指标状态未随批次更新：请运行 manage.py rebuild_indicator_state。"))
