from __future__ import annotations

from django.urls import path

from metrics.reports import views

app_name = "metrics"

urlpatterns = [
    path("", views.report, name="report"),
    path("xlsx", views.report_xlsx, name="report_xlsx"),
    path("patients", views.indicator_patients, name="patients"),
    path("pdf", views.pdf_start, name="pdf_start"),
    path("pdf/<int:export_id>", views.pdf_status, name="pdf_status"),
    path("pdf/<int:export_id>/download", views.pdf_download, name="pdf_download"),
    path("verify/<str:code>", views.pdf_verify, name="pdf_verify"),
    path("api/indicators", views.indicators_api, name="indicators_api"),
]
