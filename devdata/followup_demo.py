"""Synthetic follow-up history through the real service: schedules kept and missed, attempts, risk, medication.

Written through ``record_followup`` so every row, care state and audit event is exactly what the pages would
write. Deterministic for a seed; idempotent (patients that already have follow-ups are skipped).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import uuid
from collections.abc import Callable
from typing import cast

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from casemgmt.accounts.models import User
from followup import codes
from followup.emergencies import services as emergency_services
from followup.models import Emergency, FollowUp, PatientCareState
from followup.visits import forms, rules, services
from followup.visits.drugs import DRUGS
from followup.visits.values import FollowUpEntry
from registry.models import Patient
from registry.signals import announcements_batched

HISTORY_DAYS = 400
MISS_SHARE = 0.12  # a scheduled visit that did not happen (the patient drifts overdue)
NOT_REACHED_SHARE = 0.08
ALWAYS_MISSING_SHARE = 0.04  # patients whose last three attempts all failed


def _assessment(rng: random.Random) -> dict[str, int | list[int]]:
    risk = rng.choices((0, 1, 2, 3, 4), weights=(70, 14, 8, 6, 2))[0]
    poor = rng.random() < 0.15
    symptoms = rng.sample(range(1, 12), rng.choice((1, 2))) if risk or poor else []
    insight = 3 if risk >= 3 and rng.random() < 0.5 else rng.choices((1, 2), weights=(75, 25))[0]
    social = [3 if poor and rng.random() < 0.5 else rng.choice((1, 2)) for _ in range(5)]
    return {
        "risk_level": risk,
        "symptoms": symptoms,
        "insight": insight,
        "social_selfcare": social[0],
        "social_housework": social[1],
        "social_work": rng.choice((social[2], 9)),
        "social_learning": social[3],
        "social_contact": social[4],
        "minor_trouble": 1 if risk >= 2 and rng.random() < 0.3 else 0,
        "trouble": 1 if risk >= 3 and rng.random() < 0.2 else 0,
    }


def _visit(
    rng: random.Random, day: dt.date, previous: int | None, drug: str, today: dt.date, *, risk: int | None = None
) -> FollowUpEntry:
    """A reached visit; *risk* (when given) is the risk level the doctor found."""
    assessment = _assessment(rng)
    if risk is not None:
        assessment.update(risk_level=risk, insight=3, symptoms=[1, 3])
    data: dict[str, object] = {
        "date": day,
        "mode": rng.choices((1, 2, 3), weights=(35, 45, 20))[0],
        "contacts": [1, 2] if rng.random() < 0.6 else [2],
        "outcome": "REACHED",
        "sleep": rng.choice((1, 1, 2)),
        "diet": rng.choice((1, 1, 2)),
        "locking": 1,
        "hospitalisation": 0,
        "lab": 1,
        "adherence": rng.choices((1, 2, 3), weights=(65, 25, 10))[0],
        "adverse_reaction": 1,
        "treatment_effect": rng.choice((2, 3)),
        "referral": 1,
        "family_support": rng.random() < 0.7,
        **assessment,
    }
    if data["trouble"] and cast(int, data["risk_level"]) < 3:
        data["trouble"] = 0
    dose = rng.choice(("1", "2", "2", "3"))
    medications = [{"drug": drug, "shape": "schedule", "morning_mg": dose, "evening_mg": dose}]
    entry = forms.parse_followup(data, medications, today=today)
    classification = services.suggestion_for(entry).classification
    next_date = rules.next_followup_date(classification, day, previous)
    return dataclasses.replace(entry, classification=classification, next_date=next_date)


def load_demo_followups(*, actor_for: Callable[[Patient], User], seed: int, today: dt.date) -> int:
    """Give every active patient without follow-ups a history; returns how many follow-ups were written.

    ``actor_for(patient)`` names the doctor who records a patient's follow-ups.
    """
    rng = random.Random(seed)
    oral = [d.name for d in DRUGS if not d.long_acting]
    patients = (
        Patient.objects.filter(status="ACTIVE", disorder__lte=6)
        .exclude(Exists(FollowUp.objects.filter(patient=OuterRef("pk"))))
        .select_related("village")
        .order_by("id")
    )
    written = 0
    with transaction.atomic(), announcements_batched():  # one state update for the whole demo history
        for patient in patients:
            written += _history(rng, patient, actor_for(patient), rng.choice(oral), today)
        written += load_demo_risk_visits(actor_for=actor_for, rng=rng, drug=oral[0], today=today)
    load_demo_emergencies(actor_for=actor_for)
    load_demo_cases(actor_for=actor_for, today=today)
    return written


DEMO_RISK_VISITS = 4  # active patients whose visit yesterday found them at risk: each visit opens a case


def load_demo_risk_visits(
    *, actor_for: Callable[[Patient], User], rng: random.Random, drug: str, today: dt.date
) -> int:
    """Only before the demo's case teams exist: yesterday's visit found the first active patients (the demo
    county's: the generator writes them first) at risk level 3, which opens a case through ``record_followup``.
    Generated histories have no cases of their own. Returns how many visits were written."""
    from followup.models import CaseMember

    if CaseMember.objects.exists():
        return 0
    day = today - dt.timedelta(days=1)
    patients = (
        Patient.objects.filter(status="ACTIVE", disorder__lte=6, registered_on__lt=day)
        .exclude(Exists(FollowUp.objects.filter(patient=OuterRef("pk"), date__gte=day)))
        .select_related("village")
        .order_by("id")
    )
    written = 0
    for patient in patients.iterator():
        actor = actor_for(patient)
        if not Patient.objects.visible_to(actor).filter(pk=patient.pk).exists():
            continue  # moved out of the doctor's townships: the case would be no one's to manage
        previous = PatientCareState.objects.filter(patient=patient).values_list("classification", flat=True).first()
        entry = _visit(rng, day, previous, drug, today, risk=3)
        services.record_followup(actor=actor, patient=patient, entry=entry, submission_key=uuid.uuid4())
        written += 1
        if written == DEMO_RISK_VISITS:
            break
    return written


DEMO_TEAMS = 3  # open cases that get a team, a plan and contacts
DEMO_POLICE = "police1"  # the demo's case-team account (devdata.registry_demo)


def load_demo_cases(*, actor_for: Callable[[Patient], User], today: dt.date) -> int:
    """Only when no case has a team yet: close the cases whose last two follow-ups were stable (the histories
    opened them through ``record_followup``), then give the first open cases a team — the demo police account (a
    grant on exactly these patients) and a family member without a login — a plan with a review date and two
    contacts. Returns how many cases got a team."""
    from followup.cases import services as case_services
    from followup.models import Case, CaseCloseReason, CaseContactMode, CaseMember, CaseRole

    if CaseMember.objects.exists():
        return 0
    # Only cases a doctor can manage: the histories may have opened one for a patient who has since moved out
    # of the areas of the doctor who recorded it.
    managed = [
        case
        for case in Case.objects.filter(closed_on__isnull=True).select_related("patient").order_by("patient_id")
        if case_services.can_manage(actor_for(case.patient), case)
    ]
    closed = set()
    for case in managed:
        if case_services.closing_suggested(case):  # what a doctor does after two stable follow-ups
            reason = CaseCloseReason.STABLE_TWICE
            case_services.close_case(actor=actor_for(case.patient), case=case, reason=reason, today=today)
            closed.add(case.pk)
    police = User.objects.filter(username=DEMO_POLICE, is_active=True).first()
    cases = [case for case in managed if case.pk not in closed][:DEMO_TEAMS]
    for index, case in enumerate(cases):
        doctor = actor_for(case.patient)
        case_services.update_plan(
            actor=doctor,
            case=case,
            values={
                "goals": "病情稳定，不发生肇事肇祸",
                "treatment": "遵医嘱规律服药，每两周随访一次",
                "rehabilitation": "参加社区康复站活动",
                "risk_prevention": "民警和网格员每周走访一次，发现异常及时报告",
                "family_support": "指导监护人看护服药，提供心理支持",
                "review_date": today + dt.timedelta(days=30 + 7 * index),
            },
            today=today,
        )
        if police is not None:
            case_services.add_member(actor=doctor, case=case, role=CaseRole.POLICE, user=police, today=today)
        case_services.add_member(
            actor=doctor,
            case=case,
            role=CaseRole.FAMILY,
            person_name=case.patient.guardian_name or "家属",
            person_phone=case.patient.guardian_phone or "",
            today=today,
        )
        for days, mode, findings in (
            (10, CaseContactMode.VISIT, "按时服药，情绪平稳"),
            (3, CaseContactMode.PHONE, "睡眠稍差"),
        ):
            day = max(case.opened_on, today - dt.timedelta(days=days))
            case_services.record_contact(
                actor=doctor,
                case=case,
                values={"date": day, "mode": mode, "who": "监护人", "findings": findings, "actions": "嘱继续观察"},
                today=today,
            )
    return len(cases)


def load_demo_emergencies(*, actor_for: Callable[[Patient], User]) -> int:
    """Three emergency records through the real service (only when there are none yet): one completed in time,
    one of a registered patient still incomplete 30 hours after the event (flagged on the lists and the county
    page), and one of a person not registered yet."""
    if Emergency.objects.exists():
        return 0
    patients = list(
        Patient.objects.filter(status="ACTIVE", disorder__lte=6).select_related("village").order_by("id")[:2]
    )
    if len(patients) < 2:
        return 0
    now = timezone.now()
    complete = {
        "place": "家中",
        "situations": ["danger"],
        "risk_level": 3,
        "reported_by": "家属",
        "participants": "精防医生、社区民警",
        "measures": ["deescalation", "transport"],
        "disposition": "admit",
        "hospital": "芜湖市第四人民医院",
        "consent": 2,
    }
    emergency_services.record_emergency(
        actor=actor_for(patients[0]),
        values={"occurred_at": now - dt.timedelta(days=3), **complete},
        handler=None,
        complete=True,
        now=now - dt.timedelta(days=3) + dt.timedelta(hours=4),
        patient=patients[0],
    )
    emergency_services.record_emergency(
        actor=actor_for(patients[1]),
        values={"occurred_at": now - dt.timedelta(hours=30), "place": "村委会门口", "situations": ["relapse"]},
        handler=None,
        complete=False,
        now=now - dt.timedelta(hours=29),
        patient=patients[1],
    )
    emergency_services.record_emergency(
        actor=actor_for(patients[1]),
        values={"occurred_at": now - dt.timedelta(hours=5), "place": "集市", "situations": ["danger"]},
        handler=None,
        complete=False,
        now=now,
        area=patients[1].village,
        person_name="不详（男，约40岁）",
    )
    return 3


def _history(rng: random.Random, patient: Patient, actor: User, drug: str, today: dt.date) -> int:
    """One patient's visits from registration (or HISTORY_DAYS ago) to today."""

    def save(entry: FollowUpEntry) -> None:
        services.record_followup(actor=actor, patient=patient, entry=entry, submission_key=uuid.uuid4())

    start = max(patient.registered_on, today - dt.timedelta(days=HISTORY_DAYS))
    day = start + dt.timedelta(days=rng.randrange(1, 10))
    previous: int | None = None
    failing = rng.random() < ALWAYS_MISSING_SHARE
    written = 0
    while day < today:
        written += 1
        if rng.random() < NOT_REACHED_SHARE or (failing and day > today - dt.timedelta(days=45)):
            save(FollowUpEntry(date=day, mode=3, outcome=codes.Outcome.NOT_REACHED))
            day += dt.timedelta(days=rng.randrange(3, 10))
            continue
        entry = _visit(rng, day, previous, drug, today)
        save(entry)
        previous = entry.classification
        assert entry.next_date is not None  # noqa: S101  (set by _visit)
        gap = (entry.next_date - day).days
        late = rng.randrange(gap, gap * 2) if rng.random() < MISS_SHARE else rng.randrange(-3, 3)
        day += dt.timedelta(days=max(1, gap + late))
    return written
