"""The indicator report pages, exports and the indicator API, under /reports/ in the metrics namespace."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from metrics.reports import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.report, name="report"),
    path("xlsx", views.report_xlsx, name="report_xlsx"),
    path("patients", views.indicator_patients, name="patients"),
    path("pdf", views.pdf_start, name="pdf_start"),
    path("pdf/<int:export_id>", views.pdf_status, name="pdf_status"),
    path("pdf/<int:export_id>/download", views.pdf_download, name="pdf_download"),
    path("verify/<str:code>", views.pdf_verify, name="pdf_verify"),
    path("api/indicators", views.indicators_api, name="indicators_api"),
]
