from __future__ import annotations

from django.apps import AppConfig


class CasemgmtConfig(AppConfig):
    name = "casemgmt"
    verbose_name = "Platform"

    def ready(self) -> None:
        from casemgmt import checks  # noqa: F401  (registers the system checks)
