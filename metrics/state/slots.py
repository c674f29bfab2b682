"""One patient's memberships for every report slot of a year at once — the fast equivalent of
``metrics.indicators.definitions.membership`` that the state rows are computed with (``metrics.state.compute``).

Why a second formulation: the state needs 26 slots × 2 readings of the deaths-in-period option × 2
regular-management rules per patient and year; calling ``membership`` for each is ~50 calls that each re-sort
and re-filter the patient's whole history. Here the history is sorted once per patient-year and each slot
takes slices of it. Two observations make one pass per slot enough:

- the options change *whether* a patient is in R (deaths in the period included or not) and which rule
  decides Reg, but nothing else: every other set is computed once "as if in R", and the variant's R bit
  gates it;
- the rules are the same ones, written over the same facts; the tie-breaks are kept exactly (the last
  complete follow-up is the last of equal dates in record order, as ``sorted(...)[-1]``; the follow-up that
  decides "overdue" is the first of equal dates, as ``max(...)``).

The property test (tests/metrics/test_state_equivalence.py) is what proves this equals the definition.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

from casemgmt.dates import add_months
from metrics.indicators.definitions import (
    FACE_TO_FACE_MODES,
    HOSPITALISED_NOW,
    OVERDUE_STATUSES,
    REACHED,
    REGISTERED_STATUSES,
    REGULAR_INTERVAL_MONTHS,
    REGULAR_MEDICATION,
    SEVERE_DISORDERS,
    STABLE,
    STABLE_WINDOW_MONTHS,
    TAKING_MEDICATION,
    FollowUpFact,
    PatientFacts,
    StatusFact,
)
from metrics.indicators.periods import Period, Quarter


@dataclass
class SlotMembership:
    """What one slot contributes: the holder, the R bit (deaths in the period included: the stored reading, the
    excluded one is derived from the death), the sets (valid where in R), events."""

    holder: str
    death_cause: int | None
    registered: bool
    sets: dict[str, bool] = field(default_factory=dict)
    events: dict[str, bool] = field(default_factory=dict)
    emergencies: int = 0


class PatientYear:
    """A patient's facts prepared once for all the slots of a year."""

    def __init__(self, facts: PatientFacts) -> None:
        self.facts = facts
        self.statuses: list[StatusFact] = sorted(facts.statuses, key=lambda s: s.effective_date)
        self.status_days = [s.effective_date for s in self.statuses]
        self.followups: list[FollowUpFact] = sorted(facts.followups, key=lambda f: f.date)  # stable: record order
        self.followup_days = [f.date for f in self.followups]
        self.complete = [f for f in self.followups if f.is_complete]
        self.complete_days = [f.date for f in self.complete]
        self.reached = [f for f in self.followups if f.outcome == REACHED]
        self.reached_days = [f.date for f in self.reached]
        self.emergencies = sorted(facts.emergencies)

    def status_on(self, day: dt.date) -> StatusFact | None:
        index = bisect_right(self.status_days, day)
        return self.statuses[index - 1] if index else None

    def last_reached(self, day: dt.date) -> FollowUpFact | None:
        """The reached follow-up ``max(..., key=date)`` picks among those up to *day*: the first of the latest day."""
        end = bisect_right(self.reached_days, day)
        if not end:
            return None
        return self.reached[bisect_left(self.reached_days, self.reached_days[end - 1])]

    def slot(self, period: Period) -> SlotMembership | None:
        facts, start, cutoff = self.facts, period.start, period.cutoff_date
        if facts.disorder not in SEVERE_DISORDERS or facts.registered_on > cutoff:
            return None
        holder = facts.holder_on(cutoff)
        status = self.status_on(cutoff)
        if holder is None or status is None or status.status == "CLOSED":
            return None
        died_in_period = status.status == "DEAD" and start <= status.effective_date
        in_period = self.followups[bisect_left(self.followup_days, start) : bisect_right(self.followup_days, cutoff)]
        result = SlotMembership(
            holder=holder,
            death_cause=(status.death_cause or 0) if died_in_period else None,
            registered=status.status in REGISTERED_STATUSES or died_in_period,
            events={
                "new_registration": start <= facts.registered_on,
                "minor_trouble": any(f.minor_trouble > 0 for f in in_period),
                "trouble": any(f.trouble > 0 for f in in_period),
                "disaster": any(f.disaster > 0 for f in in_period),
            },
            emergencies=bisect_right(self.emergencies, cutoff) - bisect_left(self.emergencies, start),
        )
        if result.registered:
            result.sets = self._sets(period, status, died_in_period)
        return result

    def _sets(self, period: Period, status: StatusFact, died_in_period: bool) -> dict[str, bool]:
        """The sets of §11 for a patient in R (the same under both readings of the deaths option)."""
        start, cutoff = period.start, period.cutoff_date
        last_reached = self.last_reached(cutoff)
        sets = {
            "lost": status.status == "LOST",
            "overdue": status.status in OVERDUE_STATUSES
            and last_reached is not None
            and last_reached.next_date is not None
            and last_reached.next_date < cutoff,
            "open_case": any(o <= cutoff and (c is None or c > cutoff) for o, c in self.facts.cases),
        }
        complete = self.complete[bisect_left(self.complete_days, start) : bisect_right(self.complete_days, cutoff)]
        if not complete:
            return sets
        last = complete[-1]
        dates = [f.date for f in complete]
        first, window_end = max(start, self.facts.registered_on), status.effective_date if died_in_period else cutoff
        in_hospital = last.hospitalisation == HOSPITALISED_NOW
        at_home = not in_hospital
        sets.update(
            managed=True,
            at_home=at_home,
            **_regular(dates, first, window_end, period),
            medication=in_hospital or last.adherence in TAKING_MEDICATION,
            regular_medication=in_hospital or last.adherence in REGULAR_MEDICATION,
            face_to_face=any(f.mode in FACE_TO_FACE_MODES for f in complete),
            family_support=any(f.family_support for f in complete),
            health_check=any(start <= d <= cutoff for d in self.facts.health_checks),
            stable=at_home and last.classification == STABLE and last.date >= add_months(cutoff, -STABLE_WINDOW_MONTHS),
            rehabilitation=at_home and any(s <= cutoff and (e is None or e >= start) for s, e in self.facts.rehab),
        )
        return sets


@lru_cache(maxsize=64)
def _quarter_bounds(year: int) -> tuple[tuple[dt.date, dt.date], ...]:
    return tuple((Quarter(year, q).start, Quarter(year, q).end) for q in range(1, 5))


def _regular(dates: list[dt.date], first: dt.date, last: dt.date, period: Period) -> dict[str, bool]:
    """``definitions.regularly_managed`` under both rules, with the year's quarter bounds computed once."""
    lower, upper = max(period.start, first), min(period.cutoff_date, last)
    quarters = [(s, e) for s, e in _quarter_bounds(period.year) if s >= lower and e <= upper]
    anchors = [first, *dates, last]
    return {
        "regular": all(any(s <= day <= e for day in dates) for s, e in quarters),
        "regular3m": len(dates) >= max(1, len(quarters))
        and all(add_months(a, REGULAR_INTERVAL_MONTHS) >= b for a, b in pairwise(anchors)),
    }
