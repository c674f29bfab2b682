"""The patient pages (list, registration, record, edit, supplementary form, status, closure, access log), under
/patients/ in the registry namespace."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from registry.patients import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.patient_list, name="patient_list"),
    path("new/", views.patient_register, name="patient_register"),
    path("<uuid:patient_uuid>/", views.patient_detail, name="patient_detail"),
    path("<uuid:patient_uuid>/open/", views.patient_open, name="patient_open"),
    path("<uuid:patient_uuid>/edit/", views.patient_edit, name="patient_edit"),
    path("<uuid:patient_uuid>/supplementary/", views.supplementary_edit, name="supplementary_edit"),
    path("<uuid:patient_uuid>/status/", views.status_change, name="status_change"),
    path("<uuid:patient_uuid>/closure/<uuid:closure_uuid>/", views.closure_review, name="closure_review"),
    path("<uuid:patient_uuid>/access/", views.access_log, name="access_log"),
]
