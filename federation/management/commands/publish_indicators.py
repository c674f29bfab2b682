"""``python manage.py publish_indicators [--period KEY ...]``: send this province's documents to the national
instance now (the beat task does it nightly). Exit status 1 with the reason when the national instance refuses."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from federation.publish import PublishError, publish


class Command(BaseCommand):
    help = "Publish this province's indicator documents to the national instance (aggregates only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", action="append", help="a period key such as 2025 or 2025-Q3 (repeatable)")

    def handle(self, *args: object, **options: object) -> None:
        periods = options.get("period")
        try:
            report = publish(periods=list(periods) if isinstance(periods, list) else None)
        except PublishError as exc:
            raise CommandError(str(exc), returncode=1) from None
        self.stdout.write(f"sent={len(report.sent)} unchanged={len(report.unchanged)} documents={report.documents}\n")
