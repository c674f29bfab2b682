"""The registry pages: list and search, detail, registration, editing, status and closure, access log.

Views stay thin. Every patient is reached through ``registry.access.visibility`` (``visible_patients`` for lists,
``get_patient_for_user`` for one record: the same 404 for missing and not visible, 403 for writes by
read-only users); forms validate; services write. Every page that shows or changes patient data leaves an
audit event with the patients' UUIDs and no identity, a page re-shown because of bad input too (it shows the
record again; its event says ``redisplay``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.forms.models import model_to_dict
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import Role
from casemgmt.audit.models import Action
from casemgmt.audit.services import access_history, record_event
from registry import codes
from registry.access.disclosure import (
    Disclosure,
    clinical_facts,
    disclosure_for,
    guardian_facts,
    identity_facts,
    list_row,
    remember_opening,
    supplementary_facts,
)
from registry.access.visibility import (
    can_decide_closure,
    can_register_in,
    can_view_access_log,
    can_write,
    get_closure_for_user,
    get_patient_for_user,
    refuse,
    sees_masked_identity,
    visible_patients,
)
from registry.models import ClosureRequest, Patient, PatientQuerySet, SupplementaryForm
from registry.patients import probes, services
from registry.patients.forms import (
    ClosureDecisionForm,
    OpenWithReasonForm,
    PatientFilterForm,
    PatientForm,
    RegistrationForm,
    StatusChangeForm,
    SupplementaryFormForm,
    villages_in_jurisdiction,
)
from registry.patients.masking import mask_name
from registry.patients.panels import STATUS, render_panels
from registry.patients.search import (
    SearchKind,
    SearchResult,
    classify,
    name_scan_limit,
    recall_search,
    remember_search,
    search,
)

ACCESS_LOG_PAGE_SIZE = 50


def _pending_closure_exists() -> Exists:
    return Exists(ClosureRequest.objects.filter(patient=OuterRef("pk"), decision=ClosureRequest.Decision.PENDING))


def _pending_closure(patient: Patient) -> ClosureRequest | None:
    return (
        patient.closure_requests.filter(decision=ClosureRequest.Decision.PENDING).select_related("requested_by").first()
    )


def _patient_context(request: AuthenticatedHttpRequest, patient: Patient, disclosure: Disclosure) -> dict[str, object]:
    """What the header of every patient page needs: a (masked) title and the links this user may follow."""
    user = request.user
    masked = disclosure == Disclosure.MASKED
    return {
        "patient": patient,
        "disclosure": disclosure,
        "patient_title": mask_name(patient.name) if masked else patient.name,
        "can_write": can_write(user, patient),
        "can_view_access_log": can_view_access_log(user, patient),
    }


def _record_view(
    request: AuthenticatedHttpRequest, patient: Patient, page: str, disclosure: Disclosure, *, redisplay: bool = False
) -> None:
    """A page showing the patient is logged every time it is shown, a form re-shown after bad input too
    (``redisplay``): it shows the record again (finding 9 of issue 14)."""
    detail: dict[str, object] = {"page": page, "disclosure": str(disclosure)}
    if redisplay:
        detail["redisplay"] = True
    record_event(actor=request.user, action=Action.VIEW, patient_uuids=[patient.uuid], detail=detail)


# --- list ----------------------------------------------------------------------------------------------------


def _filtered(patients: PatientQuerySet, filters: dict[str, object]) -> PatientQuerySet:
    village, disorder, status = filters.get("village"), filters.get("disorder"), filters.get("status")
    if isinstance(village, str):
        patients = patients.filter(village_id=village)
    if isinstance(disorder, int):
        patients = patients.filter(disorder=disorder)
    if isinstance(status, str):
        patients = patients.filter(status=status)
    if filters.get("pending_closure"):
        patients = patients.filter(_pending_closure_exists())
    return patients


def _with_row_data(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    return patients.select_related("village").annotate(pending_closure=_pending_closure_exists())


def _paginate(
    result: SearchResult, patients: PatientQuerySet, page_number: str | None
) -> tuple[Page[Patient] | Page[int], list[Patient]]:
    """One page of matches in a constant number of queries, whatever the page size or the number of rows."""
    size = settings.PATIENT_LIST_PAGE_SIZE
    if result.queryset is not None:
        page = Paginator(_with_row_data(result.queryset), size).get_page(page_number)
        return page, list(page.object_list)
    pk_page = Paginator(result.pks, size).get_page(page_number)
    wanted = list(pk_page.object_list)
    by_pk = {p.pk: p for p in _with_row_data(patients.filter(pk__in=wanted))}
    return pk_page, [by_pk[pk] for pk in wanted if pk in by_pk]


# What a case-team member may filter by: a disorder or status filter would reveal what §8 keeps from them.
LIMITED_FILTERS = frozenset({"q", "village"})


@login_required
@require_http_methods(["GET", "POST"])
def patient_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """GET shows the list; POST takes a search and redirects to ?s=<token> (see registry.patients.search)."""
    if request.method == "POST":
        return _redirect_to_search(request)
    user = request.user
    data = request.GET.copy()
    data.pop("q", None)  # a term in the URL is never used: it would sit in logs and browser history
    term = recall_search(request.session, request.GET.get("s"))
    if request.GET.get("s") and term is None:
        messages.warning(request, _("检索已过期，请重新输入。"))
    if term:
        data["q"] = term
    form = PatientFilterForm(data or None, villages=villages_in_jurisdiction(user))
    filters = form.valid_filters() if form.is_bound else {}
    limited = user.is_case_member  # domain.md §8: identity and village only — no diagnosis, status, age or dates
    if limited:
        filters = {name: value for name, value in filters.items() if name in LIMITED_FILTERS}
    patients = _filtered(visible_patients(user), filters)
    result = search(patients, str(filters.get("q", "")))
    page, shown = _paginate(result, patients, request.GET.get("page"))
    if result.kind == SearchKind.NATIONAL_ID:  # who typed this patient's number, wherever the patient is
        number = classify(str(filters.get("q", "")))[1]
        probes.audit_search(actor=user, number=number, shown={p.uuid for p in shown})
    masked, today = sees_masked_identity(user), timezone.localdate()
    rows = [list_row(p, masked=masked, today=today) for p in shown]
    record_event(
        actor=user,
        action=Action.LIST if result.kind == SearchKind.NONE else Action.SEARCH,
        patient_uuids=[row.uuid for row in rows],
        detail={
            "search": str(result.kind),
            "filters": {k: v for k, v in filters.items() if k != "q"},
            "page": page.number,
            "results": page.paginator.count,
            "capped": result.capped,
        },
    )
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("q", None)  # never echo a typed-in term (an ID number) into the page's links
    return render(
        request,
        "registry/patient_list.html",
        {
            "form": form,
            "rows": rows,
            "page": page,
            "result": result,
            "masked": masked,
            "limited": limited,
            "page_query": query.urlencode(),
            "scan_limit": name_scan_limit() if result.capped else None,
        },
    )


def _redirect_to_search(request: AuthenticatedHttpRequest) -> HttpResponse:
    params = request.POST.copy()
    term = params.pop("q", [""])[-1].strip()
    params.pop("csrfmiddlewaretoken", None)
    params.pop("page", None)
    params.pop("s", None)
    if term:
        params["s"] = remember_search(request.session, term)
    query = params.urlencode()
    return redirect(reverse("registry:patient_list") + (f"?{query}" if query else ""))


# --- one record ----------------------------------------------------------------------------------------------


def _render_detail(
    request: AuthenticatedHttpRequest, patient: Patient, open_form: OpenWithReasonForm | None = None
) -> HttpResponse:
    """The patient page at the depth this user may see (see registry.access.disclosure).

    Re-shown because of a bad reason (``open_form`` with errors), it is logged again as a re-display.
    """
    user = request.user
    disclosure = disclosure_for(user, request.session, patient)
    context = _patient_context(request, patient, disclosure)
    context["identity"] = identity_facts(patient, disclosure)
    if disclosure == Disclosure.MASKED:
        context.update(clinical=clinical_facts(patient), open_form=open_form or OpenWithReasonForm())
    else:
        context["guardian"] = guardian_facts(patient)
    if disclosure == Disclosure.FULL:
        supplementary = SupplementaryForm.objects.select_related("filled_by").filter(patient=patient).first()
        closure = _pending_closure(patient)
        context.update(
            clinical=clinical_facts(patient),
            supplementary=supplementary_facts(supplementary) if supplementary else None,
            history=patient.status_changes.select_related("actor", "confirmed_by").order_by("-effective_date", "-id"),
            custody=patient.custody_spans.select_related("area").order_by("-start_date"),
            closure=closure,
            may_decide_closure=bool(
                closure and can_decide_closure(user, patient) and closure.requested_by_id != user.pk
            ),
        )
    context["extra_panels"] = render_panels(request, patient, str(disclosure))
    _record_view(request, patient, "detail", disclosure, redisplay=open_form is not None)
    return render(request, "registry/patient_detail.html", context)


@login_required
@require_GET
def patient_detail(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    return _render_detail(request, get_patient_for_user(request, patient_uuid))


@login_required
@require_POST
def patient_open(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    """Area staff state why they open the full record; the reason is logged and the record opens for a while."""
    patient = get_patient_for_user(request, patient_uuid)
    if not sees_masked_identity(request.user):
        refuse(request.user, patient)
    form = OpenWithReasonForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, patient, open_form=form)
    record_event(
        actor=request.user,
        action=Action.OPEN_WITH_REASON,
        patient_uuids=[patient.uuid],
        purpose=form.cleaned_data["purpose"],
    )
    remember_opening(request.session, patient.uuid)
    return redirect("registry:patient_detail", patient_uuid=patient.uuid)


@login_required
@require_GET
def access_log(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    patient = get_patient_for_user(request, patient_uuid)
    if not can_view_access_log(request.user, patient):
        refuse(request.user, patient)
    record_event(actor=request.user, action=Action.VIEW_ACCESS_LOG, patient_uuids=[patient.uuid])
    page = Paginator(access_history(patient.uuid), ACCESS_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    disclosure = disclosure_for(request.user, request.session, patient)
    context = _patient_context(request, patient, disclosure)
    roles = dict(Role.choices)
    entries = [
        (event, roles.get(event.actor_role, ""), event.purpose or probes.channel_label(event))
        for event in page.object_list
    ]
    context.update(page=page, entries=entries)
    return render(request, "registry/access_log.html", context)


# --- registration and editing --------------------------------------------------------------------------------


def _duplicate_url(exc: services.DuplicateRegistration) -> str | None:
    """A link only to a record the user may see; outside their view the message says nothing more."""
    if exc.existing_uuid is None:
        return None
    return reverse("registry:patient_detail", kwargs={"patient_uuid": exc.existing_uuid})


@login_required
@require_http_methods(["GET", "POST"])
def patient_register(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_doctor:
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    form = RegistrationForm(data, user=user)
    form_valid = form.is_valid()
    birth_date = form.cleaned_data.get("birth_date") if form.is_bound else None
    supplementary = SupplementaryFormForm(data, prefix="supp", birth_date=birth_date)
    duplicate_url = None
    if form_valid and supplementary.is_valid():
        village = form.cleaned_data["village"]
        if not can_register_in(user, village):  # the choices already say so; this is the rule itself
            form.add_error("village", _("所选地区不是您辖区内的村(居)，请从列表中选择。"))
        else:
            try:
                patient = services.register_patient(
                    actor=user, village=village, registration=form.registration(supplementary.entry())
                )
            except services.DuplicateRegistration as exc:
                form.add_error("national_id", str(exc))
                duplicate_url = _duplicate_url(exc)
            except services.ProbeLimitReached as exc:
                form.add_error("national_id", str(exc))
            else:
                messages.success(request, _("档案已建立。"))
                return redirect("registry:patient_detail", patient_uuid=patient.uuid)
    return render(
        request,
        "registry/patient_register.html",
        {"form": form, "supplementary_form": supplementary, "duplicate_url": duplicate_url},
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    patient = get_patient_for_user(request, patient_uuid, write=True)
    fields = PatientForm.Meta.fields
    form = PatientForm(request.POST if request.method == "POST" else None, initial=model_to_dict(patient, fields))
    duplicate_url = None
    if form.is_bound and form.is_valid():
        try:
            services.update_patient(actor=request.user, patient=patient, entry=form.entry())
        except services.DuplicateRegistration as exc:
            form.add_error("national_id", str(exc))
            duplicate_url = _duplicate_url(exc)
        except services.ProbeLimitReached as exc:
            form.add_error("national_id", str(exc))
        else:
            messages.success(request, _("档案已保存。"))
            return redirect("registry:patient_detail", patient_uuid=patient.uuid)
    _record_view(request, patient, "edit", Disclosure.FULL, redisplay=form.is_bound)
    context = _patient_context(request, patient, Disclosure.FULL)
    context.update(form=form, duplicate_url=duplicate_url)
    return render(request, "registry/patient_edit.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def supplementary_edit(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    patient = get_patient_for_user(request, patient_uuid)
    if disclosure_for(request.user, request.session, patient) == Disclosure.LIMITED:
        raise Http404  # clinical history: the case team never learns the page exists (domain.md §8)
    if not can_write(request.user, patient):
        refuse(request.user, patient)
    current = SupplementaryForm.objects.filter(patient=patient).first()
    if current is None:  # every registration creates one; a record without it is not editable here
        raise Http404
    initial = {**model_to_dict(current, list(SupplementaryFormForm.base_fields)), "filled_on": timezone.localdate()}
    data = request.POST if request.method == "POST" else None
    form = SupplementaryFormForm(data, initial=initial, birth_date=patient.birth_date)
    if form.is_bound and form.is_valid():
        services.update_supplementary(actor=request.user, patient=patient, entry=form.entry())
        messages.success(request, _("补充表已保存。"))
        return redirect("registry:patient_detail", patient_uuid=patient.uuid)
    _record_view(request, patient, "supplementary", Disclosure.FULL, redisplay=form.is_bound)
    context = _patient_context(request, patient, Disclosure.FULL)
    context["form"] = form
    return render(request, "registry/supplementary_edit.html", context)


# --- status and closure --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def status_change(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    patient = get_patient_for_user(request, patient_uuid, write=True)
    closure = _pending_closure(patient)
    data = request.POST if request.method == "POST" else None
    form = StatusChangeForm(
        data, patient=patient, has_pending_closure=closure is not None, proposed=request.GET if data is None else None
    )
    if form.is_bound and form.is_valid():
        values = form.cleaned_data
        try:
            if values["to_status"] == codes.Status.CLOSED:
                services.request_closure(
                    actor=request.user,
                    patient=patient,
                    effective_date=values["effective_date"],
                    reason=values["closure_reason"],
                    note=values["note"],
                )
                done = _("注销申请已提交，需由另一位医生或县级管理人员审核后生效。")
            else:
                services.change_status(
                    actor=request.user,
                    patient=patient,
                    to_status=values["to_status"],
                    effective_date=values["effective_date"],
                    lost_reason=values["lost_reason"],
                    death_cause=values["death_cause"],
                    death_subcause=values["death_subcause"],
                    note=values["note"],
                )
                done = _("状态已变更。")
        except services.RegistryError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, done)
            return redirect("registry:patient_detail", patient_uuid=patient.uuid)
    _record_view(request, patient, "status", Disclosure.FULL, redisplay=form.is_bound)
    context = _patient_context(request, patient, Disclosure.FULL)
    status_panels = render_panels(request, patient, str(Disclosure.FULL), page=STATUS)
    context.update(form=form, closure=closure, status_panels=status_panels)
    return render(request, "registry/status_change.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def closure_review(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID, closure_uuid: uuid.UUID) -> HttpResponse:
    """The second person confirms or rejects a closure; area staff covering the patient may, being no writer."""
    user = request.user
    patient = get_patient_for_user(request, patient_uuid)
    closure = get_closure_for_user(request, closure_uuid, patient=patient, write=True)
    form = ClosureDecisionForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.decide_closure(actor=user, closure=closure, confirm=form.confirm)
        except services.RegistryError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("档案已注销。") if form.confirm else _("注销申请已驳回。"))
            return redirect("registry:patient_detail", patient_uuid=patient.uuid)
    disclosure = disclosure_for(user, request.session, patient)
    _record_view(request, patient, "closure", disclosure, redisplay=form.is_bound)
    context = _patient_context(request, patient, disclosure)
    context.update(
        form=form,
        closure=closure,
        clinical=clinical_facts(patient),
        is_requester=closure.requested_by_id == user.pk,
        is_pending=closure.decision == ClosureRequest.Decision.PENDING,
    )
    return render(request, "registry/closure_review.html", context)
