"""manage.py restore BACKUP [--database-url URL]: restore a backup into an empty database, then check the keys.

The checksum is verified first; an encrypted backup needs BACKUP_ENCRYPTION_KEY; a database that holds any table is
refused. After the restore the configured field keys are checked against the restored canaries and data.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from casemgmt import backup
from casemgmt.env import env_str


class Command(BaseCommand):
    help = "Restore a backup into an empty PostgreSQL database (the configured one, or --database-url)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", help="the backup file (its .sha256 beside it)")
        parser.add_argument("--database-url", help="postgres://user@host:port/name of an empty database")

    def handle(self, *args: object, **options: object) -> None:
        source = Path(str(options["backup"]))
        base = settings.DATABASES["default"]
        url = options.get("database_url")
        target = backup.database_from_url(str(url), base) if url else base
        try:
            key_text = env_str("BACKUP_ENCRYPTION_KEY")
            key = backup.backup_key(key_text) if key_text and backup.is_encrypted(source) else None
            backup.restore(source, target, key=key)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Restored {source} into {target['NAME']}.")
        problems = self._key_problems(target)
        if problems:
            raise CommandError(
                "Restored, but the configured keys do not open it:\n"
                + "\n".join(problems)
                + "\nConfigure the field keys this backup was made with (SECURITY.md)."
            )
        self.stdout.write("The configured field keys open the restored data.")

    def _key_problems(self, target: dict[str, object]) -> list[str]:
        """The start-up key checks (``manage.py check --tag security``) run against the restored database."""
        user = quote(str(target.get("USER") or ""), safe="")
        password = quote(str(target.get("PASSWORD") or ""), safe="")
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        url = (
            f"postgres://{credentials}{target.get('HOST') or '127.0.0.1'}:{target.get('PORT') or 5432}/{target['NAME']}"
        )
        command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "check", "--tag", "security"]
        finished = subprocess.run(  # noqa: S603  (this interpreter, this project's manage.py)
            command, env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, check=False
        )
        if finished.returncode == 0:
            return []
        return [line for line in finished.stderr.splitlines() if "casemgmt.E00" in line] or [finished.stderr.strip()]
