"""The account pages: list, create, edit, deactivate/reactivate and reset password (administrators only), and
the approvals pages (administrators and area staff) where a second person decides a change that gives access.

Creating an account, changing a role, adding an area, reactivating and resetting a password are requests
(``approvals.request_change``); removing access (deactivating, removing an area) and renaming take effect at
once. Accounts and requests are addressed by their UUID, not the username: a username is not patient data, but it
often holds a person's name in pinyin and a UUID leaks nothing into logs, browser history or referrers.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.manage import approvals, services
from casemgmt.accounts.manage.access import account_for, admin_required, is_administrator, manageable_accounts
from casemgmt.accounts.manage.forms import AccountCreateForm, AccountEditForm, AccountFilterForm, RejectForm
from casemgmt.accounts.management.provisioning import ALLOWED_AREA_LEVELS, ProvisioningError
from casemgmt.accounts.models import AccountChangeRequest, ChangeKind, User
from casemgmt.areas.changes import accounts_on_retired_areas
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
    # Accounts left on an area retired by an area change (区划变更): the administrator gives them the successor.
    on_retired = accounts_on_retired_areas(accounts=manageable_accounts(request.user))
    return render(
        request,
        "manage/account_list.html",
        {"form": form, "page": page, "page_query": query.urlencode(), "on_retired": on_retired},
    )


@require_http_methods(["GET", "POST"])
@admin_required
def account_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AccountCreateForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        username = str(form.cleaned_data["username"])
        try:
            approvals.request_change(
                actor=request.user,
                kind=ChangeKind.CREATE,
                username=username,
                role=str(form.cleaned_data["role"]),
                areas=form.chosen_areas(),
                display_name=str(form.cleaned_data["display_name"]),
            )
        except approvals.ChangeRefused as exc:
            form.add_error("username", str(exc))
        else:
            done = _("新建账号 %(username)s 的申请已提交，经审批人批准后账号才会生成。")
            messages.success(request, done % {"username": username})
            return redirect("manage:account_list")
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
        role, areas = str(form.cleaned_data["role"]), form.chosen_areas()
        display_name = str(form.cleaned_data["display_name"])
        try:
            if approvals.gives_access(account, role, areas):
                approvals.request_change(
                    actor=request.user,
                    kind=ChangeKind.UPDATE,
                    account=account,
                    role=role,
                    areas=areas,
                    display_name=display_name,
                )
                message = _("账号 %(username)s 的变更已提交，经审批人批准后生效。")
            else:  # only removes access, or renames: at once
                services.update_account(
                    actor=request.user, user=account, role=role, areas=areas, display_name=display_name
                )
                message = _("账号 %(username)s 已保存。")
        except ProvisioningError as exc:
            for problem in exc.messages:
                form.add_error(None, problem)
        except approvals.ChangeRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, message % {"username": account.username})
            return redirect("manage:account_edit", account_uuid=account.uuid)
    return render(request, "manage/account_form.html", _edit_context(form, account))


def _edit_context(form: AccountEditForm, account: User) -> dict[str, object]:
    recent = AccountChangeRequest.objects.filter(account=account).select_related("requested_by", "decided_by")
    return {
        "form": form,
        "account": account,
        "chosen": _chosen(form),
        "picker_text": _picker_text(),
        "pending": approvals.pending_for(account),
        "recent_requests": list(recent.order_by("-requested_at", "-id")[:5]),
    }


@require_POST
@admin_required
def account_active(request: AuthenticatedHttpRequest, account_uuid: uuid.UUID) -> HttpResponse:
    account = account_for(request.user, account_uuid)
    active = request.POST.get("active") == "1"
    if account.pk == request.user.pk:
        messages.error(request, _("不能停用或启用自己的账号。"))
    elif not active:  # removes access: at once
        services.set_active(actor=request.user, user=account, active=False)
        messages.success(request, _("账号 %(username)s 已停用，不能再登录。") % {"username": account.username})
    elif not account.is_active:
        _request(request, account, ChangeKind.REACTIVATE, _("启用账号 %(username)s 的申请已提交，经审批人批准后生效。"))
    return redirect("manage:account_edit", account_uuid=account.uuid)


def _request(request: AuthenticatedHttpRequest, account: User, kind: str, done: str) -> None:
    try:
        approvals.request_change(actor=request.user, kind=kind, account=account)
    except approvals.ChangeRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done % {"username": account.username})


@require_POST
@admin_required
def account_reset_password(request: AuthenticatedHttpRequest, account_uuid: uuid.UUID) -> HttpResponse:
    account = account_for(request.user, account_uuid)
    if account.pk == request.user.pk:
        messages.error(request, _("请在“修改密码”页面修改自己的密码。"))
    else:  # whoever knows the new password can sign in as the account: only the approver is shown it
        done = _("重置账号 %(username)s 密码的申请已提交，批准后临时密码只显示给审批人。")
        _request(request, account, ChangeKind.PASSWORD, done)
    return redirect("manage:account_edit", account_uuid=account.uuid)


# --- approvals -------------------------------------------------------------------------------------------------


@require_GET
@login_required
def approval_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The requests this user may decide, and (for administrators) the ones they made."""
    user = request.user
    if not approvals.may_approve_anything(user):
        raise Http404
    mine = AccountChangeRequest.objects.filter(requested_by=user).select_related("decided_by")
    context = {
        "requests": [(change, approvals.areas_of(change)) for change in approvals.decidable_requests(user)],
        "mine": list(mine.order_by("-requested_at", "-id")[:20]) if is_administrator(user) else [],
    }
    return render(request, "manage/approval_list.html", context)


@login_required
def approval_detail(request: AuthenticatedHttpRequest, request_uuid: uuid.UUID) -> HttpResponse:
    change = approvals.get_change_request_for_user(request, request_uuid)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _render_decision(request, change, RejectForm())


@login_required
def approval_approve(request: AuthenticatedHttpRequest, request_uuid: uuid.UUID) -> HttpResponse:
    change = approvals.get_change_request_for_user(request, request_uuid, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        approval = approvals.approve(actor=request.user, change=change)
    except ProvisioningError as exc:
        return _render_decision(request, change, RejectForm(), problems=exc.messages)
    if approval.password is not None:
        created = change.kind == ChangeKind.CREATE
        context = {"account": approval.account, "password": approval.password, "created": created}
        return render(request, "manage/temporary_password.html", context)
    messages.success(request, _("已批准账号 %(username)s 的变更。") % {"username": approval.account.username})
    return redirect("manage:approval_list")


@login_required
def approval_reject(request: AuthenticatedHttpRequest, request_uuid: uuid.UUID) -> HttpResponse:
    change = approvals.get_change_request_for_user(request, request_uuid, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _render_decision(request, change, form)
    approvals.reject(actor=request.user, change=change, note=str(form.cleaned_data["note"]))
    messages.success(request, _("已驳回账号 %(username)s 的变更申请。") % {"username": change.username})
    return redirect("manage:approval_list")


def _render_decision(
    request: AuthenticatedHttpRequest, change: AccountChangeRequest, form: RejectForm, problems: list[str] | None = None
) -> HttpResponse:
    account = change.account
    proposed = approvals.areas_of(change)
    current = list(Area.objects.filter(memberships__user=account).order_by("code")) if account else []
    context = {
        "change": change,
        "proposed_areas": proposed,
        "added_areas": [area for area in proposed if area not in current] if account else [],
        "account": account,
        "current_areas": current,
        "form": form,
        "problems": problems or [],
    }
    return render(request, "manage/approval_detail.html", context, status=200)


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
