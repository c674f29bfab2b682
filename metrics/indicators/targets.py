"""Target lookup: the most specific area's target valid in the report year (domain.md §11).

An area's own target overrides any target of an enclosing area (a province's overrides the national one);
among targets of the same area valid in the year, the one starting latest wins.
"""

from __future__ import annotations

from django.db.models import Q

from metrics.models import Target


def _enclosing_codes(area_code: str) -> list[str]:
    """The area itself and every prefix of its code, plus "" for national; most specific first."""
    code = area_code.strip()
    return [code[:n] for n in range(len(code), 0, -1)] + [""]


def targets_for(area_code: str, year: int) -> dict[str, Target]:
    """Map indicator name → the applicable target for ``area_code`` in ``year``."""
    codes = _enclosing_codes(area_code)
    rank = {code: i for i, code in enumerate(codes)}
    valid = Target.objects.filter(
        Q(last_year__isnull=True) | Q(last_year__gte=year), area_code__in=codes, first_year__lte=year
    )
    chosen: dict[str, Target] = {}
    for target in valid:
        best = chosen.get(target.indicator)
        if best is None or (rank[target.area_code], -target.first_year) < (
            rank[best.area_code],
            -best.first_year,
        ):
            chosen[target.indicator] = target
    return chosen


def is_met(target: Target | None, rate: float | None) -> bool | None:
    """True/False when both a target and a computed rate exist; None otherwise (no target, or "—")."""
    if target is None or rate is None:
        return None
    return rate >= float(target.value)
