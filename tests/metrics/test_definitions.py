"""domain.md §11, edge case by edge case. Area prefix 320508 (the county); today 2026-11-23."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from metrics.indicators.definitions import (
    CustodyFact,
    FollowUpFact,
    Membership,
    Options,
    PatientFacts,
    StatusFact,
    indicators,
    membership,
    tally,
)
from metrics.indicators.periods import parse_period

D = dt.date
TODAY = D(2026, 11, 23)
COUNTY = "320508"
VILLAGE = "320508001001"
OTHER_COUNTY_VILLAGE = "320509001001"
LONG_AGO = D(2020, 3, 1)
YEAR = parse_period("2025", today=TODAY)
DEFAULT = Options()


def reached(day: dt.date, **extra: object) -> FollowUpFact:
    values: dict[str, object] = {
        "risk_level": 0, "adherence": 1, "mode": 2, "classification": 3, "hospitalisation": 0,
        "family_support": True, "next_date": day + dt.timedelta(days=90),
    }  # fmt: skip
    values.update(extra)
    return FollowUpFact(date=day, outcome="REACHED", **values)  # type: ignore[arg-type]


def quarterly(year: int = 2025, **extra: object) -> tuple[FollowUpFact, ...]:
    return tuple(reached(D(year, month, 15), **extra) for month in (2, 5, 8, 11))


def patient(
    *,
    registered: dt.date = LONG_AGO,
    disorder: int = 1,
    followups: tuple[FollowUpFact, ...] = (),
    statuses: tuple[StatusFact, ...] = (),
    custody: tuple[CustodyFact, ...] | None = None,
    rehab: tuple[tuple[dt.date, dt.date | None], ...] = (),
    health_checks: tuple[dt.date, ...] = (),
    cases: tuple[tuple[dt.date, dt.date | None], ...] = (),
    emergencies: tuple[dt.date, ...] = (),
) -> PatientFacts:
    return PatientFacts(
        key="p",
        disorder=disorder,
        registered_on=registered,
        statuses=(StatusFact(registered, "ACTIVE"), *statuses),
        custody=custody if custody is not None else (CustodyFact(VILLAGE, registered),),
        followups=followups,
        rehab=rehab,
        health_checks=health_checks,
        cases=cases,
        emergencies=emergencies,
    )


def member(
    facts: PatientFacts, period_text: str = "2025", options: Options = DEFAULT, prefix: str = COUNTY
) -> Membership:
    return membership(facts, prefix, parse_period(period_text, today=TODAY), options)


# --- R: registered ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "facts", "registered"),
    [
        ("active all year", patient(), True),
        ("registered after the cut-off", patient(registered=D(2026, 1, 5)), False),
        ("registered on the cut-off day", patient(registered=D(2025, 12, 31)), True),
        ("disorder 99 never counts", patient(disorder=99, followups=quarterly()), False),
        ("lost stays registered", patient(statuses=(StatusFact(D(2025, 6, 1), "LOST"),)), True),
        ("refused stays registered", patient(statuses=(StatusFact(D(2025, 6, 1), "REFUSED"),)), True),
        ("closed before the cut-off is out", patient(statuses=(StatusFact(D(2025, 6, 1), "CLOSED"),)), False),
        ("died before the cut-off is out", patient(statuses=(StatusFact(D(2025, 6, 1), "DEAD", 1),)), False),
        ("died on the cut-off day is out", patient(statuses=(StatusFact(D(2025, 12, 31), "DEAD", 1),)), False),
        ("died after the cut-off is in", patient(statuses=(StatusFact(D(2026, 1, 2), "DEAD", 1),)), True),
        ("held by another county", patient(custody=(CustodyFact(OTHER_COUNTY_VILLAGE, D(2020, 3, 1)),)), False),
    ],
)
def test_registered(case: str, facts: PatientFacts, registered: bool) -> None:
    assert member(facts).registered is registered, case


def test_deaths_in_period_option_keeps_patients_who_died_within_the_period() -> None:
    died = patient(statuses=(StatusFact(D(2025, 6, 1), "DEAD", 2),))
    died_before = patient(statuses=(StatusFact(D(2024, 6, 1), "DEAD", 2),))
    included = Options(deaths_in_period="included")
    assert member(died, options=included).registered
    assert not member(died_before, options=included).registered
    assert member(died).death_cause == 2  # counted as a death of the period either way
    assert member(died_before).death_cause is None


@pytest.mark.parametrize(
    ("case", "custody", "in_old", "in_new"),
    [
        (
            "accepted before the cut-off: counts for the receiver",
            (CustodyFact(VILLAGE, D(2020, 3, 1), D(2025, 9, 1)), CustodyFact(OTHER_COUNTY_VILLAGE, D(2025, 9, 1))),
            False,
            True,
        ),
        (
            "accepted after the cut-off: counts for the sender",
            (CustodyFact(VILLAGE, D(2020, 3, 1), D(2026, 1, 10)), CustodyFact(OTHER_COUNTY_VILLAGE, D(2026, 1, 10))),
            True,
            False,
        ),
        ("still pending: the sender keeps it", (CustodyFact(VILLAGE, D(2020, 3, 1)),), True, False),
    ],
)
def test_transfers_attribute_to_the_holder_at_the_cutoff(
    case: str, custody: tuple[CustodyFact, ...], in_old: bool, in_new: bool
) -> None:
    facts = patient(custody=custody, followups=quarterly())
    assert member(facts, prefix=COUNTY).registered is in_old, case
    assert member(facts, prefix="320509").registered is in_new, case


def test_a_transferred_patient_brings_their_history() -> None:
    custody = (CustodyFact(VILLAGE, D(2020, 3, 1), D(2025, 9, 1)), CustodyFact(OTHER_COUNTY_VILLAGE, D(2025, 9, 1)))
    assert member(patient(custody=custody, followups=quarterly()), prefix="320509").regular


# --- complete follow-ups, M, H ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "followup", "managed"),
    [
        ("reached with a risk level", reached(D(2025, 5, 1)), True),
        ("not reached never counts", FollowUpFact(D(2025, 5, 1), "NOT_REACHED"), False),
        ("reached without a risk level", reached(D(2025, 5, 1), risk_level=None), False),
        ("reached, no risk level, in hospital", reached(D(2025, 5, 1), risk_level=None, hospitalisation=1), True),
        ("reached before the period", reached(D(2024, 12, 31)), False),
        ("reached after the cut-off", reached(D(2026, 1, 1)), False),
    ],
)
def test_managed(case: str, followup: FollowUpFact, managed: bool) -> None:
    assert member(patient(followups=(followup,))).managed is managed, case


def test_hospitalised_patients_are_managed_and_medicated_but_not_at_home() -> None:
    facts = patient(followups=(reached(D(2025, 11, 1), hospitalisation=1, adherence=None, classification=None),))
    result = member(facts)
    assert (result.managed, result.at_home, result.medication, result.regular_medication) == (True, False, True, True)


def test_discharged_later_is_at_home_again() -> None:
    facts = patient(followups=(reached(D(2025, 6, 1), hospitalisation=1), reached(D(2025, 11, 1), hospitalisation=2)))
    assert member(facts).at_home


# --- Reg: regularly managed ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "facts", "period", "regular"),
    [
        ("one in each quarter", patient(followups=quarterly()), "2025", True),
        ("Q3 missing", patient(followups=tuple(f for f in quarterly() if f.date.month != 8)), "2025", False),
        (
            "Q3 only a not-reached attempt",
            patient(
                followups=(*(f for f in quarterly() if f.date.month != 8), FollowUpFact(D(2025, 8, 1), "NOT_REACHED"))
            ),
            "2025",
            False,
        ),
        (
            "registered 10 Feb needs Q2-Q4 only",
            patient(registered=D(2025, 2, 10), followups=tuple(f for f in quarterly() if f.date.month != 2)),
            "2025",
            True,
        ),
        (
            "registered on 1 Apr needs Q2 too",
            patient(registered=D(2025, 4, 1), followups=tuple(f for f in quarterly() if f.date.month in (8, 11))),
            "2025",
            False,
        ),
        (
            "registered mid-December: no whole quarter, one follow-up suffices",
            patient(registered=D(2025, 12, 10), followups=(reached(D(2025, 12, 20)),)),
            "2025",
            True,
        ),
        (
            "registered mid-December without a follow-up",
            patient(registered=D(2025, 12, 10)),
            "2025",
            False,
        ),
        (
            "YTD to 31 Aug checks Q1-Q2 only",
            patient(followups=(reached(D(2025, 2, 1)), reached(D(2025, 5, 1)))),
            "2025-YTD-08",
            True,
        ),
        ("YTD missing Q2", patient(followups=(reached(D(2025, 2, 1)), reached(D(2025, 7, 1)))), "2025-YTD-08", False),
        ("a month needs one follow-up", patient(followups=(reached(D(2025, 7, 9)),)), "2025-07", True),
    ],
)
def test_regular_management_quarterly(case: str, facts: PatientFacts, period: str, regular: bool) -> None:
    assert member(facts, period).regular is regular, case


INTERVAL = Options(regular_management="interval-3m")


@pytest.mark.parametrize(
    ("case", "months", "regular"),
    [
        ("four, at most 3 months apart", (1, 4, 7, 10), True),
        ("four, one gap over 3 months", (1, 2, 7, 10), False),
        ("three is too few", (2, 5, 8), False),
        ("one per quarter but 4 months apart", (1, 5, 8, 11), False),
        ("four in spring, silence since June", (3, 4, 5, 6), False),
        ("first visit more than 3 months into the year", (4, 6, 8, 10, 12), False),
        ("last visit more than 3 months before the cut-off", (1, 3, 5, 7, 9), False),
    ],
)
def test_regular_management_interval_rule(case: str, months: tuple[int, ...], regular: bool) -> None:
    facts = patient(followups=tuple(reached(D(2025, m, 15)) for m in months))
    assert member(facts, options=INTERVAL).regular is regular, case


def test_interval_rule_for_a_patient_registered_mid_year() -> None:
    registered = D(2025, 5, 20)  # window 20 May-31 Dec: Q3 and Q4 are whole, so at least 2 follow-ups
    facts = patient(registered=registered, followups=tuple(reached(D(2025, m, 15)) for m in (7, 9, 11)))
    assert member(facts, options=INTERVAL).regular
    late_start = patient(registered=registered, followups=tuple(reached(D(2025, m, 25)) for m in (8, 10, 12)))
    assert not member(late_start, options=INTERVAL).regular  # 20 May -> 25 Aug is over 3 months


@pytest.mark.parametrize(
    ("case", "died", "months", "rule", "regular"),
    [
        ("died 15 May: only Q1 was whole", D(2025, 5, 15), (2,), "quarterly", True),
        ("died 30 Jun: Q2 was whole too", D(2025, 6, 30), (2,), "quarterly", False),
        ("died 30 Jun, seen in Q1 and Q2", D(2025, 6, 30), (2, 5), "quarterly", True),
        ("interval rule ends at the death", D(2025, 6, 30), (2, 5), "interval-3m", True),
    ],
)
def test_patients_who_died_in_the_period_are_judged_up_to_their_death(
    case: str, died: dt.date, months: tuple[int, ...], rule: str, regular: bool
) -> None:
    facts = patient(statuses=(StatusFact(died, "DEAD", 1),), followups=tuple(reached(D(2025, m, 15)) for m in months))
    options = Options(regular_management=rule, deaths_in_period="included")
    result = member(facts, options=options)
    assert result.registered and result.regular is regular, case
    assert not member(facts).registered  # the default excludes them


# --- T, G, F, Fs, Hc, L ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("adherence", "medication", "regular_medication"),
    [(1, True, True), (2, True, False), (3, False, False), (4, False, False), (None, False, False)],
)
def test_medication_uses_the_last_complete_follow_up(
    adherence: int | None, medication: bool, regular_medication: bool
) -> None:
    facts = patient(followups=(reached(D(2025, 3, 1), adherence=1), reached(D(2025, 9, 1), adherence=adherence)))
    result = member(facts)
    assert (result.medication, result.regular_medication) == (medication, regular_medication)


def test_a_later_not_reached_attempt_does_not_replace_the_last_complete_follow_up() -> None:
    facts = patient(followups=(reached(D(2025, 9, 1), adherence=1), FollowUpFact(D(2025, 12, 1), "NOT_REACHED")))
    assert member(facts).regular_medication


def test_face_to_face_family_support_and_health_check() -> None:
    by_phone = patient(followups=(reached(D(2025, 5, 1), mode=3, family_support=False),))
    result = member(by_phone)
    assert (result.face_to_face, result.family_support, result.health_check) == (False, False, False)
    seen = patient(
        followups=(reached(D(2025, 5, 1), mode=3), reached(D(2025, 6, 1), mode=1)), health_checks=(D(2025, 7, 1),)
    )
    result = member(seen)
    assert (result.face_to_face, result.family_support, result.health_check) == (True, True, True)
    assert not member(patient(health_checks=(D(2025, 7, 1),))).health_check  # Hc is within M


def test_lost_patients_count_in_lost() -> None:
    assert member(patient(statuses=(StatusFact(D(2025, 6, 1), "LOST"),))).lost
    found_again = patient(statuses=(StatusFact(D(2025, 6, 1), "LOST"), StatusFact(D(2025, 8, 1), "ACTIVE")))
    assert not member(found_again).lost


# --- St, Rh ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "last", "stable"),
    [
        ("stable, within 3 months of the cut-off", reached(D(2025, 10, 15)), True),
        ("stable, exactly C minus 3 months", reached(D(2025, 9, 30)), True),
        ("stable, older than C minus 3 months", reached(D(2025, 9, 29)), False),
        ("basically stable", reached(D(2025, 12, 1), classification=2), False),
        ("unclassified", reached(D(2025, 12, 1), classification=None), False),
    ],
)
def test_stable_needs_a_recent_stable_follow_up(case: str, last: FollowUpFact, stable: bool) -> None:
    assert member(patient(followups=(reached(D(2025, 2, 1)), last))).stable is stable, case


@pytest.mark.parametrize(
    ("case", "rehab", "expected"),
    [
        ("ongoing since last year", ((D(2024, 3, 1), None),), True),
        ("ended before the period", ((D(2023, 3, 1), D(2024, 12, 31)),), False),
        ("started after the cut-off", ((D(2026, 1, 2), None),), False),
        ("one week in the period", ((D(2025, 6, 1), D(2025, 6, 7)),), True),
    ],
)
def test_rehabilitation_overlaps_the_period(
    case: str, rehab: tuple[tuple[dt.date, dt.date | None], ...], expected: bool
) -> None:
    assert member(patient(followups=quarterly(), rehab=rehab)).rehabilitation is expected, case


def test_hospitalised_patients_are_outside_stable_and_rehabilitation() -> None:
    facts = patient(followups=(reached(D(2025, 12, 1), hospitalisation=1),), rehab=((D(2024, 1, 1), None),))
    result = member(facts)
    assert (result.stable, result.rehabilitation) == (False, False)


# --- counts ---------------------------------------------------------------------------------------------------


def test_overdue_at_cutoff() -> None:
    late = patient(followups=(reached(D(2025, 9, 1), next_date=D(2025, 12, 1)),))
    assert member(late).overdue
    due_on_cutoff = patient(followups=(reached(D(2025, 10, 1), next_date=D(2025, 12, 31)),))
    assert not member(due_on_cutoff).overdue
    tried_but_missed = patient(
        followups=(reached(D(2025, 9, 1), next_date=D(2025, 10, 1)), FollowUpFact(D(2025, 10, 2), "NOT_REACHED"))
    )
    assert member(tried_but_missed).overdue


def test_overdue_counts_only_patients_active_at_the_cutoff() -> None:
    late = (reached(D(2025, 3, 1), next_date=D(2025, 6, 1)),)
    assert not member(patient(followups=late, statuses=(StatusFact(D(2025, 7, 1), "LOST"),))).overdue
    assert not member(patient(followups=late, statuses=(StatusFact(D(2025, 7, 1), "REFUSED"),))).overdue
    assert member(patient(followups=late)).overdue  # active: overdue
    assert not member(patient()).overdue  # never reached: no schedule yet


@pytest.mark.parametrize(
    ("case", "facts", "new"),
    [
        ("registered in the period", patient(registered=D(2025, 3, 1)), True),
        ("registered on S", patient(registered=D(2025, 1, 1)), True),
        ("registered the day before S", patient(registered=D(2024, 12, 31)), False),
        (
            "registered in the period, died in it",
            patient(registered=D(2025, 3, 1), statuses=(StatusFact(D(2025, 5, 1), "DEAD", 4),)),
            True,
        ),
        (
            "registered in the period, withdrawn as a duplicate",
            patient(registered=D(2025, 3, 1), statuses=(StatusFact(D(2025, 5, 1), "CLOSED"),)),
            False,
        ),
        ("disorder 99", patient(registered=D(2025, 3, 1), disorder=99), False),
    ],
)
def test_new_registrations(case: str, facts: PatientFacts, new: bool) -> None:
    assert member(facts).new_registration is new, case


def test_events_of_a_patient_who_died_in_the_period_still_count() -> None:
    facts = patient(
        followups=(reached(D(2025, 3, 1), disaster=1),),
        statuses=(StatusFact(D(2025, 5, 1), "DEAD", 2),),
        emergencies=(D(2025, 4, 30),),
    )
    result = member(facts)
    assert (result.registered, result.disaster, result.death_cause, result.emergencies) == (False, True, 2, 1)
    closed = patient(followups=(reached(D(2025, 3, 1), disaster=1),), statuses=(StatusFact(D(2025, 5, 1), "CLOSED"),))
    assert not member(closed).disaster


@pytest.mark.parametrize(
    ("case", "cases", "open_case"),
    [
        ("opened in the period, still open", ((D(2025, 5, 1), None),), True),
        ("closed before the cut-off", ((D(2025, 5, 1), D(2025, 9, 1)),), False),
        ("closed on the cut-off day", ((D(2025, 5, 1), D(2025, 12, 31)),), False),
        ("closed after the cut-off", ((D(2025, 5, 1), D(2026, 2, 1)),), True),
        ("opened after the cut-off", ((D(2026, 1, 2), None),), False),
    ],
)
def test_open_cases_at_the_cutoff(
    case: str, cases: tuple[tuple[dt.date, dt.date | None], ...], open_case: bool
) -> None:
    assert member(patient(cases=cases)).open_case is open_case, case


def test_emergencies_are_counted_within_the_period() -> None:
    facts = patient(emergencies=(D(2024, 12, 31), D(2025, 1, 1), D(2025, 7, 1), D(2026, 1, 1)))
    assert member(facts).emergencies == 2
    assert tally([facts, facts], COUNTY, YEAR, DEFAULT).counts["emergencies"] == 4


def test_dangerous_behaviour_counts_in_the_period() -> None:
    facts = patient(followups=(reached(D(2025, 3, 1), trouble=1), reached(D(2024, 3, 1), disaster=1)))
    result = member(facts)
    assert (result.minor_trouble, result.trouble, result.disaster) == (False, True, False)


# --- indicators -------------------------------------------------------------------------------------------------


def test_indicators_zero_denominators_and_missing_population() -> None:
    empty = tally([], COUNTY, YEAR, DEFAULT)
    rates = indicators(empty, population=None, options=DEFAULT)
    assert rates["reported_prevalence"] is None
    management = rates["management_rate"]
    assert management is not None and management.value is None


def test_indicators_over_a_small_registry() -> None:
    facts = [
        patient(followups=quarterly()),  # regular, stable, medicated, face to face
        patient(followups=(reached(D(2025, 5, 1), adherence=2, classification=2),)),
        patient(disorder=4),  # registered, never followed up
        patient(disorder=99, followups=quarterly()),  # excluded
    ]
    result = tally(facts, COUNTY, YEAR, DEFAULT)
    rates = indicators(result, population=1000, options=DEFAULT)
    values = {name: (r.numerator, r.denominator) for name, r in rates.items() if r is not None}
    assert values["reported_prevalence"] == (3, 1000)
    prevalence = rates["reported_prevalence"]
    assert prevalence is not None and prevalence.value == pytest.approx(3.0)
    assert values["management_rate"] == (2, 3)
    assert values["regular_management_rate"] == (1, 3)
    assert values["medication_rate"] == (2, 3)
    assert values["regular_medication_rate"] == (1, 3)
    assert values["schizophrenia_medication_rate"] == (2, 2)
    assert values["stable_rate"] == (1, 2)

    by_managed = Options(medication_denominator="managed")
    managed_rates = indicators(tally(facts, COUNTY, YEAR, by_managed), population=1000, options=by_managed)
    medication = managed_rates["medication_rate"]
    assert medication is not None and (medication.numerator, medication.denominator) == (2, 2)


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="regular_management"):
        Options(regular_management="monthly")
    assert replace(DEFAULT, deaths_in_period="included").as_dict()["deaths_in_period"] == "included"
