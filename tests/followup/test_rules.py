"""domain.md §5–7 as tables: classification, intervals, the next date, risk and self-harm, overdue, attempts.

Pure rules: no database. Each table below reads like the table in domain.md it checks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from followup.codes import RiskLevel
from followup.visits import rules
from followup.visits.rules import BASICALLY_STABLE, STABLE, UNSTABLE, Assessment, Attempt, NextDate

D = dt.date
WELL = {"risk_level": 0, "symptoms": (), "insight": 1, "social": (1, 1, 1, 1, 1)}


def assess(**changes: object) -> Assessment:
    """A patient doing well (the 稳定 row), with the given items changed."""
    return Assessment(**{**WELL, **changes})  # type: ignore[arg-type]


# --- §7 classification ---------------------------------------------------------------------------------------------

CLASSIFICATION_TABLE = [
    # (row of domain.md §7, assessment, suggested class, reason)
    # 不稳定 unstable: risk 3–5, or obvious psychotic symptoms, or insight absent, or a severe adverse reaction,
    # or a severe physical illness
    ("unstable: risk 3", assess(risk_level=3), UNSTABLE, "risk_3_5"),
    ("unstable: risk 4", assess(risk_level=4), UNSTABLE, "risk_3_5"),
    ("unstable: risk 5", assess(risk_level=5), UNSTABLE, "risk_3_5"),
    ("unstable: obvious psychotic symptoms", assess(obvious_psychotic_symptoms=True), UNSTABLE, "psychotic_symptoms"),
    ("unstable: insight absent (3)", assess(insight=3), UNSTABLE, "insight_absent"),
    ("unstable: severe adverse reaction", assess(severe_adverse_reaction=True), UNSTABLE, "severe_adverse_reaction"),
    ("unstable: severe physical illness", assess(severe_physical_illness=True), UNSTABLE, "severe_physical_illness"),
    # 基本稳定 basically stable: otherwise risk 1–2, or symptoms, or a social-functioning item poor (较差)
    ("basic: risk 1", assess(risk_level=1), BASICALLY_STABLE, "risk_1_2"),
    ("basic: risk 2", assess(risk_level=2), BASICALLY_STABLE, "risk_1_2"),
    ("basic: symptoms present", assess(symptoms=(1,)), BASICALLY_STABLE, "symptoms"),
    ("basic: 'other' symptom only", assess(symptoms=(12,)), BASICALLY_STABLE, "symptoms"),
    ("basic: self-care poor", assess(social=(3, 1, 1, 1, 1)), BASICALLY_STABLE, "social_poor"),
    ("basic: housework poor", assess(social=(1, 3, 1, 1, 1)), BASICALLY_STABLE, "social_poor"),
    ("basic: work poor", assess(social=(1, 1, 3, 1, 1)), BASICALLY_STABLE, "social_poor"),
    ("basic: learning poor", assess(social=(1, 1, 1, 3, 1)), BASICALLY_STABLE, "social_poor"),
    ("basic: social contact poor", assess(social=(1, 1, 1, 1, 3)), BASICALLY_STABLE, "social_poor"),
    # Decision: insight 2 alone is left to the doctor; the suggestion is the cautious 基本稳定, flagged.
    ("insight partial (2) alone", assess(insight=2), BASICALLY_STABLE, "insight_partial"),
    # In hospital the risk level may be missing: nothing proves stability, left to the doctor.
    ("risk not assessed (in hospital)", assess(risk_level=None), BASICALLY_STABLE, "risk_unknown"),
    ("insight not assessed (in hospital)", assess(insight=None), BASICALLY_STABLE, "insight_unknown"),
    # Decision: a blank sleep, diet or social item is not "good" — left to the doctor, naming what is missing.
    (
        "sleep, diet and social items blank",
        assess(social=(), unanswered=rules.ASSESSED_ITEMS),
        BASICALLY_STABLE,
        "items_unanswered",
    ),
    ("diet blank", assess(unanswered=("diet",)), BASICALLY_STABLE, "items_unanswered"),
    ("blank items but risk 2 decides", assess(risk_level=2, unanswered=("sleep",)), BASICALLY_STABLE, "risk_1_2"),
    ("blank items but risk 3 decides", assess(risk_level=3, unanswered=("sleep",)), UNSTABLE, "risk_3_5"),
    # 稳定 stable: risk 0, no symptoms, insight recovered, social items fair/good/n-a, no severe ADR or illness
    ("stable: all good", assess(), STABLE, None),
    ("stable: social items fair (2)", assess(social=(2, 2, 2, 2, 2)), STABLE, None),
    ("stable: work not applicable (9)", assess(social=(1, 1, 9, 1, 1)), STABLE, None),
]


@pytest.mark.parametrize(
    ("row", "assessment", "expected", "reason"), CLASSIFICATION_TABLE, ids=[r[0] for r in CLASSIFICATION_TABLE]
)
def test_classification_suggestion(row: str, assessment: Assessment, expected: int, reason: str | None) -> None:
    suggestion = rules.suggest_classification(assessment)
    assert suggestion.classification == expected, row
    assert suggestion.reasons == ((reason,) if reason else ()), row


@pytest.mark.parametrize(
    ("assessment", "doctor_decides"),
    [
        (assess(insight=2), True),
        (assess(risk_level=None), True),
        (assess(risk_level=1), False),  # the rules say basically stable themselves
        (assess(risk_level=3), False),
        (assess(), False),
    ],
)
def test_only_undecidable_suggestions_are_left_to_the_doctor(assessment: Assessment, doctor_decides: bool) -> None:
    assert rules.suggest_classification(assessment).doctor_decides is doctor_decides


def test_a_blank_item_is_never_counted_as_good() -> None:
    """With sleep, diet and the five social items left blank the form once suggested 稳定 and 3 months."""
    suggestion = rules.suggest_classification(assess(social=(), unanswered=rules.ASSESSED_ITEMS))
    assert (suggestion.classification, suggestion.doctor_decides) == (BASICALLY_STABLE, True)
    assert suggestion.needs == rules.ASSESSED_ITEMS
    assert rules.suggest_classification(assess(unanswered=("social_work",))).needs == ("social_work",)
    assert rules.suggest_classification(assess()).needs == ()


def test_unstable_wins_and_every_reason_is_listed() -> None:
    suggestion = rules.suggest_classification(
        assess(risk_level=4, insight=3, symptoms=(1, 2), social=(3, 3, 3, 3, 3), severe_physical_illness=True)
    )
    assert suggestion.classification == UNSTABLE
    assert suggestion.reasons == ("risk_3_5", "insight_absent", "severe_physical_illness")


def test_basically_stable_wins_over_partial_insight() -> None:
    suggestion = rules.suggest_classification(assess(risk_level=1, insight=2))
    assert (suggestion.classification, suggestion.reasons, suggestion.doctor_decides) == (
        BASICALLY_STABLE,
        ("risk_1_2",),
        False,
    )


def test_unanswered_social_items_do_not_count_as_poor() -> None:
    assert rules.suggest_classification(assess(social=())).classification == STABLE


# --- §6 risk levels and self-harm -------------------------------------------------------------------------------

RISK_TABLE = [
    # (level, a phrase of its national description)
    (0, "无符合以下1—5级中的任何行为"),
    (1, "口头威胁，喊叫，但没有打砸行为"),
    (2, "局限在家里，针对财物，能被劝说制止"),
    (3, "明显打砸行为，不分场合，针对财物，不能接受劝说而停止"),
    (4, "持续的打砸行为，不分场合，针对财物或人，不能接受劝说而停止（包括自伤、自杀）"),
    (5, "持管制性危险武器的针对人的任何暴力行为，或者纵火、爆炸等行为"),
]


@pytest.mark.parametrize(("level", "phrase"), RISK_TABLE)
def test_risk_level_descriptions(level: int, phrase: str) -> None:
    assert phrase in str(RiskLevel(level).label)


@pytest.mark.parametrize(
    ("risk", "self_harm", "attempt", "ask_to_confirm"),
    [
        (4, 1, 0, False),  # self-harm is level 4 behaviour
        (4, 0, 1, False),  # so is a suicide attempt
        (5, 2, 1, False),  # a higher level needs no confirmation
        (3, 1, 0, True),  # below 4 with self-harm: the doctor must confirm, the level is never raised silently
        (0, 0, 1, True),
        (None, 1, 0, True),
        (2, 0, 0, False),  # no self-harm recorded: nothing to confirm
        (0, 0, 0, False),
    ],
)
def test_self_harm_below_level_four_asks_for_confirmation(
    risk: int | None, self_harm: int, attempt: int, ask_to_confirm: bool
) -> None:
    assert rules.needs_self_harm_confirmation(risk, self_harm, attempt) is ask_to_confirm


def test_fruit_knife_at_home_intending_suicide_is_level_four_not_five() -> None:
    """domain.md §6's test case. Self-harm, suicide included, is level 4; level 5 needs violence *against
    people* with a controlled weapon, or arson/explosion. Holding a fruit knife at home to kill oneself is
    therefore recorded as level 4 with a suicide attempt: accepted without confirmation, and unstable."""
    level_four, level_five = str(RiskLevel.PERSONS.label), str(RiskLevel.WEAPON.label)
    assert "自伤、自杀" in level_four
    assert "针对人" in level_five and "自伤" not in level_five and "自杀" not in level_five
    assert not rules.needs_self_harm_confirmation(RiskLevel.PERSONS, self_harm=0, suicide_attempt=1)
    suggestion = rules.suggest_classification(assess(risk_level=RiskLevel.PERSONS))
    assert suggestion.classification == UNSTABLE


# --- §7 the next follow-up date ---------------------------------------------------------------------------------

NEXT_DATE_TABLE = [
    # (class now, visit, class of the previous reached follow-up, proposed next date)
    (UNSTABLE, D(2025, 3, 10), None, D(2025, 3, 24)),  # unstable: 14 days
    (UNSTABLE, D(2025, 3, 10), UNSTABLE, D(2025, 3, 24)),
    (UNSTABLE, D(2025, 12, 25), None, D(2026, 1, 8)),  # across the year
    (BASICALLY_STABLE, D(2025, 3, 10), None, D(2025, 3, 24)),  # basically stable: 14 days
    (BASICALLY_STABLE, D(2025, 3, 10), STABLE, D(2025, 3, 24)),
    (BASICALLY_STABLE, D(2025, 3, 10), UNSTABLE, D(2025, 3, 24)),
    (BASICALLY_STABLE, D(2025, 3, 10), BASICALLY_STABLE, D(2025, 4, 10)),  # still not stable: 1 calendar month
    (BASICALLY_STABLE, D(2025, 1, 31), BASICALLY_STABLE, D(2025, 2, 28)),  # Jan 31 + 1 month = Feb 28
    (BASICALLY_STABLE, D(2024, 1, 31), BASICALLY_STABLE, D(2024, 2, 29)),  # … Feb 29 in a leap year
    (BASICALLY_STABLE, D(2025, 8, 31), BASICALLY_STABLE, D(2025, 9, 30)),
    (BASICALLY_STABLE, D(2025, 12, 31), BASICALLY_STABLE, D(2026, 1, 31)),
    (STABLE, D(2025, 3, 10), None, D(2025, 6, 10)),  # stable: 3 calendar months
    (STABLE, D(2025, 3, 31), STABLE, D(2025, 6, 30)),
    (STABLE, D(2025, 11, 30), None, D(2026, 2, 28)),  # Nov 30 + 3 months = Feb 28
    (STABLE, D(2023, 11, 30), None, D(2024, 2, 29)),  # … Feb 29 in a leap year
    (STABLE, D(2099, 11, 30), None, D(2100, 2, 28)),  # 2100 is not a leap year
    (STABLE, D(2025, 12, 31), None, D(2026, 3, 31)),
]


@pytest.mark.parametrize(("classification", "visit", "previous", "expected"), NEXT_DATE_TABLE)
def test_next_followup_date(classification: int, visit: dt.date, previous: int | None, expected: dt.date) -> None:
    assert rules.next_followup_date(classification, visit, previous) == expected


def test_at_least_four_follow_ups_a_year_whatever_the_class() -> None:
    for classification in (UNSTABLE, BASICALLY_STABLE, STABLE):
        visit, previous, count = D(2025, 1, 1), None, 0
        while visit.year == 2025:
            visit, previous = rules.next_followup_date(classification, visit, previous), classification
            count += 1
        assert count >= rules.MINIMUM_FOLLOWUPS_PER_YEAR, classification


@pytest.mark.parametrize(
    ("proposed", "suggested", "visit", "verdict"),
    [
        (D(2025, 5, 1), D(2025, 6, 10), D(2025, 3, 10), NextDate.ACCEPTED),  # earlier: always fine
        (D(2025, 6, 10), D(2025, 6, 10), D(2025, 3, 10), NextDate.ACCEPTED),  # the suggestion itself
        (D(2025, 6, 11), D(2025, 6, 10), D(2025, 3, 10), NextDate.NEEDS_REASON),  # a day later: needs a reason
        (D(2025, 12, 1), D(2025, 6, 10), D(2025, 3, 10), NextDate.NEEDS_REASON),
        (D(2025, 3, 10), D(2025, 6, 10), D(2025, 3, 10), NextDate.NOT_AFTER_VISIT),  # the visit's own day
        (D(2025, 3, 1), D(2025, 6, 10), D(2025, 3, 10), NextDate.NOT_AFTER_VISIT),
        (D(2025, 3, 1), D(2025, 6, 10), None, NextDate.ACCEPTED),  # without a visit date: only the comparison
    ],
)
def test_check_next_date(proposed: dt.date, suggested: dt.date, visit: dt.date | None, verdict: NextDate) -> None:
    assert rules.check_next_date(proposed, suggested, visit) is verdict


@pytest.mark.parametrize(
    ("proposed", "visit", "beyond"),
    [
        (D(2025, 6, 10), D(2025, 3, 10), False),  # exactly 3 months: the longest interval that keeps 4 a year
        (D(2025, 6, 11), D(2025, 3, 10), True),  # flagged to the doctor (a reason is still enough)
        (D(2026, 2, 28), D(2025, 11, 30), False),  # month ends clamp
        (D(2026, 3, 1), D(2025, 11, 30), True),
    ],
)
def test_a_next_date_beyond_the_longest_interval_is_flagged(proposed: dt.date, visit: dt.date, beyond: bool) -> None:
    assert rules.beyond_maximum_interval(proposed, visit) is beyond
    assert rules.check_next_date(proposed, rules.next_followup_date(STABLE, visit), visit) in (
        NextDate.ACCEPTED,
        NextDate.NEEDS_REASON,
    )


# --- overdue ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "today", "overdue", "days", "soon"),
    [
        (D(2025, 5, 1), D(2025, 5, 1), False, 0, True),  # due today is not overdue (but due)
        (D(2025, 5, 1), D(2025, 5, 2), True, 1, False),  # the day after is
        (D(2025, 5, 1), D(2025, 6, 1), True, 31, False),
        (D(2025, 5, 8), D(2025, 5, 1), False, 0, True),  # due in 7 days
        (D(2025, 5, 9), D(2025, 5, 1), False, 0, False),  # due in 8 days
        (D(2024, 3, 1), D(2024, 2, 28), False, 0, True),  # leap day in between
        (None, D(2025, 6, 1), False, 0, False),  # never scheduled
    ],
)
def test_overdue_and_due_soon(due: dt.date | None, today: dt.date, overdue: bool, days: int, soon: bool) -> None:
    assert rules.is_overdue(due, today) is overdue
    assert rules.overdue_days(due, today) == days
    assert rules.due_soon(due, today) is soon


def reached(day: dt.date, next_date: dt.date, key: int, klass: int = STABLE, risk: int | None = 0) -> Attempt:
    return Attempt(day, "REACHED", key, risk_level=risk, classification=klass, next_date=next_date)


def attempt(day: dt.date, key: int, outcome: str = "NOT_REACHED") -> Attempt:
    return Attempt(day, outcome, key)


OVERDUE_HISTORY_TABLE = [
    # (case, follow-ups in the order entered, today, overdue?)
    ("due today is not overdue", [reached(D(2025, 2, 1), D(2025, 5, 1), 1)], D(2025, 5, 1), False),
    ("the day after the due date is", [reached(D(2025, 2, 1), D(2025, 5, 1), 1)], D(2025, 5, 2), True),
    (
        "a reached follow-up after the due date clears it",
        [reached(D(2025, 2, 1), D(2025, 5, 1), 1), reached(D(2025, 5, 10), D(2025, 8, 10), 2)],
        D(2025, 5, 11),
        False,
    ),
    (
        "a not-reached attempt after the due date does not",
        [reached(D(2025, 2, 1), D(2025, 5, 1), 1), attempt(D(2025, 5, 10), 2)],
        D(2025, 5, 11),
        True,
    ),
    (
        "nor does a lost attempt",
        [reached(D(2025, 2, 1), D(2025, 5, 1), 1), attempt(D(2025, 5, 10), 2, "LOST")],
        D(2025, 5, 11),
        True,
    ),
    (
        "an older visit entered late does not move the schedule",
        [reached(D(2025, 5, 10), D(2025, 8, 10), 1), reached(D(2025, 2, 1), D(2025, 5, 1), 2)],
        D(2025, 5, 11),
        False,
    ),
    ("never reached: no schedule, not overdue", [attempt(D(2025, 2, 1), 1)], D(2025, 6, 1), False),
]


@pytest.mark.parametrize(
    ("case", "history", "today", "overdue"), OVERDUE_HISTORY_TABLE, ids=[r[0] for r in OVERDUE_HISTORY_TABLE]
)
def test_overdue_follows_the_latest_reached_follow_up(
    case: str, history: list[Attempt], today: dt.date, overdue: bool
) -> None:
    assert rules.is_overdue(rules.care_snapshot(history).next_due_date, today) is overdue, case


# --- the care state -----------------------------------------------------------------------------------------------


def test_care_snapshot_of_a_history() -> None:
    history = [
        reached(D(2025, 1, 5), D(2025, 1, 19), 1, klass=UNSTABLE, risk=3),
        reached(D(2025, 1, 19), D(2025, 2, 2), 2, klass=BASICALLY_STABLE, risk=1),
        attempt(D(2025, 2, 3), 3),
        attempt(D(2025, 2, 10), 4),
    ]
    snapshot = rules.care_snapshot(reversed(history))  # entry order does not matter
    assert snapshot == rules.CareSnapshot(
        risk_level=1,
        classification=BASICALLY_STABLE,
        next_due_date=D(2025, 2, 2),
        last_followup_date=D(2025, 2, 10),
        last_reached_date=D(2025, 1, 19),
        last_reached_classification=BASICALLY_STABLE,
        consecutive_not_reached=2,
        last_complete_key=2,
    )
    assert rules.care_snapshot([]) == rules.CareSnapshot()


@pytest.mark.parametrize(
    ("followup", "complete"),
    [
        (Attempt(D(2025, 1, 1), "REACHED", risk_level=0), True),  # reached with a risk level
        (Attempt(D(2025, 1, 1), "REACHED", hospitalisation=1), True),  # reached while in hospital
        (Attempt(D(2025, 1, 1), "REACHED", hospitalisation=2), False),  # reached, no risk level (old record)
        (Attempt(D(2025, 1, 1), "NOT_REACHED"), False),  # attempts never count
        (Attempt(D(2025, 1, 1), "LOST"), False),
        (Attempt(D(2025, 1, 1), "DEAD"), False),
    ],
)
def test_complete_follow_up(followup: Attempt, complete: bool) -> None:
    assert followup.is_complete is complete


def test_last_complete_follow_up_skips_reached_ones_without_a_risk_level() -> None:
    history = [
        reached(D(2025, 1, 5), D(2025, 4, 5), 1),
        Attempt(D(2025, 2, 5), "REACHED", 2, classification=STABLE, next_date=D(2025, 5, 5)),
    ]
    snapshot = rules.care_snapshot(history)
    assert (snapshot.last_complete_key, snapshot.next_due_date) == (1, D(2025, 5, 5))


@pytest.mark.parametrize(
    ("history", "visit", "previous"),
    [
        ([], D(2025, 3, 1), None),
        ([reached(D(2025, 1, 1), D(2025, 1, 15), 1, klass=BASICALLY_STABLE)], D(2025, 1, 15), BASICALLY_STABLE),
        (
            [reached(D(2025, 1, 1), D(2025, 1, 15), 1, klass=BASICALLY_STABLE), attempt(D(2025, 1, 10), 2)],
            D(2025, 1, 15),
            BASICALLY_STABLE,  # the attempt in between is not a reached follow-up
        ),
        (
            [reached(D(2025, 1, 1), D(2025, 1, 15), 1, klass=STABLE), reached(D(2025, 3, 1), D(2025, 6, 1), 2)],
            D(2025, 2, 1),
            STABLE,  # a late entry compares with the visit before it, not the newest
        ),
    ],
)
def test_previous_reached_classification(history: list[Attempt], visit: dt.date, previous: int | None) -> None:
    assert rules.previous_reached_classification(history, visit) == previous


# --- three not reached in a row ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcomes_newest_first", "in_a_row", "suggest_lost"),
    [
        (["NOT_REACHED", "NOT_REACHED", "NOT_REACHED"], 3, True),
        (["NOT_REACHED", "NOT_REACHED", "NOT_REACHED", "REACHED"], 3, True),
        (["NOT_REACHED"] * 5, 5, True),
        (["NOT_REACHED", "REACHED", "NOT_REACHED", "NOT_REACHED"], 1, False),
        (["NOT_REACHED", "NOT_REACHED", "REACHED", "NOT_REACHED"], 2, False),
        (["NOT_REACHED", "NOT_REACHED", "LOST", "NOT_REACHED"], 2, False),  # a lost record breaks the run
        (["REACHED", "NOT_REACHED", "NOT_REACHED", "NOT_REACHED"], 0, False),  # reached since
        (["NOT_REACHED", "NOT_REACHED"], 2, False),
        ([], 0, False),
    ],
)
def test_three_not_reached_in_a_row(outcomes_newest_first: list[str], in_a_row: int, suggest_lost: bool) -> None:
    assert rules.consecutive_not_reached(outcomes_newest_first) == in_a_row
    assert rules.three_not_reached(outcomes_newest_first) is suggest_lost


# --- configuration -----------------------------------------------------------------------------------------------


def test_every_interval_and_threshold_is_a_named_rule() -> None:
    for name, default in rules.DEFAULTS.items():
        assert getattr(rules, name) == default, name


def test_rules_can_be_overridden_in_settings(settings: Any) -> None:
    settings.FOLLOWUP_RULES = {"STABLE_INTERVAL_MONTHS": 2}
    configured = rules._configured()
    assert configured["STABLE_INTERVAL_MONTHS"] == 2
    assert configured["UNSTABLE_INTERVAL_DAYS"] == rules.DEFAULTS["UNSTABLE_INTERVAL_DAYS"]


@pytest.mark.parametrize(
    "overrides",
    [{"STABLE_INTERVAL_MONTH": 2}, {"STABLE_INTERVAL_MONTHS": "2"}, {"DUE_SOON_DAYS": -1}, {"DUE_SOON_DAYS": True}],
)
def test_a_wrong_rule_setting_stops_the_start(settings: Any, overrides: dict[str, object]) -> None:
    settings.FOLLOWUP_RULES = overrides
    with pytest.raises(ImproperlyConfigured):
        rules._configured()
