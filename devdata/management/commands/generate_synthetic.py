"""manage.py generate_synthetic [--province P | --country | --area A] [--patients N] --years Y --seed S: synthetic
patients for benchmarks and demos — on the real map of a province (P = its real code, e.g. 34), of the whole
country or of one city or county (A = 3402), at 4.6‰ of the census population unless N is given; or, for a
code the national list lacks (71 by default), in an invented province of N patients."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils.translation import gettext as _

from casemgmt.management import options as option
from devdata.synthetic import realmap
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
    help = (
        "Generate synthetic patients with follow-up histories (never real people) on the real map of a province or "
        "of the whole country, or in an invented province."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--patients",
            type=int,
            default=None,
            help="how many patients (default on the real map: 4.6 per thousand residents; required otherwise)",
        )
        parser.add_argument("--years", type=int, default=2, help="years of follow-up history, ending today")
        parser.add_argument("--seed", type=int, default=1)
        where = parser.add_mutually_exclusive_group()
        where.add_argument(
            "--province",
            default="71",
            help="2-digit province code: a real one (e.g. 34) loads its real map (NBS 2023 codes, 2020 census); "
            "one the national list lacks (71, 81, 82, 90-99) gets an invented tree",
        )
        where.add_argument("--country", action="store_true", help="the real map of the whole country")
        where.add_argument("--area", help="the real map of one city (4 digits, e.g. 3402) or county (6 digits)")
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
        patients = option.optional_integer(options, "patients")
        country = option.flag(options, "country")
        area = option.optional_text(options, "area")
        if (
            min(
                1 if patients is None else patients,
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
        if area is not None and (len(area) not in (4, 6) or not area.isdigit()):
            raise CommandError(_("--area 应为4位（市）或6位（县/区）区划代码。"))
        if patients is None and not country and area is None and not realmap.is_real_province(province):
            raise CommandError(
                _("省代码%(code)s不在2023年统计用区划代码中，将生成虚构的省：请用 --patients 给出患者数。")
                % {"code": province}
            )
        # Other connections (the workers', the writer thread's) cannot see an enclosing transaction (a test's):
        # they are used only in autocommit.
        parallel_ok = connection.vendor == "postgresql" and not connection.in_atomic_block
        workers = workers or os.cpu_count() or 1
        started = time.perf_counter()
        try:
            summary = generate(
                patients=patients,
                years=option.integer(options, "years"),
                seed=option.integer(options, "seed"),
                province=province,
                country=country,
                area=area,
                batch_size=option.integer(options, "batch_size"),
                announce=not option.flag(options, "no_state"),
                overlap=parallel_ok,
                workers=workers if parallel_ok else 1,
                progress=None if option.flag(options, "no_progress") else ProgressLine(),
            )
        except AlreadyGenerated as exc:
            where = _("全国") if country else str(exc)
            raise CommandError(
                _("区划 %(code)s 已存在或已有患者：请换一个省代码或使用新的数据库。") % {"code": where}
            ) from exc
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
