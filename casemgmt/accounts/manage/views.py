"""The account pages: list, create, edit, deactivate/reactivate and reset password (administrators only).

Accounts are addressed by their UUID, not the username: a username is not patient data, but it often holds a
person's name in pinyin and a UUID leaks nothing into logs, browser history or referrers.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.manage import services
from casemgmt.accounts.manage.access import account_for, admin_required, manageable_accounts
from casemgmt.accounts.manage.forms import AccountCreateForm, AccountEditForm, AccountFilterForm
from casemgmt.accounts.management.provisioning import ALLOWED_AREA_LEVELS, ProvisioningError
from casemgmt.areas.models import Area, AreaLevel
from casemgmt.areas.scope import within

PAGE_SIZE = 25


@require_GET
@admin_required
def account_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AccountFilterForm(request.GET)
    accounts = manageable_accounts(request.user).order_by("username")
    if form.is_valid():
        term = str(form.cleaned_data["q"]).strip()
        if term:
            accounts = accounts.filter(username__icontains=term) | accounts.filter(display_name__icontains=term)
        if form.cleaned_data["role"]:
            accounts = accounts.filter(role=form.cleaned_data["role"])
        if form.cleaned_data["active"]:
            accounts = accounts.filter(is_active=form.cleaned_data["active"] == "1")
        code = str(form.cleaned_data["area"])
        if code:
            area = Area.objects.filter(code=code).first()
            prefixes = [area.prefix] if area else []
            accounts = accounts.filter(within(prefixes, "memberships__area__code")).distinct()
    page = Paginator(accounts.prefetch_related("memberships__area"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "manage/account_list.html", {"form": form, "page": page, "page_query": query.urlencode()})


@require_http_methods(["GET", "POST"])
@admin_required
def account_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AccountCreateForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            user, password = services.create_account(
                actor=request.user,
                username=str(form.cleaned_data["username"]),
                role=str(form.cleaned_data["role"]),
                areas=form.chosen_areas(),
                display_name=str(form.cleaned_data["display_name"]),
            )
        except ProvisioningError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            return render(
                request, "manage/temporary_password.html", {"account": user, "password": password, "created": True}
            )
    return render(
        request, "manage/account_form.html", {"form": form, "chosen": _chosen(form), "picker_text": _picker_text()}
    )


@require_http_methods(["GET", "POST"])
@admin_required
def account_edit(request: AuthenticatedHttpRequest, account_uuid: uuid.UUID) -> HttpResponse:
    account = account_for(request.user, account_uuid)
    initial = {"display_name": account.display_name, "role": account.role, "areas": services.area_codes(account)}
    data = request.POST if request.method == "POST" else None
    form = AccountEditForm(data, initial=initial, actor=request.user, account=account)
    if form.is_valid():
        try:
            services.update_account(
                actor=request.user,
                user=account,
                role=str(form.cleaned_data["role"]),
                areas=form.chosen_areas(),
                display_name=str(form.cleaned_data["display_name"]),
            )
        except ProvisioningError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("账号 %(username)s 已保存。") % {"username": account.username})
            return redirect("manage:account_edit", account_uuid=account.uuid)
    return render(
        request,
        "manage/account_form.html",
        {"form": form, "account": account, "chosen": _chosen(form), "picker_text": _picker_text()},
    )


@require_POST
@admin_required
def account_active(request: AuthenticatedHttpRequest, account_uuid: uuid.UUID) -> HttpResponse:
    account = account_for(request.user, account_uuid)
    active = request.POST.get("active") == "1"
    if account.pk == request.user.pk and not active:
        messages.error(request, _("不能停用自己的账号。"))
    else:
        services.set_active(actor=request.user, user=account, active=active)
        if active:
            messages.success(request, _("账号 %(username)s 已启用。") % {"username": account.username})
        else:
            messages.success(request, _("账号 %(username)s 已停用，不能再登录。") % {"username": account.username})
    return redirect("manage:account_edit", account_uuid=account.uuid)


@require_POST
@admin_required
def account_reset_password(request: AuthenticatedHttpRequest, account_uuid: uuid.UUID) -> HttpResponse:
    account = account_for(request.user, account_uuid)
    password = services.reset_password(actor=request.user, user=account)
    return render(
        request, "manage/temporary_password.html", {"account": account, "password": password, "created": False}
    )


@require_GET
@admin_required
def area_children(request: AuthenticatedHttpRequest) -> JsonResponse:
    """The picker's next level: the children of ``parent`` (or the provinces), as code, name and level."""
    parent = request.GET.get("parent", "")
    areas = Area.objects.filter(parent__isnull=True) if not parent else Area.objects.filter(parent_id=parent[:12])
    rows = [{"code": a.code, "name": a.name, "level": a.level} for a in areas.order_by("code")[:1000]]
    return JsonResponse({"areas": rows})


def _picker_text() -> dict[str, object]:
    """The picker script's words, in the page's language."""
    levels = {str(level.value): str(level.label) for level in AreaLevel}
    allowed = {str(role): sorted(held) for role, held in ALLOWED_AREA_LEVELS.items()}
    return {"levels": levels, "allowed": allowed, "choose": _("请选择"), "not_allowed": _("该角色不能选择这一级区划。")}


def _chosen(form: AccountCreateForm | AccountEditForm) -> list[Area]:
    """The areas to show as chosen: the submitted ones that exist, else the account's current ones."""
    if isinstance(form.data, QueryDict):
        codes = [code for code in form.data.getlist("areas") if isinstance(code, str)][:50]
    else:
        initial = form.initial.get("areas")
        codes = [str(code) for code in initial] if isinstance(initial, list) else []
    return list(Area.objects.filter(code__in=codes).order_by("code"))
