"""Registry pages. Patients are addressed by UUID only, never by primary key or identity.

Each bounded context lists its own routes; this module only includes them, in one namespace.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

app_name = "registry"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("registry.patients.urls")),
    path("", include("registry.transfers.urls")),
    path("", include("registry.breakglass.urls")),
]
