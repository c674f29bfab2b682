from __future__ import annotations

from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "followup"

    def ready(self) -> None:
        # The registry's patient page shows the follow-up panel through registry.patients.panels (registry never
        # imports followup).
        from casemgmt.areas.signals import villages_retired
        from followup.cases import panel as case_panel
        from followup.cases import services as case_services
        from followup.emergencies import panel as emergency_panel
        from followup.emergencies.area_moves import on_villages_retired
        from followup.visits import panel
        from followup.visits.services import refresh_care_state_after_arrival
        from registry.signals import patient_record_ended, record_arrived

        panel.register()
        case_panel.register()
        emergency_panel.register()
        record_arrived.connect(refresh_care_state_after_arrival, dispatch_uid="care-state-on-arrival")
        patient_record_ended.connect(case_services.close_case_when_record_ends, dispatch_uid="close-case-on-end")
        villages_retired.connect(on_villages_retired, dispatch_uid="followup.emergencies.area_moves")
