"""``python manage.py federated_indicators --area all|CODE --period KEY [--children]`` on the national instance:
the document served from the provinces' publications (the country's is their sum)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from casemgmt.management import options as option
from federation.envelope import Document
from federation.national import COUNTRY_CODE, CountryDocument, country_document, stored_document
from metrics.indicators.options import default_options
from metrics.indicators.periods import PeriodError, parse_period


class Command(BaseCommand):
    help = "Print a federated indicator document (national instance)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--area", required=True, help="all, or a 12-digit code / 2, 4, 6 or 9-digit prefix")
        parser.add_argument("--period", required=True)
        parser.add_argument("--children", action="store_true")

    def handle(self, *args: object, **options: object) -> None:
        try:
            period = parse_period(option.text(options, "period"))
        except PeriodError as exc:
            raise CommandError(str(exc)) from None
        area = option.text(options, "area").strip()
        children = option.flag(options, "children")
        document: Document | CountryDocument | None
        if area in ("all", COUNTRY_CODE):
            document = country_document(period.key, default_options(), name=_("全国"), children=children)
        elif area.isdigit() and len(area) in (2, 4, 6, 9, 12):
            document = stored_document(area.ljust(12, "0"), period.key, default_options())
            if document is not None and not children:
                document["children"] = []
        else:
            raise CommandError(_("区划代码“%(code)s”格式不正确。") % {"code": area[:20]})
        if document is None:
            raise CommandError(_("未找到该地区该统计期的上报数据。"))
        self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
