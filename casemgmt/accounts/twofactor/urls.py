from __future__ import annotations

from django.urls import path

from casemgmt.accounts.twofactor import views

app_name = "second_factor"
urlpatterns = [
    path("code/", views.verify, name="verify"),
    path("enrol/", views.enrol, name="enrol"),
    path("recovery-codes/", views.recovery_codes, name="recovery_codes"),
]
