"""Registry workbook import pages (exchange.md §1)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from followup.workbook import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("import/", views.upload, name="workbook_upload"),
    path("import/template.xlsx", views.template, name="workbook_template"),
    path("import/<uuid:job_uuid>/", views.job, name="workbook_job"),
]
