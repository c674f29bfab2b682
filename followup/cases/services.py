"""Case management of unstable patients (个案管理, domain.md §8): opening, the team and its grants, the plan,
contacts, closing, the lists and the indicators' case spans.

Who checked permission:

- ``after_followup`` (opening, or closing at a death) runs inside ``followup.visits.services.record_followup`` (the
  patient row is locked there; the caller checked write access).
- ``add_member`` / ``remove_member`` / ``update_plan`` / ``close_case``: the view reached the case through
  ``get_case_for_user(write=True)`` (404 / 403 otherwise); ``can_manage`` is checked again here.
- ``record_contact``: the view reached the case through ``get_case_for_user``; the actor must be one of the
  patient's doctors or an active member of the team (checked here under the case's row lock).

A team member who is not one of the patient's doctors reaches the patient through a django-guardian grant
(``registry.PatientUserObjectPermission``: granted by, reason, expiry). The grant ends (its expiry is set to
now, so the row stays as history) when the member is removed or the case closes; ``Patient.objects.visible_to``
ignores it from then on, and from its expiry date on. Every grant and revocation writes an audit event.
Opening and closing announce the change to the indicators (open cases at the cut-off) inside the transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Substr
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import Role, User
from casemgmt.areas.codes import ancestor_codes
from casemgmt.areas.models import Area
from casemgmt.areas.scope import within
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from casemgmt.readdb import read_alias
from followup.codes import Classification, Outcome
from followup.models import (
    Case,
    CaseCloseReason,
    CaseContact,
    CaseMember,
    CaseOpenReason,
    CaseRole,
    FollowUp,
    PatientCareState,
)
from registry import codes as registry_codes
from registry.access.visibility import can_write, visible_patients
from registry.models import Patient, PatientUserObjectPermission, SupplementaryForm
from registry.patients import masking
from registry.signals import announce_patient_change

Errors = dict[str, list[str]]
GRANT_REASON = "个案管理团队"  # stored on the grant (a code-like label, shown on the access page as is)
HIGH_RISK = 3
PLAN_FIELDS = ("goals", "treatment", "rehabilitation", "risk_prevention", "family_support", "review_date")
CONTACT_FIELDS = ("date", "mode", "who", "findings", "actions")
PHONE = re.compile(r"[0-9+\-() ]{3,20}")  # the registry form's phone rule


class CaseError(Exception):
    """Invalid or refused: ``errors`` maps a field name (``__all__`` for the case) to Chinese messages."""

    def __init__(self, errors: Errors) -> None:
        super().__init__("; ".join(" ".join(v) for v in errors.values()))
        self.errors = errors


def _refuse(message: str) -> CaseError:
    return CaseError({"__all__": [message]})


# --- the opening rule (pure) -----------------------------------------------------------------------------------


def open_reasons(*, classification: int | None, risk_level: int | None, trouble_history: bool) -> list[str]:
    """Why a reached follow-up opens a case (domain.md §8); empty when it does not."""
    reasons = []
    if classification == Classification.UNSTABLE:
        reasons.append(CaseOpenReason.UNSTABLE.value)
    if risk_level is not None and risk_level >= HIGH_RISK:
        reasons.append(CaseOpenReason.RISK.value)
    if trouble_history:
        reasons.append(CaseOpenReason.HISTORY.value)
    return reasons


def suggests_closing(recent_classifications: Iterable[int | None]) -> bool:
    """Two consecutive stable reached follow-ups (newest first) suggest closing the case."""
    last_two = list(recent_classifications)[:2]
    return len(last_two) == 2 and all(c == Classification.STABLE for c in last_two)


# --- access ----------------------------------------------------------------------------------------------------


def can_manage(user: User, case: Case) -> bool:
    """Team, plan and closing belong to the patient's doctors (never to a grant)."""
    return can_write(user, case.patient)


def is_active_member(user: User, case: Case) -> bool:
    return case.members.filter(user=user, removed_at__isnull=True).exists()


def cases_visible_to(user: User) -> QuerySet[Case]:
    """Every case of a patient the user sees (the one rule, ``Patient.objects.visible_to``); lists start here."""
    return Case.objects.filter(patient__in=visible_patients(user).values("pk"))


def get_case_for_user(request: AuthenticatedHttpRequest, case_uuid: uuid.UUID | str, *, write: bool = False) -> Case:
    """The case, for its patient's doctors (who manage it) and the active members of its team.

    404 for a case that does not exist, whose patient the user does not see, or (a grant-only user) on whose team
    the user is not; 403 for area staff (read-only here, they have the county overview) and, with ``write``
    (managing the team, the plan, closing), for team members who are not the patient's doctors.
    """
    user = request.user
    case = (
        cases_visible_to(user)
        .filter(uuid=case_uuid)
        .select_related("patient", "patient__village", "opened_by", "closed_by")
        .first()
    )
    if case is None:
        raise Http404
    if can_manage(user, case):
        return case
    if user.is_area_staff:
        raise PermissionDenied
    if not is_active_member(user, case):
        raise Http404
    if write:
        raise PermissionDenied
    return case


# --- grants ----------------------------------------------------------------------------------------------------


def grant_expiry(case: Case, today: dt.date) -> dt.datetime:
    """The plan's review date plus ``CASE_GRANT_MARGIN_DAYS``, or ``CASE_GRANT_DAYS`` from today without one."""
    if case.review_date is not None and case.review_date >= today:
        day = case.review_date + dt.timedelta(days=settings.CASE_GRANT_MARGIN_DAYS)
    else:
        day = today + dt.timedelta(days=settings.CASE_GRANT_DAYS)
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def _view_permission() -> Permission:
    return Permission.objects.get(codename="view_patient", content_type__app_label="registry")


def _grant(actor: User, case: Case, user: User, today: dt.date) -> PatientUserObjectPermission:
    """Create the user's grant on the patient, or renew the one row django-guardian allows per user and patient."""
    grant, _created = PatientUserObjectPermission.objects.select_for_update().update_or_create(
        user=user,
        permission=_view_permission(),
        content_object=case.patient,
        defaults={
            "granted_by": actor,
            "reason": GRANT_REASON,
            "granted_at": timezone.now(),
            "expires_at": grant_expiry(case, today),
        },
    )
    _audit(actor, case, "grant", member_user=user, expires_at=grant.expires_at)
    return grant


def _revoke(actor: User, case: Case, member: CaseMember, step: str) -> None:
    if member.grant_id is None:
        return
    now = timezone.now()
    ended = PatientUserObjectPermission.objects.filter(pk=member.grant_id).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    if ended.update(expires_at=now):
        _audit(actor, case, "revoke", member_user=member.user, cause=step)


def _audit(
    actor: User | None,
    case: Case,
    step: str,
    *,
    member_user: User | None = None,
    expires_at: dt.datetime | None = None,
    **extra: object,
) -> None:
    detail: dict[str, object] = {"case": str(case.uuid), "step": step}
    if member_user is not None:
        detail["member_user"] = str(member_user.uuid)
    if expires_at is not None:
        detail["expires_at"] = expires_at.isoformat()
    detail.update(extra)
    action = Action.CREATE if step in ("open", "grant", "add_member", "contact") else Action.UPDATE
    record_event(actor=actor, action=action, patient_uuids=[case.patient.uuid], detail=detail)


# --- opening (called by record_followup) ------------------------------------------------------------------------


def trouble_history_without_case(patient: Patient) -> bool:
    """肇事 or 肇祸 recorded on the supplementary form or on any follow-up, for a patient who never had a case:
    one query (a record that already had a case was opened for this history, or closed despite it)."""
    history = Q(trouble__gt=0) | Q(disaster__gt=0)
    return (
        Patient.objects.filter(pk=patient.pk)
        .filter(
            Exists(SupplementaryForm.objects.filter(history, patient=OuterRef("pk")))
            | Exists(FollowUp.objects.filter(history, patient=OuterRef("pk")))
        )
        .exclude(Exists(Case.objects.filter(patient=OuterRef("pk"))))
        .exists()
    )


def after_followup(*, actor: User, patient: Patient, followup: FollowUp) -> Case | None:
    """The case side of a saved follow-up (called by ``record_followup`` in its transaction, patient row locked):
    a death closes the open case (reason: death; the team's grants end), anything else may open one."""
    if followup.outcome == Outcome.DEAD:
        case = Case.objects.select_for_update().filter(patient=patient, closed_on__isnull=True).first()
        if case is not None:  # a consequence of the recorded death, whoever recorded it
            day = max(followup.death_date or followup.date, case.opened_on)
            _close_locked(actor, case, CaseCloseReason.DEATH, "", day)
        return None
    return open_case_for_followup(actor=actor, patient=patient, followup=followup)


def close_case_when_record_ends(
    *, patient_id: int, status: str, effective_date: dt.date, actor: User, **_signal: object
) -> None:
    """Receiver of ``registry.signals.patient_record_ended`` (in the registry's transaction): a death recorded on
    the status page closes the open case (reason: death), a confirmed closure of the record closes it too
    (reason: record closed); the team's grants end either way."""
    case = Case.objects.select_for_update().filter(patient_id=patient_id, closed_on__isnull=True).first()
    if case is None:
        return
    reason = CaseCloseReason.DEATH if status == registry_codes.Status.DEAD else CaseCloseReason.RECORD_CLOSED
    _close_locked(actor, case, reason, "", max(effective_date, case.opened_on))


def open_case_for_followup(*, actor: User, patient: Patient, followup: FollowUp) -> Case | None:
    """Open a case when the reached follow-up calls for one and none is open; returns the case it opened.

    The history of 肇事/肇祸 opens a case when this follow-up records such an event, or when the patient never had
    a case; otherwise a case closed after two stable follow-ups would reopen at the next stable one. Idempotent
    and race-safe: the caller holds the patient's row lock, and "one open case per patient" is a unique
    constraint whose violation (a racing writer that did not lock) leaves the existing case in place.
    """
    if followup.outcome != Outcome.REACHED or patient.status not in registry_codes.REGISTERED_STATUSES:
        return None
    if Case.objects.filter(patient=patient, closed_on__isnull=True).exists():
        return None
    recorded_now = followup.trouble > 0 or followup.disaster > 0
    history = recorded_now or trouble_history_without_case(patient)
    reasons = open_reasons(
        classification=followup.classification, risk_level=followup.risk_level, trouble_history=history
    )
    if not reasons:
        return None
    try:
        with transaction.atomic():
            case = Case.objects.create(
                patient=patient, opened_on=followup.date, opened_reasons=reasons, opened_by=actor, opened_from=followup
            )
    except IntegrityError:
        return None  # another writer opened it first: one open case is the outcome either way
    _audit(actor, case, "open", reasons=reasons)
    announce_patient_change(patient_id=patient.pk, since=case.opened_on)
    return case


def opened_by_followup(followup: FollowUp) -> Case | None:
    return Case.objects.filter(opened_from=followup).first()


def open_case_of(patient: Patient) -> Case | None:
    return Case.objects.filter(patient=patient, closed_on__isnull=True).first()


def closing_suggested(case: Case) -> bool:
    if not case.is_open:
        return False
    recent = (
        FollowUp.objects.reached()
        .filter(patient_id=case.patient_id, date__gte=case.opened_on)
        .order_by("-date", "-id")
        .values_list("classification", flat=True)[:2]
    )
    return suggests_closing(recent)


# --- closing ---------------------------------------------------------------------------------------------------


def close_case(*, actor: User, case: Case, reason: str, note: str = "", today: dt.date) -> Case:
    """Close an open case with a reason; every grant the team received ends. A closed case stays closed."""
    errors: Errors = {}
    if reason not in CaseCloseReason.values:
        errors["reason"] = [_("请选择结案原因。")]
    note = (note or "").strip()
    if reason == CaseCloseReason.OTHER and not note:
        errors["note"] = [_("选择“其他”时请填写结案说明。")]
    if errors:
        raise CaseError(errors)
    with transaction.atomic():
        locked = _locked(case)
        if not can_manage(actor, locked):
            raise _refuse(_("只有患者所在辖区的精防医生可以结案。"))
        if not locked.is_open:
            raise _refuse(_("该个案已于%(day)s结案，无需重复结案。") % {"day": locked.closed_on})
        if today < locked.opened_on:
            raise CaseError({"__all__": [_("结案日期不能早于开案日期。")]})
        _close_locked(actor, locked, reason, note, today)
    return locked


def _close_locked(actor: User, locked: Case, reason: str, note: str, day: dt.date) -> None:
    locked.closed_on, locked.close_reason, locked.close_note, locked.closed_by = day, reason, note, actor
    locked.save(update_fields=["closed_on", "close_reason", "close_note", "closed_by"])
    for member in locked.members.filter(removed_at__isnull=True, grant__isnull=False).select_related("user"):
        _revoke(actor, locked, member, "close")
    _audit(actor, locked, "close", reason=reason)
    announce_patient_change(patient_id=locked.patient_id, since=day)


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("patient", "patient__village").get(pk=case.pk)


# --- the team --------------------------------------------------------------------------------------------------


def add_member(
    *,
    actor: User,
    case: Case,
    role: str,
    user: User | None = None,
    person_name: str = "",
    person_phone: str = "",
    today: dt.date,
) -> CaseMember:
    """Add a system user or an external person (name and phone, no login) to the team of an open case.

    A user who is not one of the patient's doctors receives a grant on this patient only. The same user twice
    is refused with a clear message (the case row is locked, and a unique constraint backs it under a race).
    """
    person_name, person_phone = (person_name or "").strip(), (person_phone or "").strip()
    errors: Errors = {}
    if role not in CaseRole.values:
        errors["role"] = [_("请选择团队角色。")]
    if user is None and not person_name:
        errors["user"] = [_("请选择系统用户，或填写外部人员的姓名和电话。")]
    if user is not None and (person_name or person_phone):
        errors["person_name"] = [_("系统用户无需填写姓名和电话。")]
    if user is not None and (not user.is_active or not addable_users(case).filter(pk=user.pk).exists()):
        errors["user"] = [_("只能添加患者所在县/区的个案管理团队成员或患者所在辖区精防医生的账号。")]
    if person_phone and not PHONE.fullmatch(person_phone):
        errors["person_phone"] = [_("请填写正确的联系电话。")]
    if errors:
        raise CaseError(errors)
    try:
        with transaction.atomic():
            locked = _locked(case)
            if not can_manage(actor, locked):
                raise _refuse(_("只有患者所在辖区的精防医生可以管理团队。"))
            if not locked.is_open:
                raise _refuse(_("该个案已结案，不能再添加成员。"))
            if user is not None and locked.members.filter(user=user, removed_at__isnull=True).exists():
                raise _refuse(_("%(name)s 已在团队中，无需重复添加。") % {"name": user})
            member = CaseMember(
                case=locked, role=role, user=user, person_name=person_name, person_phone=person_phone, added_by=actor
            )
            if user is not None and not can_write(user, locked.patient):
                member.grant = _grant(actor, locked, user, today)
            member.save()
            _audit(
                actor, locked, "add_member", member=str(member.uuid), role=role, external=user is None, member_user=user
            )
    except IntegrityError as exc:  # a racing request added the same user between our check and insert
        if user is None:
            raise
        raise _refuse(_("%(name)s 已在团队中，无需重复添加。") % {"name": user}) from exc
    return member


def remove_member(*, actor: User, member: CaseMember) -> CaseMember:
    """Remove a member from the team (kept as history); the grant the membership gave ends now."""
    with transaction.atomic():
        locked_case = _locked(member.case)
        if not can_manage(actor, locked_case):
            raise _refuse(_("只有患者所在辖区的精防医生可以管理团队。"))
        locked = CaseMember.objects.select_for_update(of=("self",)).select_related("user").get(pk=member.pk)
        if locked.removed_at is not None:
            raise _refuse(_("该成员已移出团队。"))
        locked.removed_at, locked.removed_by = timezone.now(), actor
        locked.save(update_fields=["removed_at", "removed_by"])
        _revoke(actor, locked_case, locked, "remove")
        _audit(actor, locked_case, "remove_member", member=str(locked.uuid), member_user=locked.user)
    return locked


def end_expired_memberships(*, now: dt.datetime) -> int:
    """End the memberships of open cases whose grant reached its expiry (``removed_at`` = the expiry), each with
    an audit event; returns how many. The grant stopped counting at its expiry already (``live_grants``); this
    keeps the team list and the audit log in step. Run every few hours (``end_expired_case_grants``, Celery beat)."""
    due = CaseMember.objects.filter(
        case__closed_on__isnull=True, removed_at__isnull=True, grant__expires_at__lte=now
    ).values_list("pk", flat=True)
    ended = 0
    for pk in list(due):
        with transaction.atomic():
            member = (
                CaseMember.objects.select_for_update(of=("self",))
                .select_related("case", "case__patient", "user", "grant")
                .get(pk=pk)
            )
            expires = member.grant.expires_at if member.grant is not None else None
            if member.removed_at is not None or expires is None or expires > now:
                continue  # removed, or renewed, meanwhile
            member.removed_at = expires
            member.save(update_fields=["removed_at"])
            _audit(None, member.case, "revoke", member_user=member.user, cause="expired", member=str(member.uuid))
            ended += 1
    return ended


def member_of(case: Case, member_uuid: UUID | str) -> CaseMember | None:
    return case.members.select_related("user").filter(uuid=member_uuid).first()


def team(case: Case) -> list[CaseMember]:
    return list(case.members.filter(removed_at__isnull=True).select_related("user"))


def addable_users(case: Case) -> QuerySet[User]:
    """Accounts that may hold a place on the case's team: active case-team accounts affiliated with the patient's
    county (their one county membership, which gives them no visibility), and the doctors whose jurisdiction
    holds the patient — never another township's doctor or another county's case-team account, whom a place
    would grant the patient."""
    from casemgmt.accounts.models import User

    village = case.patient.village_id
    covering = [village, *ancestor_codes(village)]
    members = Q(role__in=(Role.DOCTOR, Role.CASE_MEMBER), memberships__area_id__in=covering)
    return User.objects.filter(members, is_active=True).distinct()


def member_users(case: Case) -> QuerySet[User]:
    """The member picker: ``addable_users`` not on the team already."""
    on_team = case.members.filter(removed_at__isnull=True, user__isnull=False).values("user_id")
    return addable_users(case).exclude(pk__in=on_team).order_by("role", "display_name", "username")


# --- the plan --------------------------------------------------------------------------------------------------


def update_plan(*, actor: User, case: Case, values: dict[str, Any], today: dt.date) -> Case:
    """Save the plan; the team's grants follow a new review date."""
    review: dt.date | None = values.get("review_date")
    if review is not None and review < today:
        raise CaseError({"review_date": [_("方案评估日期不能早于今天。")]})
    if review is not None and review > today + dt.timedelta(days=366):
        raise CaseError({"review_date": [_("方案评估日期不能晚于一年以后。")]})
    with transaction.atomic():
        locked = _locked(case)
        if not can_manage(actor, locked):
            raise _refuse(_("只有患者所在辖区的精防医生可以修改管理方案。"))
        if not locked.is_open:
            raise _refuse(_("该个案已结案，不能再修改管理方案。"))
        for name in PLAN_FIELDS:
            value = values.get(name)
            setattr(locked, name, value if name == "review_date" else (value or "").strip())
        locked.plan_updated_at, locked.plan_updated_by = timezone.now(), actor
        locked.save()
        expiry = grant_expiry(locked, today)
        now = timezone.now()
        live = PatientUserObjectPermission.objects.filter(
            pk__in=locked.members.filter(removed_at__isnull=True, grant__isnull=False).values("grant_id")
        ).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        if live.update(expires_at=expiry):
            _audit(actor, locked, "grant_extended", expires_at=expiry)
        _audit(actor, locked, "plan")
    return locked


# --- contacts --------------------------------------------------------------------------------------------------


def record_contact(*, actor: User, case: Case, values: dict[str, Any], today: dt.date) -> CaseContact:
    """A contact record by one of the patient's doctors or an active team member, on an open case."""
    errors: Errors = defaultdict(list)
    day: dt.date | None = values.get("date")
    if day is None:
        errors["date"].append(_("请填写联系日期。"))
    elif day > today:
        errors["date"].append(_("联系日期不能晚于今天。"))
    elif day < case.opened_on:
        errors["date"].append(_("联系日期不能早于开案日期（%(day)s）。") % {"day": case.opened_on})
    if not (values.get("who") or "").strip():
        errors["who"].append(_("请填写联系对象。"))
    if not (values.get("findings") or "").strip():
        errors["findings"].append(_("请填写发现的情况。"))
    if errors or day is None:
        raise CaseError(dict(errors))
    with transaction.atomic():
        locked = _locked(case)
        if not (can_manage(actor, locked) or is_active_member(actor, locked)):
            raise _refuse(_("只有团队成员可以登记联系记录。"))
        if not locked.is_open:
            raise _refuse(_("该个案已结案，不能再登记联系记录。"))
        contact = CaseContact.objects.create(
            case=locked,
            date=day,
            mode=values["mode"],
            who=values["who"].strip(),
            findings=values["findings"].strip(),
            actions=(values.get("actions") or "").strip(),
            recorded_by=actor,
        )
        _audit(actor, locked, "contact", contact=str(contact.uuid))
    return contact


# --- lists -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    """One line of a case list; identity already reduced to what the viewer may see."""

    uuid: UUID
    patient_uuid: UUID
    name: str
    village: str
    risk_level: int | None
    classification: str
    next_due_date: dt.date | None
    review_date: dt.date | None
    review_overdue: bool
    opened_on: dt.date


def case_rows(cases: Iterable[Case], *, masked: bool, today: dt.date) -> list[CaseRow]:
    """Rows from cases fetched with ``patient``, ``patient__village`` and ``patient__care_state``."""
    labels = dict(Classification.choices)
    out = []
    for case in cases:
        patient = case.patient
        state: PatientCareState | None = getattr(patient, "care_state", None)
        out.append(
            CaseRow(
                uuid=case.uuid,
                patient_uuid=patient.uuid,
                name=masking.mask_name(patient.name) if masked else patient.name,
                village=patient.village.name,
                risk_level=state.risk_level if state else None,
                classification=str(labels.get(state.classification, "")) if state and state.classification else "",
                next_due_date=state.next_due_date if state else None,
                review_date=case.review_date,
                review_overdue=bool(case.review_date and case.review_date < today),
                opened_on=case.opened_on,
            )
        )
    return out


def _with_rows(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.select_related("patient", "patient__village", "patient__care_state")


def my_cases(user: User) -> QuerySet[Case]:
    """Open cases on whose team the user is, of patients the user still sees (an expired grant drops them)."""
    mine = CaseMember.objects.filter(user=user, removed_at__isnull=True).values("case_id")
    return _with_rows(cases_visible_to(user).filter(closed_on__isnull=True, pk__in=mine)).order_by(
        "review_date", "opened_on", "id"
    )


def team_cases_elsewhere(user: User) -> QuerySet[Case]:
    """A doctor's open cases outside their own areas, on whose team they are (seen through the team's grant)."""
    return my_cases(user).exclude(patient__in=Patient.objects.in_jurisdiction_of(user).values("pk"))


def jurisdiction_cases(user: User) -> QuerySet[Case]:
    """Open cases of the patients of a doctor's own areas.

    The area part of the one rule (``in_jurisdiction_of``, a subset of ``cases_visible_to``) is applied alone: the
    grants never add a patient of one's own areas, and skipping them saves the page a query.
    """
    ours = Patient.objects.in_jurisdiction_of(user).values("pk")
    return _with_rows(Case.objects.filter(closed_on__isnull=True, patient__in=ours)).order_by(
        "review_date", "opened_on", "id"
    )


# --- the county overview ---------------------------------------------------------------------------------------


def open_cases_per_township(prefixes: list[str]) -> list[tuple[Area, int]]:
    """(township, open cases) for the townships within the prefixes that have any: two queries."""
    counts = dict(
        Case.objects.filter(within(prefixes, "patient__village__code"), closed_on__isnull=True)
        .annotate(township=Substr("patient__village_id", 1, 9))
        .values_list("township")
        .annotate(n=Count("id"))
        .values_list("township", "n")
    )
    areas = Area.objects.in_bulk([f"{code}000" for code in counts])
    return [(areas[f"{code}000"], n) for code, n in sorted(counts.items()) if f"{code}000" in areas]


def overdue_reviews(prefixes: list[str], today: dt.date) -> QuerySet[Case]:
    return _with_rows(
        Case.objects.filter(
            within(prefixes, "patient__village__code"), closed_on__isnull=True, review_date__lt=today
        ).order_by("review_date", "id")
    )


UNSTABLE_GAP_DAYS = 14


def unstable_without_followup(prefixes: list[str], today: dt.date) -> QuerySet[Patient]:
    """Registered patients classified unstable whose last follow-up is more than 14 days ago."""
    since = today - dt.timedelta(days=UNSTABLE_GAP_DAYS)
    return (
        Patient.objects.filter(within(prefixes, "village__code"))
        .filter(status__in=registry_codes.REGISTERED_STATUSES, care_state__classification=Classification.UNSTABLE)
        .filter(Q(care_state__last_followup_date__lt=since) | Q(care_state__last_followup_date__isnull=True))
        .select_related("village", "care_state")
        .order_by("care_state__last_followup_date", "id")
    )


# --- the indicators --------------------------------------------------------------------------------------------


def case_spans(patient_ids: Iterable[int], cutoff: dt.date) -> dict[int, tuple[tuple[dt.date, dt.date | None], ...]]:
    """(opened, closed) of each patient's cases opened up to ``cutoff``; a closing after the cut-off is not known
    at the cut-off (None). One query."""
    spans: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for patient_id, opened, closed in (
        Case.objects.using(read_alias())
        .filter(patient_id__in=list(patient_ids), opened_on__lte=cutoff)
        .order_by("patient_id", "opened_on", "id")
        .values_list("patient_id", "opened_on", "closed_on")
    ):
        spans[patient_id].append((opened, closed if closed is not None and closed <= cutoff else None))
    return {k: tuple(v) for k, v in spans.items()}
