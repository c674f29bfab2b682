"""Case pages (domain.md §8), included under /followup/ in the followup namespace. Cases are addressed by UUID."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from followup.cases import views as case_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("cases/", case_views.case_list, name="case_list"),
    path("cases/<uuid:case_uuid>/", case_views.case_detail, name="case_detail"),
    path("cases/<uuid:case_uuid>/contacts/new/", case_views.contact_new, name="case_contact_new"),
    path("cases/<uuid:case_uuid>/members/new/", case_views.member_add, name="case_member_add"),
    path(
        "cases/<uuid:case_uuid>/members/<uuid:member_uuid>/remove/",
        case_views.member_remove,
        name="case_member_remove",
    ),
    path("cases/<uuid:case_uuid>/plan/", case_views.plan_edit, name="case_plan"),
    path("cases/<uuid:case_uuid>/close/", case_views.case_close, name="case_close"),
]
