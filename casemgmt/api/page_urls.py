"""The API令牌 page, under /account/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from casemgmt.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("api-tokens/", views.api_tokens, name="api_tokens"),
]
