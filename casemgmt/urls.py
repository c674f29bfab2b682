from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("casemgmt.accounts.urls")),
    path("manage/", include("casemgmt.accounts.manage.urls")),
    path("manage/populations/", include("casemgmt.areas.urls")),
    path("patients/", include("registry.urls")),
    path("followup/", include("followup.urls")),
    path("reports/", include("metrics.urls")),
]
