"""The follow-up side of a chunk's facts: follow-ups, rehabilitation, health checks, cases, emergencies.

Kept apart from ``metrics.facts`` because it reads the followup app's tables, whose shape is its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from metrics.definitions import FollowUpFact
from metrics.periods import Period

DateSpans = tuple[tuple[dt.date, dt.date | None], ...]


@dataclass
class SideFacts:
    followups: dict[int, tuple[FollowUpFact, ...]] = field(default_factory=dict)
    rehab: dict[int, DateSpans] = field(default_factory=dict)
    health_checks: dict[int, tuple[dt.date, ...]] = field(default_factory=dict)
    cases: dict[int, DateSpans] = field(default_factory=dict)
    emergencies: dict[int, tuple[dt.date, ...]] = field(default_factory=dict)


def load(ids: list[int], period: Period) -> SideFacts:
    """The followup app's facts for the patients *ids*: filled in when its models land."""
    return SideFacts()
