"""Break-glass pages: the form that opens one record by full ID number and reason (紧急调阅), the review list
(紧急调阅记录) and the acknowledgement.

Views stay thin: ``registry.breakglass.services`` looks up, writes and audits; the review list starts from
``break_glass_visible_to`` and one access is reached through ``get_break_glass_for_user`` (the same 404 for
missing and not yours). Users who may not break the glass (case-team members, administrators) get 404 on every
page here. The ID number travels in a POST body only and is kept out of error reports.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from registry.breakglass import services
from registry.breakglass.forms import BreakGlassForm, ReviewForm

LOG_PAGE_SIZE = 50


@sensitive_post_parameters("national_id")
@login_required
@require_http_methods(["GET", "POST"])
def break_glass(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if not services.may_break_glass(user):
        raise Http404
    form = BreakGlassForm(request.POST if request.method == "POST" else None)
    not_found = False
    if form.is_bound and form.is_valid() and services.too_many_unanswered(user):
        form.add_error(
            None,
            _("查询次数过多：一小时内未找到档案的查询已达 %(limit)d 次，请稍后再试。")
            % {"limit": services.unanswered_probe_limit()},
        )
    elif form.is_bound and form.is_valid():
        result = services.probe(
            actor=user, national_id=form.cleaned_data["national_id"], reason=form.cleaned_data["reason"]
        )
        if result.patient is not None:
            if result.access is not None:
                until = timezone.localtime(result.access.expires_at)
                messages.warning(
                    request,
                    _(
                        "紧急调阅已开启：您可查看该患者档案至 %(until)s，仅限查看、不能修改。"
                        "本次调阅已记录，将由患者所在辖区审阅。"
                    )
                    % {"until": until.strftime("%H:%M")},
                )
            return redirect("registry:patient_detail", patient_uuid=result.patient.uuid)
        not_found = True
        form = BreakGlassForm(initial={"reason": form.cleaned_data["reason"]})  # the number is not echoed back
    return render(
        request,
        "registry/breakglass/form.html",
        {"form": form, "not_found": not_found, "hours": services.break_glass_hours()},
    )


def _render_log(request: AuthenticatedHttpRequest, failed: tuple[uuid.UUID, ReviewForm] | None = None) -> HttpResponse:
    user = request.user
    page = Paginator(services.review_list(user), LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = services.review_rows(user, list(page.object_list))
    if failed is None:
        record_event(
            actor=user,
            action=Action.LIST,
            patient_uuids=[row.patient_uuid for row in rows],
            detail={"page": "break_glass_log", "page_number": page.number},
        )
    context = {
        "page": page,
        "rows": rows,
        "may_review": user.is_area_staff,
        "failed_uuid": failed[0] if failed else None,
        "failed_form": failed[1] if failed else None,
    }
    return render(request, "registry/breakglass/log.html", context)


@login_required
@require_GET
def break_glass_log(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not services.may_break_glass(request.user):
        raise Http404
    return _render_log(request)


@login_required
@require_POST
def break_glass_review(request: AuthenticatedHttpRequest, access_uuid: uuid.UUID) -> HttpResponse:
    access = services.get_break_glass_for_user(request, access_uuid, write=True)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _render_log(request, failed=(access.uuid, form))
    if services.review(actor=request.user, access=access, note=form.cleaned_data["note"]):
        messages.success(request, _("已审阅该紧急调阅记录。"))
    else:
        messages.info(request, _("该紧急调阅记录已有人审阅。"))
    return redirect("registry:break_glass_log")
