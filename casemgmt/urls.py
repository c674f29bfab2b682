from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from casemgmt import health_views
from casemgmt.api import errors as api_errors

urlpatterns = [
    path("healthz", health_views.healthz, name="healthz"),
    path("manage/status/", health_views.status_page, name="status"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("casemgmt.accounts.urls")),
    path("manage/", include("casemgmt.accounts.manage.urls")),
    path("manage/populations/", include("casemgmt.areas.urls")),
    path("patients/", include("registry.urls")),
    path("followup/", include("followup.urls")),
    path("reports/", include("metrics.urls")),
    path("account/", include("casemgmt.api.page_urls")),
    path("api/v1/federation/", include("federation.api.urls")),
    path("api/v1/", include("casemgmt.api.urls")),
    path("api/", api_errors.not_found, name="api_root"),  # JSON, never the HTML 404 page
    path("api/<path:rest>", api_errors.not_found, name="api_not_found"),
]
