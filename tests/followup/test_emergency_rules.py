"""The close follow-up rule after an emergency (domain.md §9 with §7's 14-day interval), table-driven."""

from __future__ import annotations

import datetime as dt

import pytest

from followup.emergencies.rules import close_follow

D = dt.date(2026, 3, 10)
U, B, S = 1, 2, 3  # unstable, basically stable, stable


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


@pytest.mark.parametrize(
    ("reached", "next_due", "active", "visit_by"),
    [
        ([], None, True, day(14)),  # no follow-up yet: 14 days from the emergency
        ([], day(7), True, day(7)),  # the schedule's earlier date wins
        ([], day(60), True, day(14)),  # a later scheduled date is shortened to 14 days
        ([(day(5), S)], day(95), True, day(19)),  # one stable is not enough: 14 days from that visit
        ([(day(5), S), (day(19), S)], None, False, None),  # two stable in a row end it
        ([(day(5), S), (day(12), B), (day(19), S)], None, True, day(33)),  # not in a row
        ([(day(5), U), (day(12), S), (day(19), S), (day(30), U)], None, False, None),  # once released, released
        ([(D, S), (day(3), S)], None, True, day(17)),  # the visit on the day itself does not count
        ([(day(-20), S), (day(-5), S)], None, True, day(14)),  # earlier visits do not count
    ],
)
def test_close_follow(
    reached: list[tuple[dt.date, int]], next_due: dt.date | None, active: bool, visit_by: dt.date | None
) -> None:
    state = close_follow(D, reached, next_due)
    assert state.active is active
    assert state.visit_by == visit_by
    assert state.since == D


def test_configurable_numbers() -> None:
    state = close_follow(D, [(day(5), S), (day(19), S)], None, interval_days=7, stable_in_a_row=3)
    assert state.active
    assert state.visit_by == day(26)


def test_unknown_setting_stops_startup(settings: object) -> None:
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    from followup.emergencies import rules as emergency_rules

    settings.EMERGENCY_RULES = {"CLOSE_FOLLOW_DAYS": 7}  # type: ignore[attr-defined]
    with pytest.raises(ImproperlyConfigured):
        emergency_rules._configured()
    settings.EMERGENCY_RULES = {"CLOSE_FOLLOW_INTERVAL_DAYS": 0}  # type: ignore[attr-defined]
    with pytest.raises(ImproperlyConfigured):
        emergency_rules._configured()
    del settings.EMERGENCY_RULES  # type: ignore[attr-defined]
    importlib.reload(emergency_rules)
