from __future__ import annotations

from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"

    def ready(self) -> None:
        from metrics.state.write import on_facts_changed
        from registry.signals import patient_facts_changed

        patient_facts_changed.connect(on_facts_changed, dispatch_uid="metrics.state.write")

        from casemgmt.health import register_status
        from metrics.state.read import state_freshness

        register_status(state_freshness)
