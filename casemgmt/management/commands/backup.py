"""manage.py backup OUTPUT [--encrypt]: a PostgreSQL dump (custom format) with its SHA-256 checksum.

The field keys are not in it: back them up separately (SECURITY.md, "Backups and keys").
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from casemgmt import backup
from casemgmt.env import env_str


class Command(BaseCommand):
    help = "Back up the database: pg_dump custom format, checksummed, optionally encrypted (BACKUP_ENCRYPTION_KEY)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("output", help="the backup file to write, e.g. /var/backups/jingfang/2026-12-06.dump")
        parser.add_argument("--encrypt", action="store_true", help="encrypt with BACKUP_ENCRYPTION_KEY")

    def handle(self, *args: object, **options: object) -> None:
        target = Path(str(options["output"]))
        try:
            key = backup.backup_key(env_str("BACKUP_ENCRYPTION_KEY")) if options["encrypt"] else None
            checksum = backup.dump(settings.DATABASES["default"], target, key=key)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        kind = "encrypted backup" if options["encrypt"] else "backup"
        self.stdout.write(f"Wrote {kind} {target} ({target.stat().st_size} bytes), sha256 {checksum}.")
        self.stdout.write("The field keys are not in it: keep them with your key backup (SECURITY.md).")
