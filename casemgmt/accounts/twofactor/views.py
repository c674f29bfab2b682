"""The code page, the enrolment page and the one showing of the recovery codes."""

from __future__ import annotations

from urllib.parse import urlencode

import django_otp
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from casemgmt.accounts import login_audit, throttle
from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.twofactor import services
from casemgmt.accounts.twofactor.forms import CodeForm, EnrolForm
from casemgmt.accounts.twofactor.policy import is_verified, requires_second_factor
from casemgmt.accounts.views import LOCKED

RECOVERY_CODES_SESSION_KEY = "second_factor_recovery_codes"


def _next(request: AuthenticatedHttpRequest) -> str:
    target = str(request.GET.get("next") or "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("home")


def _with_next(name: str, request: AuthenticatedHttpRequest) -> str:
    target = str(request.GET.get("next") or "")
    return f"{reverse(name)}?{urlencode({'next': target})}" if target else reverse(name)


@require_http_methods(["GET", "POST"])
@login_required
def verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if not requires_second_factor(user) or is_verified(user):
        return HttpResponseRedirect(_next(request))
    if not services.has_authenticator(user):
        return HttpResponseRedirect(_with_next("second_factor:enrol", request))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        check = services.check_code(user, str(form.cleaned_data["code"]), throttle.client_address(request))
        if check.device is not None:
            request.session.cycle_key()
            django_otp.login(request, check.device)
            return HttpResponseRedirect(_next(request))
        form.add_error(
            "code", str(LOCKED) if check.outcome is services.Outcome.LOCKED else _("动态口令不正确，请重新输入。")
        )
    return render(request, "accounts/second_factor_verify.html", {"form": form})


@require_http_methods(["GET", "POST"])
@login_required
def enrol(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if not requires_second_factor(user):
        return redirect("home")
    if services.has_authenticator(user):
        # Enrolled already: a second authenticator needs a reset by a county officer or an administrator.
        return HttpResponseRedirect(
            _next(request) if is_verified(user) else _with_next("second_factor:verify", request)
        )
    device = services.pending_authenticator(user)
    form = EnrolForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        codes = services.confirm_enrolment(user, device, str(form.cleaned_data["code"]))
        if codes is not None:
            request.session.cycle_key()
            device.refresh_from_db()
            django_otp.login(request, device)
            login_audit.logged_in(user, second_factor="enrolment")
            request.session[RECOVERY_CODES_SESSION_KEY] = {"codes": codes, "next": _next(request)}
            return redirect("second_factor:recovery_codes")
        form.add_error("code", _("动态口令不正确，请核对手机时间后重新输入。"))
    context = {"form": form, "enrolment": services.enrolment_for(device)}
    return render(request, "accounts/second_factor_enrol.html", context)


@require_GET
@login_required
def recovery_codes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The recovery codes of a just-confirmed enrolment, shown once (then only their use is possible)."""
    shown = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    if not isinstance(shown, dict):
        return redirect("home")
    return render(request, "accounts/second_factor_recovery_codes.html", shown)
