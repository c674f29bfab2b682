"""Follow-up pages. Patients and records are addressed by UUID only, never by primary key or identity.

Each bounded context lists its own routes; this module only includes them, in one namespace.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

app_name = "followup"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("followup.visits.urls")),
    path("", include("followup.rehab.urls")),
    path("", include("followup.cases.urls")),
    path("", include("followup.emergencies.urls")),
    path("", include("followup.overview.urls")),
    path("", include("followup.workbook.urls")),
]
