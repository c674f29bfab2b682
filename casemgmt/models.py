"""Platform-level rows: key canaries that prove at start-up that the configured keys are the right ones."""

from __future__ import annotations

from django.db import models


class KeyCanary(models.Model):
    """A known constant encrypted (or HMAC-ed) under one key, written the first time that key is seen.

    ``kid`` is a field-key id, or ``blind-index`` for the blind-index key. If a later start-up cannot
    reproduce the canary with the configured key, the key is wrong and the server refuses to start.
    """

    kid = models.CharField(max_length=32, unique=True)
    token = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"canary for key {self.kid}"
