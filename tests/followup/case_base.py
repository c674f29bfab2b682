"""Builders for the case tests: an open case of patient_a (opened by an unstable follow-up), team members."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client

from followup.cases import services as case_services
from followup.models import Case, CaseMember, CaseRole
from tests.base import PASSWORD, TODAY, World
from tests.followup.base import reached_data, record

YESTERDAY = TODAY - dt.timedelta(days=1)


def client_for(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def unstable_data(day: dt.date | None = None, **overrides: Any) -> dict[str, Any]:
    day = day or YESTERDAY
    values = {"risk_level": 3, "classification": 1, "next_date": day + dt.timedelta(days=14), **overrides}
    return reached_data(day, **values)


def stable_data(day: dt.date | None = None, **overrides: Any) -> dict[str, Any]:
    return reached_data(day or YESTERDAY, **overrides)


def open_case(world: World, patient: Any = None, day: dt.date | None = None) -> Case:
    """Record an unstable follow-up, which opens the patient's case."""
    patient = patient or world.patient_a
    doctor = world.doctor_a if patient == world.patient_a else world.doctor_b
    followup = record(patient, doctor, unstable_data(day))
    case = case_services.opened_by_followup(followup)
    assert case is not None
    return case


def add(world: World, case: Case, user: Any, role: str = CaseRole.POLICE, actor: Any = None) -> CaseMember:
    return case_services.add_member(actor=actor or world.doctor_a, case=case, role=role, user=user, today=TODAY)


def fresh(case: Case) -> Case:
    return Case.objects.select_related("patient", "patient__village").get(pk=case.pk)
