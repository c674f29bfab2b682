"""Emergency pages: the list (with late records and close follow-ups), recording for a patient or for a person
not registered yet, one record, amending/completing it, and linking it to a patient.

Views stay thin: patients come from ``registry.access.visibility.get_patient_for_user``, records from
``emergency_services.get_emergency_for_user`` (the same 404 for missing and not yours); writes go through
``emergency_services``. County staff see masked identity and cannot write (403); case-team members do not reach
these pages (403): emergency history is clinical history (domain.md §8).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, TypedDict

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
from followup.emergencies import services
from followup.emergencies.forms import EmergencyForm, LinkForm, PersonForm
from followup.models import Emergency, EmergencyMeasure, EmergencySituation
from registry.access.visibility import can_view_access_log, can_write, get_patient_for_user
from registry.models import Patient

if TYPE_CHECKING:
    from casemgmt.accounts.models import User
    from casemgmt.areas.models import Area

LIST_LIMIT = 100


def _staff(request: AuthenticatedHttpRequest) -> User:
    """Doctors and area staff; anyone else (a case-team member, an administrator) is told nothing exists here."""
    user = request.user
    if not (user.is_doctor or user.is_area_staff):
        raise Http404
    return user


def _subjects(emergency: Emergency) -> list[uuid.UUID]:
    return [emergency.patient.uuid] if emergency.patient is not None else []


@login_required
@require_GET
def emergency_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = _staff(request)
    now = timezone.now()
    today = timezone.localdate()
    masked = bool(user.is_area_staff)
    visible = services.emergencies_visible_to(user).select_related("patient", "area")
    late = services.rows(
        visible.filter(services.open_late_q(now)).order_by("occurred_at")[:LIST_LIMIT], masked=masked, now=now
    )
    recent = services.rows(visible.order_by("-occurred_at", "-id")[:LIST_LIMIT], masked=masked, now=now)
    close = services.close_follow_rows(user, today) if user.is_doctor else []
    shown = {r.patient_uuid for r in (*late, *recent) if r.patient_uuid} | {r.patient_uuid for r in close}
    record_event(actor=user, action=Action.LIST, patient_uuids=shown, detail={"page": "emergencies"})
    context = {"late": late, "recent": recent, "close": close, "today": today, "masked": masked}
    return render(request, "followup/emergency/list.html", context)


def _form_page(request: AuthenticatedHttpRequest, template_context: dict[str, object]) -> HttpResponse:
    return render(request, "followup/emergency/form.html", template_context)


class _Person(TypedDict, total=False):
    """Who an emergency of a person not registered yet concerns (``record_emergency``'s keywords)."""

    area: Area | None
    person_name: str
    person_national_id: str


def _save_new(
    request: AuthenticatedHttpRequest, form: EmergencyForm, *, patient: Patient | None, person: PersonForm | None
) -> Emergency | None:
    person_ok = person is None or person.is_valid()
    if not (form.is_valid() and person_ok):
        return None
    extra: _Person = {}
    if person is not None:
        extra = {
            "area": person.villages.get(person.cleaned_data["area"]),
            "person_name": person.cleaned_data["person_name"],
            "person_national_id": person.cleaned_data["person_national_id"],
        }
    try:
        return services.record_emergency(
            actor=request.user,
            values=form.values(),
            handler=form.cleaned_data.get("handler"),
            complete=form.cleaned_data["complete"],
            now=timezone.now(),
            patient=patient,
            **extra,
        )
    except services.EmergencyError as exc:
        person_errors = {k: v for k, v in exc.errors.items() if person is not None and k in person.fields}
        form.apply_errors({k: v for k, v in exc.errors.items() if k not in person_errors})
        if person is not None:
            for name, msgs in person_errors.items():
                for message in msgs:
                    person.add_error(name, message)
        return None


def _saved(request: AuthenticatedHttpRequest, emergency: Emergency) -> HttpResponse:
    if emergency.completed_at is not None:
        messages.success(request, _("应急处置记录已完成。"))
    else:
        messages.warning(request, _("应急处置记录已保存，尚未完成；请在事件发生后24小时内补全并标记完成。"))
    return redirect("followup:emergency_detail", emergency_uuid=emergency.uuid)


def _form_context(form: EmergencyForm, **extra: object) -> dict[str, object]:
    return {"form": form, "medication": EmergencyMeasure.MEDICATION, "situations": EmergencySituation, **extra}


@login_required
@require_http_methods(["GET", "POST"])
def emergency_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """An emergency of a person who is not registered yet (only doctors record)."""
    user = _staff(request)
    if not user.is_doctor:
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    form = EmergencyForm(
        data,
        user=user,
        initial=None if data else {"occurred_at": timezone.localtime().replace(second=0, microsecond=0)},
    )
    person = PersonForm(data, user=user)
    if data is not None:
        emergency = _save_new(request, form, patient=None, person=person)
        if emergency is not None:
            return _saved(request, emergency)
    return _form_page(request, _form_context(form, person=person, action="new"))


@login_required
@require_http_methods(["GET", "POST"])
def emergency_new_for_patient(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    patient = get_patient_for_user(request, patient_uuid, write=True)
    data = request.POST if request.method == "POST" else None
    form = EmergencyForm(
        data,
        user=request.user,
        initial=None if data else {"occurred_at": timezone.localtime().replace(second=0, microsecond=0)},
    )
    if data is not None:
        emergency = _save_new(request, form, patient=patient, person=None)
        if emergency is not None:
            return _saved(request, emergency)
    detail: dict[str, object] = {"page": "emergency_new"}
    if data is not None:  # re-shown after bad input: it shows the record again
        detail["redisplay"] = True
    record_event(actor=request.user, action=Action.VIEW, patient_uuids=[patient.uuid], detail=detail)
    context = _form_context(
        form,
        patient=patient,
        patient_title=patient.name,
        can_write=True,
        can_view_access_log=can_view_access_log(request.user, patient),
        action="new_for_patient",
    )
    return _form_page(request, context)


@login_required
@require_GET
def emergency_detail(request: AuthenticatedHttpRequest, emergency_uuid: uuid.UUID) -> HttpResponse:
    emergency = services.get_emergency_for_user(request, emergency_uuid)
    user = request.user
    now = timezone.now()
    masked = bool(user.is_area_staff)
    writable = services.can_write_emergency(user, emergency)
    record_event(
        actor=user,
        action=Action.VIEW,
        patient_uuids=_subjects(emergency),
        detail={"page": "emergency", "emergency": str(emergency.uuid), "masked": masked},
    )
    labels = dict(EmergencySituation.choices)
    measure_labels = dict(EmergencyMeasure.choices)
    close = None
    if emergency.patient is not None and not masked:
        close = services.close_follow_for(emergency.patient, timezone.localdate())
    context = {
        "emergency": emergency,
        "name": services.identity_of(emergency, masked=masked),
        "national_id": "" if masked or emergency.patient is not None else emergency.person_national_id,
        "place": "" if masked else emergency.place,
        "situations": [labels.get(s, s) for s in emergency.situations],
        "measures": [measure_labels.get(m, m) for m in emergency.measures],
        "late": emergency.is_late(now),
        "can_write": writable and emergency.completed_at is None,
        "can_link": writable and emergency.patient is None,
        "link_form": LinkForm(),
        "close": close,
        "patient_link": emergency.patient is not None and not masked,
    }
    return render(request, "followup/emergency/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def emergency_edit(request: AuthenticatedHttpRequest, emergency_uuid: uuid.UUID) -> HttpResponse:
    emergency = services.get_emergency_for_user(request, emergency_uuid, write=True)
    if emergency.completed_at is not None:
        messages.info(request, _("该记录已完成，不能再修改。"))
        return redirect("followup:emergency_detail", emergency_uuid=emergency.uuid)
    data = request.POST if request.method == "POST" else None
    form = EmergencyForm(data, user=request.user, instance=emergency)
    if data is not None and form.is_valid():
        try:
            saved = services.update_emergency(
                actor=request.user,
                emergency=emergency,
                values=form.values(),
                handler=form.cleaned_data.get("handler"),
                complete=form.cleaned_data["complete"],
                now=timezone.now(),
            )
        except services.EmergencyError as exc:
            form.apply_errors(exc.errors)
        else:
            return _saved(request, saved)
    detail: dict[str, object] = {"page": "emergency_edit", "emergency": str(emergency.uuid)}
    if data is not None:  # re-shown after bad input: it shows the record again
        detail["redisplay"] = True
    record_event(actor=request.user, action=Action.VIEW, patient_uuids=_subjects(emergency), detail=detail)
    return _form_page(request, _form_context(form, emergency=emergency, action="edit"))


@login_required
@require_POST
def emergency_link(request: AuthenticatedHttpRequest, emergency_uuid: uuid.UUID) -> HttpResponse:
    emergency = services.get_emergency_for_user(request, emergency_uuid, write=True)
    form = LinkForm(request.POST)
    number = form.cleaned_data["national_id"] if form.is_valid() else ""
    try:
        linked = services.link_emergency(actor=request.user, emergency=emergency, national_id=number)
    except services.EmergencyError as exc:
        for msgs in exc.errors.values():
            for message in msgs:
                messages.error(request, message)
    else:
        if linked.patient is not None and can_write(request.user, linked.patient):
            messages.success(request, _("已关联到患者档案。"))
    return redirect("followup:emergency_detail", emergency_uuid=emergency.uuid)
