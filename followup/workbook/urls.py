"""Registry workbook import and export pages (exchange.md §1)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from followup.workbook import export_views, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("import/", views.upload, name="workbook_upload"),
    path("import/template.xlsx", views.template, name="workbook_template"),
    path("import/<uuid:job_uuid>/", views.job, name="workbook_job"),
    path("export/", export_views.export_page, name="workbook_export"),
    path("export/<uuid:export_uuid>/", export_views.export_job, name="workbook_export_job"),
    path("export/<uuid:export_uuid>/download", export_views.export_download, name="workbook_export_download"),
]
