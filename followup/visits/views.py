"""The follow-up pages: the doctor's work list, the follow-up form, one follow-up, the timeline and the medication
page (rehabilitation and health checks: ``followup.rehab.views``; the helpers both share: ``followup.visits.pages``).

Views stay thin. Patients are reached only through ``registry.access.visibility`` (the same 404 for missing and not
visible; 403 for writes by read-only users); forms parse; ``followup.visits.services`` validates and writes. The
clinical pages show the history only at full disclosure (``registry.access.disclosure``): county staff state a reason
on the patient page first, and case-team members never see it. Every page that shows or changes patient data
leaves an audit event with UUIDs and no identity, a page re-shown because of bad input too.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from followup import codes
from followup.cases.notices import tell_after_followup
from followup.emergencies.services import close_follow_rows
from followup.models import FollowUp, PatientCareState
from followup.visits import display, queries, services
from followup.visits.drugs import DRUG_NAMES
from followup.visits.forms import (
    MEDICATION_PREFIX,
    BaseMedicationFormSet,
    FollowUpForm,
    MedicationFormSet,
    is_prefilled_regimen,
    regimen_initial,
)
from followup.visits.pages import clinical_page, clinical_patient, page_context, viewed
from registry.models import Patient

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
        close_follow = close_follow_rows(user, today)  # an emergency's close follow-up period (domain.md §9)
        shown = [row.uuid for rows in sections.values() for row in rows]
        shown += [row.patient_uuid for row in close_follow]
        record_event(actor=user, action=Action.LIST, patient_uuids=shown, detail={"page": "worklist"})
        context: dict[str, object] = {
            **sections,
            "without_schedule": work.without_schedule,
            "close_follow": close_follow,
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
    context = page_context(
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
    patient = clinical_patient(request, patient_uuid, write=True)
    if request.method != "POST":
        if not display.accepts_followups(patient):
            messages.error(request, _("该档案已死亡或注销，不能再录入随访。"))
            return redirect("followup:timeline", patient_uuid=patient.uuid)
        form = FollowUpForm()
        formset = MedicationFormSet(prefix=MEDICATION_PREFIX, initial=regimen_initial(queries.current_regimen(patient)))
        viewed(request, patient, "followup_new")
        return _form_page(request, patient, form, formset)
    form = FollowUpForm(request.POST, today=timezone.localdate())
    formset = MedicationFormSet(request.POST, prefix=MEDICATION_PREFIX)
    forms_valid = form.is_valid()
    if formset.is_valid() and forms_valid:
        medications = formset.entries()
        if not form.reached and is_prefilled_regimen(medications, queries.current_regimen(patient)):
            medications = []  # the prefilled rows of a page without JavaScript: nothing was entered
        try:
            followup = services.record_followup(
                actor=request.user,
                patient=patient,
                entry=form.entry(medications),
                submission_key=form.cleaned_data["submission_key"],
            )
        except services.FollowUpError as exc:
            form.apply_service_errors(exc.errors, formset)
        except IntegrityError:  # the key belongs to another patient's follow-up: a tampered or stale form
            form.add_error(None, _("此表单已用于另一次提交，请重新打开随访表。"))
        else:
            # The browser keeps unsaved answers (static/js/drafts.js) until the server confirms the save.
            messages.success(request, _saved_message(followup), extra_tags=f"clear-draft:followup:{patient.uuid}")
            tell_after_followup(request, followup)
            return redirect("followup:timeline", patient_uuid=patient.uuid)
    viewed(request, patient, "followup_new", redisplay=True)
    return _form_page(request, patient, form, formset)


def _saved_message(followup: FollowUp) -> str:
    if followup.is_reached and followup.next_date:
        return _("随访已保存。下次随访日期：%(date)s。") % {"date": followup.next_date.isoformat()}
    return _("随访已保存。")


# --- one follow-up, the timeline, medication --------------------------------------------------------------


@login_required
@require_GET
@clinical_page
def followup_detail(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID, followup_uuid: uuid.UUID
) -> HttpResponse:
    patient = clinical_patient(request, patient_uuid)
    followup = queries.get_followup_for_user(request, followup_uuid, patient=patient)
    medications = list(followup.medications.all())
    record_event(
        actor=request.user,
        action=Action.VIEW,
        patient_uuids=[patient.uuid],
        detail={"page": "followup", "followup": str(followup.uuid)},
    )
    context = page_context(
        request, patient, "timeline", followup=followup, facts=display.followup_facts(followup), medications=medications
    )
    return render(request, "followup/followup_detail.html", context)


@login_required
@require_GET
@clinical_page
def timeline(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    """Follow-ups, status changes, medication changes, rehabilitation and checks, newest first."""
    patient = clinical_patient(request, patient_uuid)
    viewed(request, patient, "timeline")
    return render(
        request, "followup/timeline.html", page_context(request, patient, "timeline", entries=queries.timeline(patient))
    )


@login_required
@require_GET
@clinical_page
def medication(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    """The current regimen, every prescription since registration, and adherence over time."""
    patient = clinical_patient(request, patient_uuid)
    viewed(request, patient, "medication")
    adherence = [
        (day, value, display.label_of(codes.Adherence, value), display.ADHERENCE_CSS.get(value or 0, "unknown"))
        for day, value in queries.adherence_over_time(patient)
    ]
    context = page_context(
        request,
        patient,
        "medication",
        regimen=queries.current_regimen(patient),
        history=queries.medication_history(patient),
        adherence=adherence,
        adherence_legend=[(label, display.ADHERENCE_CSS[value]) for value, label in codes.Adherence.choices],
    )
    return render(request, "followup/medication.html", context)
