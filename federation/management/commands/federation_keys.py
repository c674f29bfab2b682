"""``python manage.py federation_keys``: a new Ed25519 key pair for a province instance.

The private seed goes into the province's FEDERATION_SIGNING_KEY (a *_FILE secret); the public key into the
national instance's FEDERATION_PROVINCE_KEYS as ``<province code>:<public key>``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from federation.signing import new_key_pair


class Command(BaseCommand):
    help = "Print a new Ed25519 key pair for publishing indicators (private seed, then public key)."

    def handle(self, *args: object, **options: object) -> None:
        private, public = new_key_pair()
        self.stdout.write(f"FEDERATION_SIGNING_KEY={private}\n")
        self.stdout.write(f"public key (for FEDERATION_PROVINCE_KEYS): {public}\n")
