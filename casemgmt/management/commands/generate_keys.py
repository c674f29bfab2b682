"""Write throw-away keys for the demo and the tests into the git-ignored local env file.

Never for production: there, the key variables are set by the deployment (see SECURITY.md).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from casemgmt.crypto.cipher import new_key


class Command(BaseCommand):
    help = "Generate throw-away demo/test keys into var/local.env (kept if it exists, unless --force)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="overwrite an existing file")
        parser.add_argument("--print", action="store_true", help="print the variables instead of writing")

    def handle(self, *args: object, **options: object) -> None:
        kid = "k" + secrets.token_hex(3)
        body = "\n".join(
            [
                "# Throw-away keys for the demo and tests. Generated; never commit; never use in production.",
                f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}",
                f"FIELD_ENCRYPTION_KEYS={kid}:{new_key()}",
                f"FIELD_ENCRYPTION_ACTIVE_KEY={kid}",
                f"BLIND_INDEX_KEY={new_key()}",
                "",
            ]
        )
        if options["print"]:
            self.stdout.write(body)
            return
        path = Path(settings.LOCAL_ENV_FILE)
        if path.exists() and not options["force"]:
            self.stdout.write(f"{path} exists; keeping its keys.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
        path.chmod(0o600)
        self.stdout.write(self.style.SUCCESS(f"Wrote throw-away keys to {path}."))
