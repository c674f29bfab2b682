from __future__ import annotations

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        # The transfer panel on the patient page (registry.patients.panels).
        from registry.transfers import panel as transfer_panel

        transfer_panel.register()
