from __future__ import annotations

from django.urls import path

from registry import views

app_name = "registry"

urlpatterns = [
    path("", views.patient_list, name="patient_list"),
    path("new/", views.patient_list, name="patient_register"),
]
