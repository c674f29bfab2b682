"""``python manage.py indicators --area 320508 --period 2025 --format json`` (exchange.md §2).

Prints aggregates only; bad input ends with a Chinese message and exit status 1, never a traceback.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from casemgmt.management import options as option
from metrics.indicators.definitions import DEATHS_IN_PERIOD, MEDICATION_DENOMINATORS, REGULAR_MANAGEMENT_RULES
from metrics.indicators.options import default_options
from metrics.indicators.periods import PeriodError, parse_period
from metrics.reports import text_table
from metrics.reports.engine import AreaNotFound, compute, find_area


class Command(BaseCommand):
    help = "Compute the indicators of domain.md §11 for an area and a period (JSON contract: exchange.md §2)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--area", required=True, help="12-digit area code or its 2/4/6/9-digit prefix")
        parser.add_argument("--period", required=True, help="2025, 2025-Q3, 2025-07 or 2025-YTD-08")
        parser.add_argument("--format", choices=("json", "table"), default="json")
        parser.add_argument("--children", action="store_true", help="add one entry per child area")
        parser.add_argument("--regular-management", choices=REGULAR_MANAGEMENT_RULES)
        parser.add_argument("--medication-denominator", choices=MEDICATION_DENOMINATORS)
        parser.add_argument("--deaths-in-period", choices=DEATHS_IN_PERIOD)

    def handle(self, *args: object, **options: object) -> None:
        try:
            period = parse_period(option.text(options, "period"))
            area = find_area(option.text(options, "area"))
        except (PeriodError, AreaNotFound) as exc:
            raise CommandError(str(exc)) from None
        rules = default_options(
            regular_management=option.optional_text(options, "regular_management"),
            medication_denominator=option.optional_text(options, "medication_denominator"),
            deaths_in_period=option.optional_text(options, "deaths_in_period"),
        )
        report = compute(area, period, rules, children=option.flag(options, "children"))
        document = report.document()
        if option.text(options, "format") == "json":
            self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(text_table.render(document, period, rules))
