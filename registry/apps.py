from __future__ import annotations

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        # The transfer panel on the patient page (registry.patients.panels).
        from registry.transfers import panel as transfer_panel

        transfer_panel.register()

        # Records follow their village through an area change (区划变更).
        from casemgmt.areas.signals import villages_retired
        from registry.area_moves import on_villages_retired

        villages_retired.connect(on_villages_retired, dispatch_uid="registry.area_moves")
