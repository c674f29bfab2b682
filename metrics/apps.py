from __future__ import annotations

from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"

    def ready(self) -> None:
        from metrics.state import store as state
        from registry.signals import patient_facts_changed

        patient_facts_changed.connect(state.on_facts_changed, dispatch_uid="metrics.state.store")
