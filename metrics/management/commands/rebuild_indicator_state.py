"""``python manage.py rebuild_indicator_state [--years 2024 2025] [--batch-size 2000] [--workers 2]``

Rebuilds the per-patient indicator state (``metrics.state.rebuild``) from the records in one transaction: on
PostgreSQL by set-based SQL (``metrics.state.setbased``; ``--batch-size`` and ``--workers`` do not apply), elsewhere
batch by batch in Python. Reports never see a half-built state: while the new rows are copied in and summed (a
few seconds at 100,000 patients, ~5 minutes at a country) they wait for the rebuild to commit. Prints the rate.
Writes of facts made meanwhile (a follow-up save) wait for it, since their upkeep touches the same rows: run it
after a restore or a bulk load, or in a quiet hour (on 2 cores, 100,000 patients: ~10 s; a country of 6.5 million:
~16 minutes and ~5 GB of disk beside the state; docs/performance.md).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from casemgmt.management import options as option
from metrics.state.calendar import today as state_today
from metrics.state.read import is_built
from metrics.state.rebuild import rebuild
from metrics.state.tables import BATCH_SIZE


class Command(BaseCommand):
    help = "Rebuild the per-patient indicator state from scratch (design.md §7)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--years", nargs="+", type=int, help="only these years (default: every year)")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="patients per batch")
        parser.add_argument("--workers", type=int, default=1, help="processes computing the rows (1 or 2 cores)")

    def handle(self, *args: object, **options: object) -> None:
        today = state_today()
        years = option.integers(options, "years")
        if years and any(not 2000 <= year <= today.year for year in years):
            raise CommandError(_("统计年份须在2000年至今年之间。"))
        if option.integer(options, "batch_size") < 1 or option.integer(options, "workers") < 1:
            raise CommandError(_("批次大小和进程数须为正整数。"))
        stats = rebuild(
            years=years,
            batch_size=option.integer(options, "batch_size"),
            workers=option.integer(options, "workers"),
            progress=self.stdout.write,
        )
        self.stdout.write(
            f"rebuilt: {stats.patients} patients, {stats.rows} rows in {stats.seconds:.1f} s "
            f"({stats.patients_per_second:.0f} patients/s)"
        )
        if years and not is_built():
            # Only a complete build proves every year is held, so reports keep to the direct path until then.
            self.stderr.write(_("尚无完整的指标状态：报表仍按定义直接计算，请不带 --years 完整重建一次。"))
