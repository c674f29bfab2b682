"""Follow-up data builders for tests."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from followup.models import FollowUp
from followup.visits import forms, services
from registry.models import Patient
from tests.base import TODAY


def reached_data(day: dt.date | None = None, **overrides: Any) -> dict[str, Any]:
    day = day or TODAY - dt.timedelta(days=1)
    data: dict[str, Any] = {
        "date": day,
        "mode": 2,
        "contacts": [1],
        "outcome": "REACHED",
        "risk_level": 0,
        "symptoms": [],
        "insight": 1,
        "sleep": 1,
        "diet": 1,
        "social_selfcare": 1,
        "social_housework": 1,
        "social_work": 9,
        "social_learning": 1,
        "social_contact": 1,
        "locking": 1,
        "hospitalisation": 0,
        "lab": 1,
        "adherence": 1,
        "adverse_reaction": 1,
        "treatment_effect": 2,
        "referral": 1,
        "family_support": True,
        "classification": 3,
        "next_date": day + dt.timedelta(days=60),
    }
    data.update(overrides)
    return data


RISPERIDONE = {"drug": "利培酮", "shape": "schedule", "morning_mg": "1", "evening_mg": "2"}


def attempt_data(day: dt.date | None = None, outcome: str = "NOT_REACHED", **extra: Any) -> dict[str, Any]:
    """A not-reached (or lost, or dead) attempt by telephone."""
    return {"date": day or TODAY - dt.timedelta(days=1), "mode": 3, "outcome": outcome, **extra}


def record(
    patient: Patient,
    actor: Any,
    data: dict[str, Any] | None = None,
    medications: Any = None,
    *,
    key: uuid.UUID | None = None,
) -> FollowUp:
    """Parse ``data`` and ``medications`` through the web form's parser and record the follow-up with a fresh key,
    today's date passed explicitly (no drift between the test's local date and Asia/Shanghai around midnight).
    Parsing and recording both raise ``FollowUpError``."""
    entry = forms.parse_followup(
        data if data is not None else reached_data(),
        medications if medications is not None else [RISPERIDONE],
        today=TODAY,
    )
    return services.record_followup(actor=actor, patient=patient, entry=entry, submission_key=key or uuid.uuid4())
