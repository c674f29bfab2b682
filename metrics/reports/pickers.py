"""The report page's pickers: areas within the user's scope, level by level, and the period's parts.

The area select offers the user's scope roots (the areas of their memberships), the chain from the root down to
the current area, and the current area's children — never an area outside the scope. Choosing a child and
submitting (the small script submits on change) moves one level down; choosing an ancestor moves up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from casemgmt.accounts.models import User
from casemgmt.areas import codes
from casemgmt.areas.models import Area
from metrics.indicators.periods import SHANGHAI, Period

YEARS_OFFERED = 10


@dataclass(frozen=True)
class AreaChoice:
    code: str
    name: str
    depth: int  # indentation in the select
    selected: bool
    retired: bool = False  # retired by an area change: still offered, for the reports of earlier periods

    @property
    def label(self) -> str:
        suffix = _("（已撤销）") if self.retired else ""
        return "\u3000" * self.depth + self.name + suffix


def _choice(area: Area, depth: int, selected: bool = False) -> AreaChoice:
    return AreaChoice(area.code, area.name, depth, selected, area.retired_on is not None)


def _within(code: str, prefixes: list[str]) -> bool:
    return any(code.startswith(prefix) for prefix in prefixes)


def area_choices(user: User, current: Area) -> list[AreaChoice]:
    """Scope roots, the chain from the enclosing root down to *current*, and *current*'s children (2 queries)."""
    prefixes = user.jurisdiction_prefixes()
    roots = {codes.code_from_prefix(prefix) for prefix in prefixes}
    lineage = [*reversed(codes.ancestor_codes(current.code)), current.code]
    chain_codes = [code for code in lineage if _within(code, prefixes)]
    wanted = set(chain_codes) | roots
    by_code = {area.code: area for area in Area.objects.filter(code__in=wanted)}
    chain = [by_code[code] for code in chain_codes if code in by_code]
    choices: list[AreaChoice] = []
    for depth, area in enumerate(chain):
        choices.append(_choice(area, depth, area.code == current.code))
    children = Area.objects.filter(parent=current).order_by("code")
    choices += [_choice(child, len(chain)) for child in children]
    shown = {choice.code for choice in choices}
    others = sorted(code for code in roots if code not in shown and code in by_code)
    choices += [_choice(by_code[code], 0) for code in others]
    return choices


@dataclass(frozen=True)
class PeriodFields:
    kind: str
    year: int
    quarter: int
    month: int


def period_fields(period: Period) -> PeriodFields:
    """The picker values that serialise back to *period*'s key."""
    quarter = (period.start.month + 2) // 3
    month = period.end.month if period.kind == "ytd" else period.start.month
    return PeriodFields(period.kind, period.year, quarter, month)


def years_offered(today: dt.date | None = None) -> list[int]:
    year = (today or dt.datetime.now(SHANGHAI).date()).year
    return list(range(year, max(2000, year - YEARS_OFFERED + 1) - 1, -1))
