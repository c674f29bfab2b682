"""The indicator definitions of domain.md §11 (rule set "bphs-2017"), as pure functions over plain facts.

This module is the direct definition: one patient's facts in, the sets that patient belongs to out. The
engine sums these memberships; any faster path (a pre-aggregated state table) must agree with it.

Configurable choices (each named in the report footer):
- ``regular_management``: ``quarterly`` (the project's Decision: ≥1 complete follow-up in the period and in
  every calendar quarter lying wholly inside [max(S, registration), C]) or ``interval-3m`` (at least one
  complete follow-up per such quarter's worth of time — 4 a year — and no two consecutive complete follow-ups
  more than 3 calendar months apart). For interval-3m the window's ends count as neighbours too: the first
  complete follow-up lies within 3 months of max(S, registration) and C within 3 months of the last one.
  Without that, four visits in January-April would make a patient "regularly managed" for a December report
  after eight months without contact, which no reading of "every 3 months" intends.
- ``medication_denominator``: ``registered`` (R) or ``managed`` (M, as in 2015-era national reports).
- ``deaths_in_period``: ``excluded`` (dead at or before C are out of R) or ``included`` (patients who died
  within the period stay in R). An included patient's window ends on the date of death: quarters after it
  are not required of them.

Beyond the sets, the period's events are counted for every patient attributed to the area (disorder 1–6,
registered by C, held under the area at C) whose record was not withdrawn (status CLOSED at C): new
registrations, deaths by cause, dangerous behaviour (肇事/肇祸/轻度滋事 > 0 in a follow-up of the period) and
emergency handlings. A patient who died in the period therefore still counts in these whatever
``deaths_in_period`` says; a record closed as a duplicate or a revised diagnosis counts in none.
Open cases and overdue patients are states at C, counted among R.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from casemgmt.dates import add_months
from metrics.indicators.periods import Period

RULE_SET = "bphs-2017"
SEVERE_DISORDERS = frozenset(range(1, 7))
SCHIZOPHRENIA = 1
REGISTERED_STATUSES = frozenset({"ACTIVE", "LOST", "REFUSED"})
OVERDUE_STATUSES = frozenset({"ACTIVE"})
REACHED = "REACHED"
HOSPITALISED_NOW = 1
FACE_TO_FACE_MODES = frozenset({1, 2})
TAKING_MEDICATION = frozenset({1, 2})  # 按医嘱规律用药, 间断用药
REGULAR_MEDICATION = frozenset({1})
STABLE = 3
STABLE_WINDOW_MONTHS = 3
REGULAR_INTERVAL_MONTHS = 3

REGULAR_MANAGEMENT_RULES = ("quarterly", "interval-3m")
MEDICATION_DENOMINATORS = ("registered", "managed")
DEATHS_IN_PERIOD = ("excluded", "included")


@dataclass(frozen=True)
class Options:
    regular_management: str = "quarterly"
    medication_denominator: str = "registered"
    deaths_in_period: str = "excluded"

    def __post_init__(self) -> None:
        if self.regular_management not in REGULAR_MANAGEMENT_RULES:
            raise ValueError(f"regular_management must be one of {REGULAR_MANAGEMENT_RULES}")
        if self.medication_denominator not in MEDICATION_DENOMINATORS:
            raise ValueError(f"medication_denominator must be one of {MEDICATION_DENOMINATORS}")
        if self.deaths_in_period not in DEATHS_IN_PERIOD:
            raise ValueError(f"deaths_in_period must be one of {DEATHS_IN_PERIOD}")

    def as_dict(self) -> dict[str, str]:
        return {
            "regular_management": self.regular_management,
            "medication_denominator": self.medication_denominator,
            "deaths_in_period": self.deaths_in_period,
        }


@dataclass(frozen=True)
class FollowUpFact:
    date: dt.date
    outcome: str
    risk_level: int | None = None
    hospitalisation: int | None = None
    adherence: int | None = None
    mode: int | None = None
    classification: int | None = None
    family_support: bool = False
    next_date: dt.date | None = None
    minor_trouble: int = 0
    trouble: int = 0
    disaster: int = 0

    @property
    def is_complete(self) -> bool:
        """Reached with a risk level, or reached while in hospital; attempts never count."""
        return self.outcome == REACHED and (self.risk_level is not None or self.hospitalisation == HOSPITALISED_NOW)


@dataclass(frozen=True)
class StatusFact:
    effective_date: dt.date
    status: str
    death_cause: int | None = None


@dataclass(frozen=True)
class CustodyFact:
    """The area holding the record from ``start`` (inclusive) until ``end`` (exclusive; None = still)."""

    area_code: str
    start: dt.date
    end: dt.date | None = None


@dataclass(frozen=True)
class PatientFacts:
    key: str
    disorder: int
    registered_on: dt.date
    statuses: tuple[StatusFact, ...]
    custody: tuple[CustodyFact, ...]
    followups: tuple[FollowUpFact, ...] = ()
    rehab: tuple[tuple[dt.date, dt.date | None], ...] = ()  # participation: first and last day (None = ongoing)
    health_checks: tuple[dt.date, ...] = ()
    cases: tuple[tuple[dt.date, dt.date | None], ...] = ()  # case management: opened, closed (None = open)
    emergencies: tuple[dt.date, ...] = ()  # dates of emergency handlings (§9) of this patient

    def status_on(self, day: dt.date) -> StatusFact | None:
        current = None
        for change in sorted(self.statuses, key=lambda s: s.effective_date):
            if change.effective_date <= day:
                current = change
        return current

    def holder_on(self, day: dt.date) -> str | None:
        for span in self.custody:
            if span.start <= day and (span.end is None or day < span.end):
                return span.area_code
        return None


@dataclass
class Membership:
    """Which §11 sets one patient belongs to for one area and period."""

    registered: bool = False
    managed: bool = False
    at_home: bool = False
    regular: bool = False
    medication: bool = False
    regular_medication: bool = False
    face_to_face: bool = False
    stable: bool = False
    rehabilitation: bool = False
    lost: bool = False
    family_support: bool = False
    health_check: bool = False
    schizophrenia: bool = False
    new_registration: bool = False
    death_cause: int | None = None  # died within the period (cause code), while held under the area
    overdue: bool = False
    minor_trouble: bool = False
    trouble: bool = False
    disaster: bool = False
    open_case: bool = False
    emergencies: int = 0  # emergency handlings in the period (a count, not a set)


def _in_registered(facts: PatientFacts, period: Period, options: Options) -> bool:
    cutoff = period.cutoff_date
    if facts.registered_on > cutoff:
        return False
    status = facts.status_on(cutoff)
    if status is None:
        return False
    if status.status in REGISTERED_STATUSES:
        return True
    return (
        options.deaths_in_period == "included"
        and status.status == "DEAD"
        and period.start <= status.effective_date <= cutoff
    )


def regularly_managed(dates: list[dt.date], first: dt.date, last: dt.date, period: Period, rule: str) -> bool:
    """Reg for one patient: *dates* are the complete follow-ups in the period, in order; the patient's window
    is [first, last] = [max(S, registration), C or the date of death]."""
    if not dates:
        return False
    quarters = period.quarters_within(first, last)
    if rule == "quarterly":
        return all(any(q.start <= day <= q.end for day in dates) for q in quarters)
    anchors = [first, *dates, last]
    gaps_ok = all(add_months(a, REGULAR_INTERVAL_MONTHS) >= b for a, b in pairwise(anchors))
    return len(dates) >= max(1, len(quarters)) and gaps_ok


def _case_open_at(cases: tuple[tuple[dt.date, dt.date | None], ...], day: dt.date) -> bool:
    """A case closed on C is no longer open at the end of C."""
    return any(opened <= day and (closed is None or closed > day) for opened, closed in cases)


def _overdue_at(facts: PatientFacts, status: StatusFact, cutoff: dt.date) -> bool:
    """Overdue at C: the last reached follow-up up to C set a next date that lies before C.

    Only patients ACTIVE at C are expected on schedule: LOST ones are counted in L, REFUSED ones are asked
    again yearly, and a patient who died in the period (kept in R by ``deaths_in_period``) is no longer due.
    A patient with no reached follow-up yet has no schedule to be late for.
    """
    if status.status not in OVERDUE_STATUSES:
        return False
    reached = [f for f in facts.followups if f.outcome == REACHED and f.date <= cutoff]
    if not reached:
        return False
    last = max(reached, key=lambda f: f.date)
    return last.next_date is not None and last.next_date < cutoff


def membership(facts: PatientFacts, prefix: str, period: Period, options: Options) -> Membership:
    """The sets of domain.md §11 this patient belongs to, for the area with code prefix *prefix*."""
    result = Membership()
    cutoff = period.cutoff_date
    if facts.disorder not in SEVERE_DISORDERS or facts.registered_on > cutoff:
        return result
    holder = facts.holder_on(cutoff)
    status = facts.status_on(cutoff)
    if holder is None or not holder.startswith(prefix) or status is None or status.status == "CLOSED":
        return result

    in_period = [f for f in facts.followups if period.start <= f.date <= cutoff]
    died_in_period = status.status == "DEAD" and period.start <= status.effective_date
    if died_in_period:
        result.death_cause = status.death_cause or 0
    result.new_registration = period.start <= facts.registered_on
    result.minor_trouble = any(f.minor_trouble > 0 for f in in_period)
    result.trouble = any(f.trouble > 0 for f in in_period)
    result.disaster = any(f.disaster > 0 for f in in_period)
    result.emergencies = sum(period.start <= day <= cutoff for day in facts.emergencies)
    if not _in_registered(facts, period, options):
        return result

    result.registered = True
    result.schizophrenia = facts.disorder == SCHIZOPHRENIA
    result.lost = status.status == "LOST"
    result.overdue = _overdue_at(facts, status, cutoff)
    result.open_case = _case_open_at(facts.cases, cutoff)
    complete = sorted((f for f in in_period if f.is_complete), key=lambda f: f.date)
    if not complete:
        return result
    last = complete[-1]

    window_end = status.effective_date if died_in_period else cutoff
    result.regular = regularly_managed(
        [f.date for f in complete],
        max(period.start, facts.registered_on),
        window_end,
        period,
        options.regular_management,
    )
    in_hospital = last.hospitalisation == HOSPITALISED_NOW
    result.medication = in_hospital or last.adherence in TAKING_MEDICATION
    result.regular_medication = in_hospital or last.adherence in REGULAR_MEDICATION
    result.managed = True
    result.at_home = not in_hospital
    result.face_to_face = any(f.mode in FACE_TO_FACE_MODES for f in complete)
    result.family_support = any(f.family_support for f in complete)
    result.health_check = any(period.start <= d <= cutoff for d in facts.health_checks)
    if result.at_home:
        window_start = add_months(cutoff, -STABLE_WINDOW_MONTHS)
        result.stable = last.classification == STABLE and last.date >= window_start
        result.rehabilitation = any(
            start <= cutoff and (end is None or end >= period.start) for start, end in facts.rehab
        )
    return result


@dataclass(frozen=True)
class Ratio:
    numerator: int
    denominator: int
    scale: int = 100  # percent; 1000 for per mille

    @property
    def value(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator * self.scale


@dataclass
class Tally:
    """Counts of every set over many patients."""

    counts: Counter[str] = field(default_factory=Counter)
    deaths_by_cause: Counter[int] = field(default_factory=Counter)

    def add(self, member: Membership) -> None:
        for name, value in vars(member).items():
            if isinstance(value, bool) and value:
                self.counts[name] += 1
        if member.death_cause is not None:
            self.deaths_by_cause[member.death_cause] += 1
        self.counts["emergencies"] += member.emergencies
        if member.schizophrenia:
            self.counts["schizophrenia_medication"] += member.medication
            self.counts["schizophrenia_managed"] += member.managed

    def merge(self, other: Tally) -> None:
        self.counts.update(other.counts)
        self.deaths_by_cause.update(other.deaths_by_cause)


def tally(facts: Iterable[PatientFacts], prefix: str, period: Period, options: Options) -> Tally:
    result = Tally()
    for patient in facts:
        result.add(membership(patient, prefix, period, options))
    return result


INDICATOR_NAMES = (
    "reported_prevalence",
    "management_rate",
    "regular_management_rate",
    "medication_rate",
    "regular_medication_rate",
    "schizophrenia_medication_rate",
    "face_to_face_rate",
    "stable_rate",
    "rehabilitation_rate",
    "lost_rate",
    "family_support_rate",
    "health_check_rate",
)


def indicators(result: Tally, population: int | None, options: Options) -> dict[str, Ratio | None]:
    """The twelve rates of §11. ``reported_prevalence`` is None when the population is unknown."""
    c = result.counts
    registered, managed, at_home = c["registered"], c["managed"], c["at_home"]
    by_managed = options.medication_denominator == "managed"
    medication_base = managed if by_managed else registered
    schizophrenia_base = c["schizophrenia_managed"] if by_managed else c["schizophrenia"]
    return {
        "reported_prevalence": None if population is None else Ratio(registered, population, 1000),
        "management_rate": Ratio(managed, registered),
        "regular_management_rate": Ratio(c["regular"], registered),
        "medication_rate": Ratio(c["medication"], medication_base),
        "regular_medication_rate": Ratio(c["regular_medication"], medication_base),
        "schizophrenia_medication_rate": Ratio(c["schizophrenia_medication"], schizophrenia_base),
        "face_to_face_rate": Ratio(c["face_to_face"], managed),
        "stable_rate": Ratio(c["stable"], at_home),
        "rehabilitation_rate": Ratio(c["rehabilitation"], at_home),
        "lost_rate": Ratio(c["lost"], registered),
        "family_support_rate": Ratio(c["family_support"], managed),
        "health_check_rate": Ratio(c["health_check"], managed),
    }
