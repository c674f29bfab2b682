"""Pure rules of the follow-up (domain.md §6–7): classification suggestion, next date, overdue, attempts, and
the patient's care state derived from their follow-up history.

Plain values in, plain values out; no database. Every interval and threshold is a named rule below. Where
domain.md marks a choice as the project's **Decision**, a province that decides differently overrides the
number in the ``FOLLOWUP_RULES`` setting (a dict, read once at start-up, e.g.
``FOLLOWUP_RULES = {"STABLE_INTERVAL_MONTHS": 2}``), never by editing the logic. An unknown name or a value
that is not a whole number ≥ 0 stops the start-up, so a typo cannot silently keep the default.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from casemgmt.dates import add_months

DEFAULTS: dict[str, int] = {
    # Intervals (domain.md §7).
    "UNSTABLE_INTERVAL_DAYS": 14,
    "BASICALLY_STABLE_INTERVAL_DAYS": 14,
    "BASICALLY_STABLE_REPEAT_MONTHS": 1,  # the 2-week check found the patient still basically stable
    "STABLE_INTERVAL_MONTHS": 3,
    # "Every patient needs at least 4 follow-ups a year": a next date further out than this is flagged to the
    # doctor (advice only: with a reason it is accepted, like any date later than the suggestion).
    "MAXIMUM_INTERVAL_MONTHS": 3,
    "MINIMUM_FOLLOWUPS_PER_YEAR": 4,
    # Risk thresholds (domain.md §6–7).
    "UNSTABLE_RISK_FROM": 3,
    "SELF_HARM_RISK_LEVEL": 4,  # self-harm and suicide attempts are level-4 behaviour
    # Attempts and the work list (domain.md §5, §7).
    "NOT_REACHED_BEFORE_LOST": 3,  # three not-reached attempts in a row: suggest LOST, reason 4
    "DUE_SOON_DAYS": 7,
}


def _configured() -> dict[str, int]:
    overrides = getattr(settings, "FOLLOWUP_RULES", None) or {}
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise ImproperlyConfigured(f"FOLLOWUP_RULES: unknown rule(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    for name, value in overrides.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ImproperlyConfigured(f"FOLLOWUP_RULES[{name!r}] must be a whole number >= 0, not {value!r}")
    return {**DEFAULTS, **overrides}


_RULES = _configured()
UNSTABLE_INTERVAL_DAYS = _RULES["UNSTABLE_INTERVAL_DAYS"]
BASICALLY_STABLE_INTERVAL_DAYS = _RULES["BASICALLY_STABLE_INTERVAL_DAYS"]
BASICALLY_STABLE_REPEAT_MONTHS = _RULES["BASICALLY_STABLE_REPEAT_MONTHS"]
STABLE_INTERVAL_MONTHS = _RULES["STABLE_INTERVAL_MONTHS"]
MAXIMUM_INTERVAL_MONTHS = _RULES["MAXIMUM_INTERVAL_MONTHS"]
MINIMUM_FOLLOWUPS_PER_YEAR = _RULES["MINIMUM_FOLLOWUPS_PER_YEAR"]
UNSTABLE_RISK_FROM = _RULES["UNSTABLE_RISK_FROM"]
SELF_HARM_RISK_LEVEL = _RULES["SELF_HARM_RISK_LEVEL"]
NOT_REACHED_BEFORE_LOST = _RULES["NOT_REACHED_BEFORE_LOST"]
DUE_SOON_DAYS = _RULES["DUE_SOON_DAYS"]

# Code values the rules compare against (the national form's numbers, as in followup.codes; repeated here as
# plain ints so this module needs nothing but values).
UNSTABLE, BASICALLY_STABLE, STABLE = 1, 2, 3
POOR = 3
INSIGHT_COMPLETE, INSIGHT_PARTIAL, INSIGHT_ABSENT = 1, 2, 3
REACHED, NOT_REACHED = "REACHED", "NOT_REACHED"
HOSPITALISED_NOW = 1


# --- classification (§7) ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    """What the doctor recorded at a reached follow-up, as far as the suggestion needs it.

    ``risk_level`` is None only when it could not be assessed (a patient in hospital, §11); ``social`` holds the
    five social-functioning items that were answered (9 = work not applicable); ``unanswered`` names the sleep,
    diet and social-functioning items left blank (``ASSESSED_ITEMS``), in the form's order.
    """

    risk_level: int | None
    symptoms: Sequence[int] = ()
    obvious_psychotic_symptoms: bool = False
    insight: int | None = INSIGHT_COMPLETE
    social: Sequence[int] = ()
    severe_adverse_reaction: bool = False
    severe_physical_illness: bool = False
    unanswered: Sequence[str] = ()


# The items a stable suggestion rests on besides risk and insight: sleep, diet and the five social-functioning
# items. A blank one is not "good": it is an answer the rules still need.
ASSESSED_ITEMS = (
    "sleep",
    "diet",
    "social_selfcare",
    "social_housework",
    "social_work",
    "social_learning",
    "social_contact",
)


@dataclass(frozen=True)
class Suggestion:
    """The suggested class, the reasons behind it (stable keys a page can translate) and whether the rules
    deliberately leave the call to the doctor."""

    classification: int
    reasons: tuple[str, ...]
    doctor_decides: bool = False
    needs: tuple[str, ...] = ()  # the unanswered items (ASSESSED_ITEMS) a stable suggestion would rest on


def suggest_classification(a: Assessment) -> Suggestion:
    """The §7 suggestion; the doctor's choice is what is stored.

    Unstable wins over basically stable, which wins over stable; every reason that applies is listed.

    **Decision — insight 2 (不全) alone.** domain.md leaves it to the doctor. Stable needs insight "essentially
    recovered", which partial insight does not prove, so the suggestion takes the cautious side: basically stable
    (a 14-day interval), flagged ``doctor_decides`` so the form says the doctor may well choose stable. The same
    applies when the risk level or insight could not be assessed (a patient in hospital): nothing proves
    stability, so basically stable, left to the doctor.

    **Decision — unanswered sleep, diet or social items.** Stable needs "all social items fair or good"; a blank
    item proves nothing, so it is never counted as good. The suggestion is then basically stable, left to the
    doctor, and names the answers it still needs (``needs``). An answer that makes the patient unstable or
    basically stable decides without them.
    """
    unstable = _present(
        ("risk_3_5", a.risk_level is not None and a.risk_level >= UNSTABLE_RISK_FROM),
        ("psychotic_symptoms", a.obvious_psychotic_symptoms),
        ("insight_absent", a.insight == INSIGHT_ABSENT),
        ("severe_adverse_reaction", a.severe_adverse_reaction),
        ("severe_physical_illness", a.severe_physical_illness),
    )
    if unstable:
        return Suggestion(UNSTABLE, unstable)
    basic = _present(
        ("risk_1_2", a.risk_level is not None and a.risk_level >= 1),
        ("symptoms", bool(a.symptoms)),
        ("social_poor", any(item == POOR for item in a.social)),
    )
    if basic:
        return Suggestion(BASICALLY_STABLE, basic)
    undecided = _present(
        ("risk_unknown", a.risk_level is None),
        ("insight_unknown", a.insight is None),
        ("insight_partial", a.insight == INSIGHT_PARTIAL),
        ("items_unanswered", bool(a.unanswered)),
    )
    if undecided:
        return Suggestion(BASICALLY_STABLE, undecided, doctor_decides=True, needs=tuple(a.unanswered))
    return Suggestion(STABLE, ())


def _present(*checks: tuple[str, bool]) -> tuple[str, ...]:
    return tuple(reason for reason, present in checks if present)


# --- the next follow-up date (§7) ------------------------------------------------------------------------------


def next_followup_date(
    classification: int, visit_date: dt.date, previous_reached_classification: int | None = None
) -> dt.date:
    """The proposed next date (§7). Months are calendar months: Jan 31 + 1 month = Feb 28/29.

    Basically stable twice in a row (the 2-week check found the patient still not stable) moves to a month.
    """
    if classification == UNSTABLE:
        return visit_date + dt.timedelta(days=UNSTABLE_INTERVAL_DAYS)
    if classification == BASICALLY_STABLE:
        if previous_reached_classification == BASICALLY_STABLE:
            return add_months(visit_date, BASICALLY_STABLE_REPEAT_MONTHS)
        return visit_date + dt.timedelta(days=BASICALLY_STABLE_INTERVAL_DAYS)
    return add_months(visit_date, STABLE_INTERVAL_MONTHS)


class NextDate(enum.Enum):
    """The verdict on a next date the doctor proposed."""

    ACCEPTED = "accepted"  # on or before the suggestion: always fine
    NEEDS_REASON = "needs_reason"  # later than the suggestion: fine with a reason
    NOT_AFTER_VISIT = "not_after_visit"  # on or before the visit itself


def check_next_date(proposed: dt.date, suggested: dt.date, visit_date: dt.date | None = None) -> NextDate:
    """Earlier than the suggestion is always accepted (the doctor may look sooner); later needs a reason (§7).

    A date beyond MAXIMUM_INTERVAL_MONTHS (``beyond_maximum_interval``) is flagged by the form but not refused:
    the doctor's reason is kept for supervisors to read.
    """
    if visit_date is not None and proposed <= visit_date:
        return NextDate.NOT_AFTER_VISIT
    return NextDate.NEEDS_REASON if proposed > suggested else NextDate.ACCEPTED


def latest_advised_next_date(visit_date: dt.date) -> dt.date:
    """The furthest next date that still keeps four follow-ups a year; later ones are flagged, not refused."""
    return add_months(visit_date, MAXIMUM_INTERVAL_MONTHS)


def beyond_maximum_interval(proposed: dt.date, visit_date: dt.date) -> bool:
    return proposed > latest_advised_next_date(visit_date)


# --- risk (§6) ---------------------------------------------------------------------------------------------------


def needs_self_harm_confirmation(risk_level: int | None, self_harm: int, suicide_attempt: int) -> bool:
    """Self-harm or a suicide attempt is level-4 behaviour (§6); a lower level must be confirmed, never set.

    Level 5 is *not* implied: it needs violence against people with a controlled weapon, or arson/explosion. A
    patient holding a fruit knife at home intending suicide is level 4.
    """
    return (self_harm > 0 or suicide_attempt > 0) and (risk_level is None or risk_level < SELF_HARM_RISK_LEVEL)


# --- overdue and attempts (§5, §7) -----------------------------------------------------------------------------


def is_overdue(next_due: dt.date | None, today: dt.date) -> bool:
    """Overdue: today is after the next date. Due today is not overdue.

    ``next_due`` is the date set by the latest *reached* follow-up (see ``care_snapshot``), so a reached
    follow-up after the due date clears it and a not-reached attempt does not.
    """
    return next_due is not None and today > next_due


def overdue_days(next_due: dt.date | None, today: dt.date) -> int:
    return (today - next_due).days if next_due is not None and is_overdue(next_due, today) else 0


def due_soon(next_due: dt.date | None, today: dt.date) -> bool:
    """Due today or within the next DUE_SOON_DAYS days (the work list's second section)."""
    return next_due is not None and today <= next_due <= today + dt.timedelta(days=DUE_SOON_DAYS)


def consecutive_not_reached(outcomes_newest_first: Iterable[str]) -> int:
    """How many of the newest attempts in a row did not reach the patient."""
    count = 0
    for outcome in outcomes_newest_first:
        if outcome != NOT_REACHED:
            break
        count += 1
    return count


def three_not_reached(outcomes_newest_first: Sequence[str]) -> bool:
    """The latest attempts were not reached NOT_REACHED_BEFORE_LOST times in a row: suggest LOST, reason 4."""
    return consecutive_not_reached(outcomes_newest_first) >= NOT_REACHED_BEFORE_LOST


# --- the care state, derived from the history ------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One recorded follow-up, as far as the care state needs it. ``key`` orders same-day records (the pk)."""

    date: dt.date
    outcome: str
    key: int = 0
    risk_level: int | None = None
    classification: int | None = None
    next_date: dt.date | None = None
    hospitalisation: int | None = None

    @property
    def is_complete(self) -> bool:
        """Reached with a risk level, or reached while in hospital (domain.md §11)."""
        return self.outcome == REACHED and (self.risk_level is not None or self.hospitalisation == HOSPITALISED_NOW)


@dataclass(frozen=True)
class CareSnapshot:
    """The patient's current risk, class and schedule; what PatientCareState stores."""

    risk_level: int | None = None
    classification: int | None = None
    next_due_date: dt.date | None = None
    last_followup_date: dt.date | None = None
    last_reached_date: dt.date | None = None
    last_reached_classification: int | None = None
    consecutive_not_reached: int = 0
    last_complete_key: int | None = None


@dataclass(frozen=True)
class Arrival:
    """The record arrived from another township (an accepted transfer) on ``on``; the receiving doctor visits by
    ``visit_by`` (domain.md §4.4)."""

    on: dt.date
    visit_by: dt.date


def care_snapshot(attempts: Iterable[Attempt], arrival: Arrival | None = None) -> CareSnapshot:
    """The care state after these follow-ups, whatever order they were entered in.

    Derived from the whole history (not patched per save) so a late entry of an older visit lands in its place
    and a rebuild always agrees with the incremental path. The latest reached follow-up sets risk, class and the
    next due date; attempts after it leave the due date alone (the patient stays overdue) and count in a row.
    A record that arrived by transfer and has not been reached since is due by the first-visit date (or its
    earlier own date), so it is on the receiving doctor's work list from the day it arrives.
    """
    newest_first = sorted(attempts, key=lambda a: (a.date, a.key), reverse=True)
    reached = next((a for a in newest_first if a.outcome == REACHED), None)
    due = _due_after_arrival(reached.next_date if reached else None, reached, arrival)
    if not newest_first:
        return CareSnapshot(next_due_date=due)
    complete = next((a for a in newest_first if a.is_complete), None)
    return CareSnapshot(
        risk_level=reached.risk_level if reached else None,
        classification=reached.classification if reached else None,
        next_due_date=due,
        last_followup_date=newest_first[0].date,
        last_reached_date=reached.date if reached else None,
        last_reached_classification=reached.classification if reached else None,
        consecutive_not_reached=consecutive_not_reached(a.outcome for a in newest_first),
        last_complete_key=complete.key if complete else None,
    )


def _due_after_arrival(due: dt.date | None, reached: Attempt | None, arrival: Arrival | None) -> dt.date | None:
    if arrival is None or (reached is not None and reached.date >= arrival.on):
        return due
    return arrival.visit_by if due is None else min(due, arrival.visit_by)


def previous_reached_classification(attempts: Iterable[Attempt], visit_date: dt.date) -> int | None:
    """The class of the latest reached follow-up on or before ``visit_date`` (for the next-date rule)."""
    earlier = [a for a in attempts if a.outcome == REACHED and a.date <= visit_date]
    if not earlier:
        return None
    return max(earlier, key=lambda a: (a.date, a.key)).classification
