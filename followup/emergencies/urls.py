"""Emergency pages (domain.md §9), included under /followup/ in the followup namespace."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from followup.emergencies import views as emergency_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("emergencies/", emergency_views.emergency_list, name="emergency_list"),
    path("emergencies/new/", emergency_views.emergency_new, name="emergency_new"),
    path("emergencies/<uuid:emergency_uuid>/", emergency_views.emergency_detail, name="emergency_detail"),
    path("emergencies/<uuid:emergency_uuid>/edit/", emergency_views.emergency_edit, name="emergency_edit"),
    path("emergencies/<uuid:emergency_uuid>/link/", emergency_views.emergency_link, name="emergency_link"),
    path(
        "patients/<uuid:patient_uuid>/emergencies/new/",
        emergency_views.emergency_new_for_patient,
        name="emergency_new_for_patient",
    ),
]
