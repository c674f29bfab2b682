"""The county overview page, included under /followup/ in the followup namespace."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from followup.overview import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("overview/", views.county_overview, name="overview"),
]
