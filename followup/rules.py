"""Pure rules of the follow-up (domain.md §6–7): classification suggestion, next date, overdue, attempts.

Plain values in, plain values out; no database. Every interval and threshold is a named rule below, so a
province that decides differently changes one constant (or its setting), not the logic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from casemgmt.dates import add_months

UNSTABLE, BASICALLY_STABLE, STABLE = 1, 2, 3

# Intervals (domain.md §7).
UNSTABLE_INTERVAL_DAYS = 14
BASICALLY_STABLE_INTERVAL_DAYS = 14
BASICALLY_STABLE_REPEAT_MONTHS = 1  # the 2-week check found the patient still basically stable
STABLE_INTERVAL_MONTHS = 3
MINIMUM_FOLLOWUPS_PER_YEAR = 4
# Risk thresholds (domain.md §6–7).
UNSTABLE_RISK_FROM = 3
SELF_HARM_RISK_LEVEL = 4  # self-harm and suicide attempts are level 4 behaviour
NOT_REACHED_BEFORE_LOST = 3  # three not-reached attempts in a row: suggest LOST, reason 4
DUE_SOON_DAYS = 7

POOR = 3
INSIGHT_COMPLETE, INSIGHT_PARTIAL, INSIGHT_ABSENT = 1, 2, 3


@dataclass(frozen=True)
class Assessment:
    """What the doctor recorded at a reached follow-up, as far as the suggestion needs it."""

    risk_level: int
    symptoms: Sequence[int] = ()
    obvious_psychotic_symptoms: bool = False
    insight: int = INSIGHT_COMPLETE
    social: Sequence[int] = ()  # the five items; 9 = n/a
    severe_adverse_reaction: bool = False
    severe_physical_illness: bool = False


@dataclass(frozen=True)
class Suggestion:
    classification: int
    reasons: tuple[str, ...]
    doctor_decides: bool = False  # insight 2 alone: the rules leave the call to the doctor


def suggest_classification(a: Assessment) -> Suggestion:
    """The §7 suggestion; the doctor's choice is what is stored.

    Insight 2 (不全) alone is left to the doctor: the suggestion is "basically stable" (the cautious side)
    and is flagged ``doctor_decides`` so the form says so.
    """
    unstable = [
        reason
        for reason, present in (
            ("risk_3_5", a.risk_level >= UNSTABLE_RISK_FROM),
            ("psychotic_symptoms", a.obvious_psychotic_symptoms),
            ("insight_absent", a.insight == INSIGHT_ABSENT),
            ("severe_adverse_reaction", a.severe_adverse_reaction),
            ("severe_physical_illness", a.severe_physical_illness),
        )
        if present
    ]
    if unstable:
        return Suggestion(UNSTABLE, tuple(unstable))
    basic = [
        reason
        for reason, present in (
            ("risk_1_2", a.risk_level >= 1),
            ("symptoms", bool(a.symptoms)),
            ("social_poor", any(item == POOR for item in a.social)),
        )
        if present
    ]
    if basic:
        return Suggestion(BASICALLY_STABLE, tuple(basic))
    if a.insight == INSIGHT_PARTIAL:
        return Suggestion(BASICALLY_STABLE, ("insight_partial",), doctor_decides=True)
    return Suggestion(STABLE, ())


def next_followup_date(
    classification: int, visit_date: dt.date, previous_reached_classification: int | None = None
) -> dt.date:
    """The proposed next date (§7). Months are calendar months: Jan 31 + 1 month = Feb 28/29."""
    if classification == UNSTABLE:
        return visit_date + dt.timedelta(days=UNSTABLE_INTERVAL_DAYS)
    if classification == BASICALLY_STABLE:
        if previous_reached_classification == BASICALLY_STABLE:
            return add_months(visit_date, BASICALLY_STABLE_REPEAT_MONTHS)
        return visit_date + dt.timedelta(days=BASICALLY_STABLE_INTERVAL_DAYS)
    return add_months(visit_date, STABLE_INTERVAL_MONTHS)


def later_than_suggested(proposed: dt.date, suggested: dt.date) -> bool:
    """An earlier date is always accepted; a later one needs a reason."""
    return proposed > suggested


def needs_self_harm_confirmation(risk_level: int | None, self_harm: int, suicide_attempt: int) -> bool:
    """Self-harm or a suicide attempt is level-4 behaviour (§6); a lower level must be confirmed, never set."""
    return (self_harm > 0 or suicide_attempt > 0) and (risk_level is None or risk_level < SELF_HARM_RISK_LEVEL)


def is_overdue(next_due: dt.date | None, today: dt.date) -> bool:
    """Overdue: today is after the next date (a reached follow-up since would have moved the date)."""
    return next_due is not None and today > next_due


def overdue_days(next_due: dt.date | None, today: dt.date) -> int:
    return (today - next_due).days if is_overdue(next_due, today) and next_due is not None else 0


def due_soon(next_due: dt.date | None, today: dt.date) -> bool:
    return next_due is not None and today <= next_due <= today + dt.timedelta(days=DUE_SOON_DAYS)


def three_not_reached(outcomes_newest_first: Sequence[str]) -> bool:
    """The last three attempts were all not reached: suggest marking the patient LOST (reason 4)."""
    latest = list(outcomes_newest_first[:NOT_REACHED_BEFORE_LOST])
    return len(latest) == NOT_REACHED_BEFORE_LOST and all(o == "NOT_REACHED" for o in latest)
