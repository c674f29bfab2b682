"""Login (throttled), logout, password change and the landing page."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from casemgmt.accounts import login_audit, throttle
from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import User
from casemgmt.accounts.twofactor.enforce import verify_url
from casemgmt.accounts.twofactor.policy import requires_second_factor
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event


class ThrottledLogin:
    """Failed-login throttling for an ``AuthenticationForm``: per username and per client address
    (``throttle.client_address``), the same on /login/ and /admin/login/."""

    request: HttpRequest | None
    data: Mapping[str, object]

    def throttled_clean(
        self,
        clean: Callable[[], dict[str, object]],
        locked_message: str,
        get_user: Callable[[], AbstractBaseUser | None],
    ) -> dict[str, object]:
        username = str(self.data.get("username") or "").strip()
        address = throttle.client_address(self.request) if self.request else ""
        if throttle.is_locked(username, address):
            login_audit.login_failed(username, reason="locked")
            raise forms.ValidationError(locked_message, code="locked")
        try:
            cleaned = clean()
        except forms.ValidationError:
            reached = throttle.record_failure(username, address)
            login_audit.login_failed(username, reason="password", reached=reached)
            raise
        if not requires_second_factor(get_user()):
            # For accounts with a second factor the code clears the count: else a stolen password could be
            # typed again after every few wrong codes and the codes guessed without end.
            throttle.clear_failures(username)
        return cleaned


LOCKED = _("登录失败次数过多，请15分钟后再试，或联系系统管理员。")


class ThrottledAuthenticationForm(ThrottledLogin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确。"),
        "locked": LOCKED,
    }

    def clean(self) -> dict[str, object]:
        return self.throttled_clean(super().clean, str(self.error_messages["locked"]), self.get_user)


class ThrottledAdminAuthenticationForm(ThrottledLogin, AdminAuthenticationForm):
    def clean(self) -> dict[str, object]:
        return self.throttled_clean(super().clean, str(LOCKED), self.get_user)


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        if requires_second_factor(user):
            login_audit.logged_in(user, second_factor="pending")
        else:
            login_audit.logged_in(user)
        return response

    def get_success_url(self) -> str:
        """An account that needs a second factor goes to the code page first, then where it was going."""
        url = super().get_success_url()
        return verify_url(url) if requires_second_factor(self.request.user) else url


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        user = request.user
        if isinstance(user, User) and user.is_authenticated:
            login_audit.logged_out(user)
        return super().post(request, *args, **kwargs)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        """Choosing one's own password ends the temporary one's restriction; the change is audited."""
        response = super().form_valid(form)
        user = form.user
        if isinstance(user, User):
            was_temporary = user.must_change_password
            if was_temporary:
                user.must_change_password = False
                user.save(update_fields=["must_change_password"])
            detail = {"username": user.username, "role": user.role, "was_temporary": was_temporary}
            record_event(actor=user, action=Action.PASSWORD_CHANGE, detail=detail)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Doctors land on their work list (随访任务), area staff on their patient list, case-team members on their
    cases; others on a page that says what they can do."""
    user = request.user
    if user.is_doctor:
        return redirect("followup:worklist")
    if user.is_area_staff:
        return redirect("registry:patient_list")
    if user.is_case_member:
        return redirect("followup:case_list")
    return render(request, "accounts/home.html")
