"""Move every encrypted value onto the active key (FIELD_ENCRYPTION_ACTIVE_KEY). See SECURITY.md."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from casemgmt.crypto import rotation
from casemgmt.management import options as option


class Command(BaseCommand):
    help = "Re-encrypt all ciphertext columns under the active key, in batches; safe to interrupt and rerun."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--max-batches", type=int, default=None, help="stop after this many batches")
        parser.add_argument("--report", action="store_true", help="only report what remains on old keys")

    def handle(self, *args: object, **options: object) -> None:
        if not option.flag(options, "report"):
            total = 0
            for label, count in rotation.rotate(
                option.integer(options, "batch_size"), option.optional_integer(options, "max_batches")
            ):
                total += count
                self.stdout.write(f"{label}: re-encrypted {count} (total {total})")
            self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} values."))
        left = rotation.remaining()
        for label, count in left.items():
            if count:
                self.stdout.write(f"{label}: {count} values remain on old keys")
        self.stdout.write(f"Values remaining on old keys: {sum(left.values())}")
