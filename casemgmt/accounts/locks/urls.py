from __future__ import annotations

from django.urls import path

from casemgmt.accounts.locks import views

app_name = "locks"
urlpatterns = [
    path("", views.security, name="list"),
    path("locks/<uuid:account_uuid>/lift/", views.lift_lock, name="lift"),
    path("second-factor/<uuid:account_uuid>/reset/", views.reset_second_factor, name="reset_second_factor"),
]
