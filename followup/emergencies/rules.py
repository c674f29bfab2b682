"""Close follow-up after an emergency (domain.md §9), as a named, configurable rule. Pure: plain values only.

"Afterwards the patient is followed closely until two follow-ups in a row are stable." The project reads this
with §7: close means the unstable interval (14 days) — from the emergency, and from every reached follow-up
after it — until ``CLOSE_FOLLOW_STABLE_IN_A_ROW`` reached follow-ups in a row after the event are classified
stable. A province that decides differently overrides the numbers in the ``EMERGENCY_RULES`` setting
(e.g. ``EMERGENCY_RULES = {"CLOSE_FOLLOW_INTERVAL_DAYS": 7}``); an unknown name or a value that is not a whole
number ≥ 1 stops the start-up.

Why the rule does not rewrite ``PatientCareState.next_due_date``: the care state is derived from the follow-up
history alone (``rules.care_snapshot``) so that a rebuild always agrees with the incremental path, and §7 stores
the doctor's chosen next date as entered. The close-follow date is therefore computed beside it and shown as
"visit by" wherever the flag appears; the work list's overdue logic is unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, int] = {
    "CLOSE_FOLLOW_INTERVAL_DAYS": 14,  # §7's interval for unstable patients
    "CLOSE_FOLLOW_STABLE_IN_A_ROW": 2,  # §9: two follow-ups in a row stable end the close follow-up
    "CLOSE_FOLLOW_LOOKBACK_DAYS": 365,  # emergencies older than this no longer raise the flag
}
STABLE = 3  # followup.codes.Classification.STABLE


def _configured() -> dict[str, int]:
    overrides = getattr(settings, "EMERGENCY_RULES", None) or {}
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise ImproperlyConfigured(f"EMERGENCY_RULES: unknown rule(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    for name, value in overrides.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ImproperlyConfigured(f"EMERGENCY_RULES[{name!r}] must be a whole number >= 1, not {value!r}")
    return {**DEFAULTS, **overrides}


_RULES = _configured()
CLOSE_FOLLOW_INTERVAL_DAYS = _RULES["CLOSE_FOLLOW_INTERVAL_DAYS"]
CLOSE_FOLLOW_STABLE_IN_A_ROW = _RULES["CLOSE_FOLLOW_STABLE_IN_A_ROW"]
CLOSE_FOLLOW_LOOKBACK_DAYS = _RULES["CLOSE_FOLLOW_LOOKBACK_DAYS"]


@dataclass(frozen=True)
class CloseFollow:
    """Whether the patient is still under close follow-up after the emergency of ``since``, and by when the
    next visit is due under it (never later than the schedule's own next due date)."""

    active: bool
    since: dt.date
    visit_by: dt.date | None = None


def close_follow(
    event_day: dt.date,
    reached_after: Iterable[tuple[dt.date, int | None]],
    next_due: dt.date | None = None,
    *,
    interval_days: int = CLOSE_FOLLOW_INTERVAL_DAYS,
    stable_in_a_row: int = CLOSE_FOLLOW_STABLE_IN_A_ROW,
) -> CloseFollow:
    """``reached_after``: (date, classification) of reached follow-ups; only those dated after the event day count
    (a visit on the day of the emergency may have come before it)."""
    after = sorted((day, cls) for day, cls in reached_after if day > event_day)
    run = 0
    for _day, classification in after:
        run = run + 1 if classification == STABLE else 0
        if run >= stable_in_a_row:
            return CloseFollow(active=False, since=event_day)
    last_contact = after[-1][0] if after else event_day
    visit_by = last_contact + dt.timedelta(days=interval_days)
    if next_due is not None and next_due < visit_by:
        visit_by = next_due
    return CloseFollow(active=True, since=event_day, visit_by=visit_by)
