"""Follow-up pages. Patients and records are addressed by UUID only, never by primary key or identity."""

from __future__ import annotations

from django.urls import include, path

from followup.visits import views

app_name = "followup"

urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    path("patients/<uuid:patient_uuid>/new/", views.followup_new, name="followup_new"),
    path("patients/<uuid:patient_uuid>/visits/<uuid:followup_uuid>/", views.followup_detail, name="followup_detail"),
    path("patients/<uuid:patient_uuid>/timeline/", views.timeline, name="timeline"),
    path("patients/<uuid:patient_uuid>/medication/", views.medication, name="medication"),
    path("", include("followup.rehab.urls")),
    path("", include("followup.cases.urls")),
    path("", include("followup.emergencies.urls")),
    path("", include("followup.workbook.urls")),
]
