"""The work list endpoint of the machine API, included by ``casemgmt.api.urls`` under /api/v1/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from followup.visits import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("worklist", api.worklist, name="worklist"),
]
