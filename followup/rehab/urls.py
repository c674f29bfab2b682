"""Rehabilitation and health-check pages, included under /followup/ in the followup namespace. Patients and
records are addressed by UUID."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from followup.rehab import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("patients/<uuid:patient_uuid>/rehab/", views.rehab, name="rehab"),
    path("patients/<uuid:patient_uuid>/rehab/<uuid:rehab_uuid>/end/", views.rehab_end, name="rehab_end"),
    path("patients/<uuid:patient_uuid>/health-check/", views.health_check, name="health_check"),
]
