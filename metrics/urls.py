from __future__ import annotations

from django.urls import path

from metrics import views

app_name = "metrics"

urlpatterns = [
    path("", views.report, name="report"),
    path("xlsx", views.report_xlsx, name="report_xlsx"),
    path("api/indicators", views.indicators_api, name="indicators_api"),
]
