"""The follow-up pages of one patient (the visit form, one visit, the timeline, medication) and the doctor's
work list, under /followup/ in the followup namespace."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from followup.visits import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("worklist/", views.worklist, name="worklist"),
    path("patients/<uuid:patient_uuid>/new/", views.followup_new, name="followup_new"),
    path("patients/<uuid:patient_uuid>/visits/<uuid:followup_uuid>/", views.followup_detail, name="followup_detail"),
    path("patients/<uuid:patient_uuid>/timeline/", views.timeline, name="timeline"),
    path("patients/<uuid:patient_uuid>/medication/", views.medication, name="medication"),
]
