"""Break-glass pages (issue 14 §4), included under /patients/ in the registry namespace. No URL carries an ID
number: the number is posted to ``break-glass/``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from registry.breakglass import views as breakglass_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("break-glass/", breakglass_views.break_glass, name="break_glass"),
    path("break-glass/log/", breakglass_views.break_glass_log, name="break_glass_log"),
    path("break-glass/<uuid:access_uuid>/review/", breakglass_views.break_glass_review, name="break_glass_review"),
]
