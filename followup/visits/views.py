"""The follow-up pages: the doctor's work list, the follow-up form, one follow-up, the timeline, the medication
page, rehabilitation participation and the annual health check.

Views stay thin. Patients are reached only through ``registry.access.visibility`` (the same 404 for missing and not
visible; 403 for writes by read-only users); forms parse; ``followup.visits.services`` validates and writes. The
clinical pages show the history only at full disclosure (``registry.access.disclosure``): county staff state a reason
on the patient page first, and case-team members never see it. Every page that shows or changes patient data
leaves an audit event with UUIDs and no identity; a page re-shown because of bad input writes nothing.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from followup import codes
from followup.cases import views as case_views
from followup.models import FollowUp, HealthCheck, PatientCareState, RehabParticipation
from followup.visits import display, queries, services
from followup.visits.drugs import DRUG_NAMES
from followup.visits.forms import (
    MEDICATION_PREFIX,
    EndRehabForm,
    FollowUpForm,
    HealthCheckForm,
    MedicationFormSet,
    RehabParticipationForm,
    is_prefilled_regimen,
    regimen_initial,
)
from registry.access.disclosure import Disclosure, disclosure_for
from registry.access.visibility import can_view_access_log, can_write, get_patient_for_user
from registry.models import Patient

if TYPE_CHECKING:
    from followup.visits.forms import BaseMedicationFormSet

# --- shared helpers ------------------------------------------------------------------------------------------


class NeedsReason(Exception):
    """County staff reach a clinical page before stating why they open the record."""

    def __init__(self, patient: Patient) -> None:
        super().__init__(str(patient.uuid))
        self.patient = patient


def _clinical_patient(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID, *, write: bool = False) -> Patient:
    """The patient, if this user may read the clinical history (404 / 403 as ``get_patient_for_user``).

    Case-team members (limited disclosure) get 404, as for a patient they do not see; county staff who have not
    stated a reason are sent to the patient page, where they can (``NeedsReason``, handled by ``_clinical_page``).
    """
    patient = get_patient_for_user(request, patient_uuid)
    disclosure = disclosure_for(request.user, request.session, patient)
    if disclosure == Disclosure.LIMITED:
        raise Http404  # the case team never learns the clinical pages exist (domain.md §8)
    if write and not can_write(request.user, patient):
        raise PermissionDenied
    if disclosure == Disclosure.MASKED:
        raise NeedsReason(patient)
    return patient


def _ask_for_reason(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    messages.info(request, _("查看随访记录前，请先在档案页说明查看理由。"))
    return redirect("registry:patient_detail", patient_uuid=patient.uuid)


def _context(request: AuthenticatedHttpRequest, patient: Patient, tab: str, **extra: object) -> dict[str, object]:
    """What the patient header (the registry's) and the follow-up tabs need."""
    user = request.user
    return {
        "patient": patient,
        "patient_title": patient.name,
        "can_write": can_write(user, patient),
        "can_view_access_log": can_view_access_log(user, patient),
        "accepts_followups": display.accepts_followups(patient),
        "tab": tab,
        **extra,
    }


def _viewed(request: AuthenticatedHttpRequest, patient: Patient, page: str) -> None:
    record_event(actor=request.user, action=Action.VIEW, patient_uuids=[patient.uuid], detail={"page": page})


# --- the work list -------------------------------------------------------------------------------------------

SHOWN_PER_SECTION = 50  # rows per section on the page; "more" shows a section up to queries.WORK_LIST_LIMIT


@login_required
@require_GET
def worklist(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A doctor's overdue, due-soon, unstable and not-reached patients; area staff get overdue counts per
    township (aggregates, no identity)."""
    user = request.user
    today = timezone.localdate()
    if user.is_doctor:
        work = queries.work_list(user, today, shown=SHOWN_PER_SECTION, expanded=request.GET.get("more", ""))
        sections = {
            name: display.work_rows(items)
            for name, items in (
                ("overdue", work.overdue),
                ("due_soon", work.due_soon),
                ("unstable", work.unstable),
                ("not_reached", work.not_reached),
            )
        }
        shown = [row.uuid for rows in sections.values() for row in rows]
        record_event(actor=user, action=Action.LIST, patient_uuids=shown, detail={"page": "worklist"})
        context: dict[str, object] = {
            **sections,
            "without_schedule": work.without_schedule,
            "totals": work.totals,
            "fetched": {name: min(total, queries.WORK_LIST_LIMIT) for name, total in work.totals.items()},
            "today": today,
        }
        return render(request, "followup/worklist.html", context)
    if user.is_area_staff:
        counts = queries.overdue_counts_by_township(user, today)
        record_event(actor=user, action=Action.LIST, detail={"page": "overdue_counts", "townships": len(counts)})
        totals = (sum(overdue for _a, overdue, _t in counts), sum(total for _a, _o, total in counts))
        return render(request, "followup/overdue_counts.html", {"counts": counts, "totals": totals, "today": today})
    raise PermissionDenied


# --- the follow-up form --------------------------------------------------------------------------------------


def _form_page(
    request: AuthenticatedHttpRequest, patient: Patient, form: FollowUpForm, formset: BaseMedicationFormSet
) -> HttpResponse:
    today = timezone.localdate()
    config = display.form_config(
        history=services.attempts_of(patient), registered_on=patient.registered_on, today=today
    )
    context = _context(
        request,
        patient,
        "new",
        form=form,
        formset=formset,
        drug_names=DRUG_NAMES,
        config=config,
        state=display.panel(
            patient,
            PatientCareState.objects.filter(patient=patient).first(),
            can_write=True,
            can_read_clinical=True,
            today=today,
        ),
    )
    return render(request, "followup/followup_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def followup_new(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    """Record one follow-up. The hidden submission key makes a double tap, refresh or retry save it once.

    A POST goes to the service even for a dead or withdrawn record: the service answers a repeated key with the
    follow-up already saved (the second tap after a "dead" outcome) and refuses anything new with its message.
    """
    patient = _clinical_patient(request, patient_uuid, write=True)
    if request.method != "POST":
        if not display.accepts_followups(patient):
            messages.error(request, _("该档案已死亡或注销，不能再录入随访。"))
            return redirect("followup:timeline", patient_uuid=patient.uuid)
        form = FollowUpForm()
        formset = MedicationFormSet(prefix=MEDICATION_PREFIX, initial=regimen_initial(queries.current_regimen(patient)))
        _viewed(request, patient, "followup_new")
        return _form_page(request, patient, form, formset)
    form = FollowUpForm(request.POST)
    formset = MedicationFormSet(request.POST, prefix=MEDICATION_PREFIX)
    forms_valid = form.is_valid()
    if formset.is_valid() and forms_valid:
        medications = formset.rows()
        if not form.reached and is_prefilled_regimen(medications, queries.current_regimen(patient)):
            medications = []  # the prefilled rows of a page without JavaScript: nothing was entered
        try:
            followup = services.record_followup(
                actor=request.user,
                patient=patient,
                data=form.service_data(),
                medications=medications,
                submission_key=form.cleaned_data["submission_key"],
                today=timezone.localdate(),
            )
        except services.FollowUpError as exc:
            form.apply_service_errors(exc.errors, formset)
        except IntegrityError:  # the key belongs to another patient's follow-up: a tampered or stale form
            form.add_error(None, _("此表单已用于另一次提交，请重新打开随访表。"))
        else:
            messages.success(request, _saved_message(followup))
            case_views.tell_after_followup(request, followup)
            return redirect("followup:timeline", patient_uuid=patient.uuid)
    return _form_page(request, patient, form, formset)


def _saved_message(followup: FollowUp) -> str:
    if followup.is_reached and followup.next_date:
        return _("随访已保存。下次随访日期：%(date)s。") % {"date": followup.next_date.isoformat()}
    return _("随访已保存。")


# --- one follow-up, the timeline, medication --------------------------------------------------------------


def _clinical_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turns ``NeedsReason`` into the redirect to the patient page."""

    @functools.wraps(view)
    def wrapped(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response: HttpResponse = view(request, *args, **kwargs)
        except NeedsReason as exc:
            return _ask_for_reason(request, exc.patient)
        return response

    return wrapped


@login_required
@require_GET
@_clinical_page
def followup_detail(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID, followup_uuid: uuid.UUID
) -> HttpResponse:
    patient = _clinical_patient(request, patient_uuid)
    followup = FollowUp.objects.filter(patient=patient, uuid=followup_uuid).select_related("doctor").first()
    if followup is None:
        raise Http404
    medications = list(followup.medications.all())
    record_event(
        actor=request.user,
        action=Action.VIEW,
        patient_uuids=[patient.uuid],
        detail={"page": "followup", "followup": str(followup.uuid)},
    )
    context = _context(
        request, patient, "timeline", followup=followup, facts=display.followup_facts(followup), medications=medications
    )
    return render(request, "followup/followup_detail.html", context)


@login_required
@require_GET
@_clinical_page
def timeline(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    """Follow-ups, status changes, medication changes, rehabilitation and checks, newest first."""
    patient = _clinical_patient(request, patient_uuid)
    _viewed(request, patient, "timeline")
    return render(
        request, "followup/timeline.html", _context(request, patient, "timeline", entries=queries.timeline(patient))
    )


@login_required
@require_GET
@_clinical_page
def medication(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    """The current regimen, every prescription since registration, and adherence over time."""
    patient = _clinical_patient(request, patient_uuid)
    _viewed(request, patient, "medication")
    adherence = [
        (day, value, display.label_of(codes.Adherence, value), display.ADHERENCE_CSS.get(value or 0, "unknown"))
        for day, value in queries.adherence_over_time(patient)
    ]
    context = _context(
        request,
        patient,
        "medication",
        regimen=queries.current_regimen(patient),
        history=queries.medication_history(patient),
        adherence=adherence,
        adherence_legend=[(label, display.ADHERENCE_CSS[value]) for value, label in codes.Adherence.choices],
    )
    return render(request, "followup/medication.html", context)


# --- rehabilitation and health check -------------------------------------------------------------------------


def _records_page(
    request: AuthenticatedHttpRequest,
    patient_uuid: uuid.UUID,
    *,
    page: str,
    form_class: Any,
    save: Callable[..., object],
    saved_message: str,
    records: Callable[[Patient], object],
    **extra: object,
) -> HttpResponse:
    """A patient's records of one kind and a form to add one (rehabilitation, health checks).

    GET shows them (audited as a view); POST validates the form, calls ``save`` (a service that raises
    FollowUpError with per-field messages) and redirects back, or shows the form with its errors.
    """
    posting = request.method == "POST"
    patient = _clinical_patient(request, patient_uuid, write=posting)
    form = form_class(request.POST if posting else None)
    if posting and form.is_valid():
        try:
            save(actor=request.user, patient=patient, data=form.service_data())
        except services.FollowUpError as exc:
            _add_errors(form, exc.errors)
        else:
            messages.success(request, saved_message)
            return redirect(f"followup:{page}", patient_uuid=patient.uuid)
    if not posting:
        _viewed(request, patient, page)
    context = _context(request, patient, page, form=form, records=records(patient), **extra)
    return render(request, f"followup/{page}.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@_clinical_page
def rehab(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    """Participation in community rehabilitation (§10): the records, and a form for the patient's doctors."""
    return _records_page(
        request,
        patient_uuid,
        page="rehab",
        form_class=RehabParticipationForm,
        save=services.record_rehab_participation,
        saved_message=_("康复记录已保存。"),
        records=lambda patient: RehabParticipation.objects.filter(patient=patient).select_related("recorded_by"),
        end_form=EndRehabForm(),
    )


@login_required
@require_POST
@_clinical_page
def rehab_end(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID, rehab_uuid: uuid.UUID) -> HttpResponse:
    patient = _clinical_patient(request, patient_uuid, write=True)
    participation = RehabParticipation.objects.filter(patient=patient, uuid=rehab_uuid).first()
    if participation is None:
        raise Http404
    form = EndRehabForm(request.POST)
    problem = None
    if participation.end_date is not None:
        problem = _("该康复记录已结束。")
    elif not form.is_valid():
        problem = " ".join(str(e) for errors in form.errors.values() for e in errors)
    else:
        end_date = form.cleaned_data["end_date"]
        try:
            services.end_rehab_participation(actor=request.user, participation=participation, end_date=end_date)
        except services.FollowUpError as exc:
            problem = " ".join(message for errors in exc.errors.values() for message in errors)
    if problem:
        messages.error(request, problem)
    else:
        messages.success(request, _("康复记录已结束。"))
    return redirect("followup:rehab", patient_uuid=patient.uuid)


@login_required
@require_http_methods(["GET", "POST"])
@_clinical_page
def health_check(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    """The annual health check: the records, and a form for the patient's doctors."""
    return _records_page(
        request,
        patient_uuid,
        page="health_check",
        form_class=HealthCheckForm,
        save=services.record_health_check,
        saved_message=_("体检记录已保存。"),
        records=lambda patient: HealthCheck.objects.filter(patient=patient).select_related("recorded_by"),
    )


def _add_errors(form: forms.BaseForm, errors: dict[str, list[str]]) -> None:
    for field, field_messages in errors.items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)
