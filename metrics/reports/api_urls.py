"""The report endpoints of the machine API, included by ``casemgmt.api.urls`` under /api/v1/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from metrics.reports import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("indicators", api.indicators, name="indicators"),
    path("patients", api.patients, name="patients"),
]
