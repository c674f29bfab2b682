"""``python manage.py rebuild_care_states``: recompute every patient's care state from the follow-ups.

Run after loading follow-ups around ``record_followup`` (a bulk import, a repair). On a database written only
through the service it changes nothing, which is also the check that the incremental path is right.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from casemgmt.management import options as option
from followup.visits.services import rebuild_care_states


class Command(BaseCommand):
    # A plain str, not gettext_lazy: argparse refuses a lazy proxy in --help.
    help = _("按随访记录重新计算每位患者的当前状态（危险性、分类、下次随访日期）。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000, help=_("每批处理的患者数。"))

    def handle(self, *args: object, **options: object) -> None:
        checked, changed = rebuild_care_states(batch_size=max(1, option.integer(options, "batch_size")))
        self.stdout.write(
            _("已检查 %(checked)d 名患者，更新 %(changed)d 条状态。") % {"checked": checked, "changed": changed}
        )
