"""Transfer pages (domain.md §4.4), included under /patients/ in the registry namespace."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from registry.transfers import views as transfer_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("transfers/", transfer_views.transfer_list, name="transfer_list"),
    path("transfers/<uuid:transfer_uuid>/accept/", transfer_views.transfer_accept, name="transfer_accept"),
    path("transfers/<uuid:transfer_uuid>/reject/", transfer_views.transfer_reject, name="transfer_reject"),
    path("transfers/<uuid:transfer_uuid>/withdraw/", transfer_views.transfer_withdraw, name="transfer_withdraw"),
    path("<uuid:patient_uuid>/transfer/", transfer_views.transfer_request, name="transfer_request"),
]
