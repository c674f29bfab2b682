"""/api/v1/: the endpoints of the apps that own their data, the OpenAPI schema, and a JSON 404 for the rest."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from casemgmt.api import errors, views

app_name = "api"

urlpatterns: list[URLPattern | URLResolver] = [
    path("openapi.json", views.openapi, name="openapi"),
    path("", include("metrics.reports.api_urls")),
    path("", include("followup.visits.api_urls")),
    path("<path:rest>", errors.not_found, name="not_found"),
]
