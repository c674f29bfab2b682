"""Indicator reports under /reports/.

Each bounded context lists its own routes; this module only includes them, in one namespace.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

app_name = "metrics"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("metrics.reports.urls")),
]
