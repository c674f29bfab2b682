from __future__ import annotations

from django.urls import path

from casemgmt.accounts.manage import views

app_name = "manage"
urlpatterns = [
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/<uuid:account_uuid>/", views.account_edit, name="account_edit"),
    path("accounts/<uuid:account_uuid>/active/", views.account_active, name="account_active"),
    path("accounts/<uuid:account_uuid>/password/", views.account_reset_password, name="account_reset_password"),
    path("areas/children/", views.area_children, name="area_children"),
    path("approvals/", views.approval_list, name="approval_list"),
    path("approvals/<uuid:request_uuid>/", views.approval_detail, name="approval_detail"),
    path("approvals/<uuid:request_uuid>/approve/", views.approval_approve, name="approval_approve"),
    path("approvals/<uuid:request_uuid>/reject/", views.approval_reject, name="approval_reject"),
]
