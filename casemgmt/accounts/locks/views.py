"""The login-security page of county officers and administrators: locked accounts, authenticators to reset."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.locks import services
from casemgmt.accounts.locks.access import account_in_reach, accounts_in_reach, officer_required
from casemgmt.accounts.twofactor import services as second_factor


def _back(request: AuthenticatedHttpRequest) -> HttpResponse:
    target = str(request.POST.get("next") or "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("locks:list")


@require_GET
@officer_required
def security(request: AuthenticatedHttpRequest) -> HttpResponse:
    accounts = accounts_in_reach(request.user)
    context = {
        "locked": services.locked_accounts(accounts),
        "enrolled": services.with_authenticator(accounts),
        "lockout_minutes": max(1, settings.LOGIN_LOCKOUT_SECONDS // 60),
    }
    return render(request, "accounts/security.html", context)


@require_POST
@officer_required
def lift_lock(request: AuthenticatedHttpRequest, account_uuid: uuid.UUID) -> HttpResponse:
    account = account_in_reach(request.user, account_uuid)
    if services.lift(actor=request.user, account=account):
        messages.success(request, _("已解除账号 %(username)s 的登录锁定。") % {"username": account.username})
    else:
        messages.info(request, _("账号 %(username)s 未被锁定。") % {"username": account.username})
    return _back(request)


@require_POST
@officer_required
def reset_second_factor(request: AuthenticatedHttpRequest, account_uuid: uuid.UUID) -> HttpResponse:
    account = account_in_reach(request.user, account_uuid)
    second_factor.reset(actor=request.user, account=account)
    messages.success(
        request, _("已重置账号 %(username)s 的动态口令；其下次登录时须重新绑定。") % {"username": account.username}
    )
    return _back(request)
