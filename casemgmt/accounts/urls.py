from __future__ import annotations

from django.urls import include, path

from casemgmt.accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/", include("casemgmt.accounts.twofactor.urls")),
    path("security/", include("casemgmt.accounts.locks.urls")),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]
