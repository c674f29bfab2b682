from __future__ import annotations

from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "followup"

    def ready(self) -> None:
        # The registry's patient page shows the follow-up panel through registry.panels (registry never
        # imports followup).
        from followup import case_panel, emergency_panel, panel

        panel.register()
        case_panel.register()
        emergency_panel.register()
