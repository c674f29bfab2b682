"""The rehabilitation and health-check pages of a patient: the records of one kind and a form to add one, and
ending an ongoing participation.

Patients are reached only through ``followup.visits.pages.clinical_patient`` (404 / 403 as
``registry.access.visibility``, and only at full disclosure); the forms parse, ``followup.rehab.services``
validates and writes; a page view leaves an audit event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from casemgmt.accounts.http import AuthenticatedHttpRequest
from followup.models import HealthCheck, RehabParticipation
from followup.rehab import services
from followup.rehab.forms import EndRehabForm, HealthCheckForm, RehabParticipationForm
from followup.visits.pages import clinical_page, clinical_patient, page_context, viewed
from followup.visits.services import FollowUpError
from registry.models import Patient


def _records_page(
    request: AuthenticatedHttpRequest,
    patient_uuid: uuid.UUID,
    *,
    page: str,
    form_class: type[RehabParticipationForm] | type[HealthCheckForm],
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
    patient = clinical_patient(request, patient_uuid, write=posting)
    form = form_class(request.POST if posting else None)
    if posting and form.is_valid():
        try:
            save(actor=request.user, patient=patient, data=form.service_data())
        except FollowUpError as exc:
            _add_errors(form, exc.errors)
        else:
            messages.success(request, saved_message)
            return redirect(f"followup:{page}", patient_uuid=patient.uuid)
    viewed(request, patient, page, redisplay=posting)
    context = page_context(request, patient, page, form=form, records=records(patient), **extra)
    return render(request, f"followup/{page}.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@clinical_page
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
        end_form=EndRehabForm(auto_id=False),  # one per row, labelled by its wrapping <label>: no duplicate ids
    )


@login_required
@require_POST
@clinical_page
def rehab_end(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID, rehab_uuid: uuid.UUID) -> HttpResponse:
    patient = clinical_patient(request, patient_uuid, write=True)
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
        except FollowUpError as exc:
            problem = " ".join(message for errors in exc.errors.values() for message in errors)
    if problem:
        messages.error(request, problem)
    else:
        messages.success(request, _("康复记录已结束。"))
    return redirect("followup:rehab", patient_uuid=patient.uuid)


@login_required
@require_http_methods(["GET", "POST"])
@clinical_page
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
