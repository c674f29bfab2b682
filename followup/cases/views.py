"""Case pages (个案管理, domain.md §8): the case list ("my cases" for team members), one case, the team, the
plan, contacts and closing.

Views stay thin. A case is reached through ``case_services.get_case_for_user`` (its patient must be in
the one visibility rule, ``visible_to``; 404 otherwise). The patient's doctors get the full case page and manage it;
team members who reach the patient through their grant get the limited view (identity, contacts, guardian,
risk, classification, next due date, plan, contacts) and may add contacts; a grant-only user who is not on
this case's team gets 404; area staff, read-only here, get 403 (they have the county overview).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from followup.cases import services as case_services
from followup.cases.forms import CloseForm, ContactForm, MemberForm, PlanForm, ServiceErrorsMixin
from followup.cases.notices import opened_reason_labels
from followup.models import Case, PatientCareState
from registry.access.disclosure import Disclosure, guardian_facts, identity_facts

if TYPE_CHECKING:
    from django.forms import BaseForm


def _case(request: AuthenticatedHttpRequest, case_uuid: uuid.UUID, *, manage: bool = False) -> tuple[Case, bool]:
    """The case and whether the user manages it (its patient's doctor); 404 / 403 as described above."""
    case = case_services.get_case_for_user(request, case_uuid, write=manage)
    return case, case_services.can_manage(request.user, case)


def _to_case(case: Case) -> HttpResponse:
    return redirect("followup:case_detail", case_uuid=case.uuid)


def _refused_whole(request: AuthenticatedHttpRequest, exc: case_services.CaseError, case: Case) -> HttpResponse | None:
    """A refusal of the whole request (the case closed meanwhile, closed already...): said on the case page,
    whose forms may be gone by then. Field errors return None and are shown on the form."""
    if set(exc.errors) != {"__all__"}:
        return None
    messages.error(request, str(exc))
    return _to_case(case)


T = TypeVar("T")


def _submit(
    request: AuthenticatedHttpRequest,
    case: Case,
    form: ServiceErrorsMixin,
    action: Callable[[], T],
    success: Callable[[T], str],
) -> HttpResponse | None:
    """Run the service call of a valid form. On success, or when the service refuses the whole request, the
    answer is a redirect to the case page; None when the refusal was put on the form's fields (re-render it)."""
    try:
        result = action()
    except case_services.CaseError as exc:
        if refused := _refused_whole(request, exc, case):
            return refused
        form.apply_service_errors(exc)
        return None
    messages.success(request, success(result))
    return _to_case(case)


def _on_team(case: Case, posted_user: str) -> bool:
    return posted_user.isdigit() and case.members.filter(user_id=int(posted_user), removed_at__isnull=True).exists()


# --- the list --------------------------------------------------------------------------------------------------


@login_required
@require_GET
def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Doctors: the open cases of their areas, and the other areas' cases on whose team they are. Team members:
    "my cases". Others: 403."""
    user = request.user
    today = timezone.localdate()
    team_rows: list[case_services.CaseRow] = []
    if user.is_doctor:
        rows = case_services.case_rows(case_services.jurisdiction_cases(user), masked=False, today=today)
        team_rows = case_services.case_rows(case_services.team_cases_elsewhere(user), masked=False, today=today)
    elif user.is_case_member:
        rows = case_services.case_rows(case_services.my_cases(user), masked=False, today=today)
    else:
        raise PermissionDenied
    shown = [r.patient_uuid for r in (*rows, *team_rows)]
    record_event(actor=user, action=Action.LIST, patient_uuids=shown, detail={"page": "cases"})
    context = {"rows": rows, "team_rows": team_rows, "mine": user.is_case_member, "today": today}
    return render(request, "followup/cases/list.html", context)


# --- one case --------------------------------------------------------------------------------------------------


def _detail_context(request: AuthenticatedHttpRequest, case: Case, full: bool, **forms: BaseForm) -> dict[str, object]:
    patient = case.patient
    state = PatientCareState.objects.filter(patient=patient).first()
    context: dict[str, object] = {
        "case": case,
        "patient": patient,
        "full": full,
        "reasons": opened_reason_labels(case),
        "state": state,
        "team": case_services.team(case),
        "contacts": list(case.contacts.select_related("recorded_by")),
        "contact_form": forms.get("contact_form") or ContactForm(),
        "today": timezone.localdate(),
    }
    if full:
        context.update(
            member_form=forms.get("member_form") or MemberForm(users=case_services.member_users(case)),
            close_form=forms.get("close_form") or CloseForm(),
            closing_suggested=case_services.closing_suggested(case),
            earlier=list(patient.cases.exclude(pk=case.pk).order_by("-opened_on")),
            removed=list(case.members.filter(removed_at__isnull=False).select_related("user", "removed_by")),
        )
    else:
        context.update(
            identity=identity_facts(patient, Disclosure.LIMITED),
            guardian=guardian_facts(patient),
        )
    return context


def _record_view(
    request: AuthenticatedHttpRequest, case: Case, page: str, *, full: bool | None = None, redisplay: bool = False
) -> None:
    """Log a page showing the case's patient, a form re-shown after bad input too (``redisplay``)."""
    detail: dict[str, object] = {"page": page, "case": str(case.uuid)}
    if full is not None:
        detail["disclosure"] = "full" if full else "limited"
    if redisplay:
        detail["redisplay"] = True
    record_event(actor=request.user, action=Action.VIEW, patient_uuids=[case.patient.uuid], detail=detail)


def _render_detail(
    request: AuthenticatedHttpRequest, case: Case, full: bool, *, redisplay: bool = True, **forms: BaseForm
) -> HttpResponse:
    """The case page, logged; by default as a form re-shown after bad input (the callers other than
    ``case_detail`` re-show a form)."""
    _record_view(request, case, "case", full=full, redisplay=redisplay)
    return render(request, "followup/cases/detail.html", _detail_context(request, case, full, **forms))


@login_required
@require_GET
def case_detail(request: AuthenticatedHttpRequest, case_uuid: uuid.UUID) -> HttpResponse:
    case, full = _case(request, case_uuid)
    return _render_detail(request, case, full, redisplay=False)


@login_required
@require_POST
def contact_new(request: AuthenticatedHttpRequest, case_uuid: uuid.UUID) -> HttpResponse:
    case, full = _case(request, case_uuid)
    form = ContactForm(request.POST)
    if form.is_valid() and (
        done := _submit(
            request,
            case,
            form,
            lambda: case_services.record_contact(
                actor=request.user, case=case, values=form.cleaned_data, today=timezone.localdate()
            ),
            lambda _contact: _("联系记录已保存。"),
        )
    ):
        return done
    return _render_detail(request, case, full, contact_form=form)


@login_required
@require_POST
def member_add(request: AuthenticatedHttpRequest, case_uuid: uuid.UUID) -> HttpResponse:
    case, _full = _case(request, case_uuid, manage=True)
    form = MemberForm(request.POST, users=case_services.member_users(case))
    if form.is_valid():
        data = form.cleaned_data
        done = _submit(
            request,
            case,
            form,
            lambda: case_services.add_member(
                actor=request.user,
                case=case,
                role=data["role"],
                user=data.get("user"),
                person_name=data.get("person_name", ""),
                person_phone=data.get("person_phone", ""),
                today=timezone.localdate(),
            ),
            lambda member: _("已将 %(name)s 加入团队。") % {"name": member.name},
        )
        if done:
            return done
    elif "user" in form.errors and _on_team(case, request.POST.get("user", "")):  # not offered any more
        form.errors.pop("user")
        form.add_error(None, _("该账号已在团队中，无需重复添加。"))
    return _render_detail(request, case, True, member_form=form)


@login_required
@require_POST
def member_remove(request: AuthenticatedHttpRequest, case_uuid: uuid.UUID, member_uuid: uuid.UUID) -> HttpResponse:
    case, _full = _case(request, case_uuid, manage=True)
    member = case_services.member_of(case, member_uuid)
    if member is None:
        raise Http404
    try:
        case_services.remove_member(actor=request.user, member=member)
    except case_services.CaseError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已将 %(name)s 移出团队，其查看权限已收回。") % {"name": member.name})
    return _to_case(case)


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: AuthenticatedHttpRequest, case_uuid: uuid.UUID) -> HttpResponse:
    case, _full = _case(request, case_uuid, manage=True)
    initial = {name: getattr(case, name) for name in case_services.PLAN_FIELDS}
    form = PlanForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            case_services.update_plan(
                actor=request.user, case=case, values=form.cleaned_data, today=timezone.localdate()
            )
        except case_services.CaseError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("管理方案已保存。"))
            return _to_case(case)
    else:
        _record_view(request, case, "case_plan", redisplay=form.is_bound)
    return render(request, "followup/cases/plan.html", {"case": case, "patient": case.patient, "form": form})


@login_required
@require_POST
def case_close(request: AuthenticatedHttpRequest, case_uuid: uuid.UUID) -> HttpResponse:
    case, _full = _case(request, case_uuid, manage=True)
    form = CloseForm(request.POST)
    if form.is_valid() and (
        done := _submit(
            request,
            case,
            form,
            lambda: case_services.close_case(
                actor=request.user,
                case=case,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                today=timezone.localdate(),
            ),
            lambda _closed: _("个案已结案，团队成员的查看权限已收回。"),
        )
    ):
        return done
    return _render_detail(request, case, True, close_form=form)


# --- after a follow-up (called by followup.visits.views.followup_new) -------------------------------------------------
