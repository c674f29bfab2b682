"""Who may see an area's indicators: aggregates of an area lying within the user's jurisdiction.

The indicator engine returns aggregates only and selects patients by custody history, so it cannot start from
``Patient.objects.visible_to(user)``; a page or endpoint serving a person calls this first instead. Case-team
members and administrators have no jurisdiction prefixes and therefore see no indicators.
"""

from __future__ import annotations

from casemgmt.accounts.models import User
from casemgmt.areas import codes


def may_view_area(user: User, area_code: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    area_prefix = codes.significant_prefix(area_code)
    return any(area_prefix.startswith(prefix) for prefix in user.jurisdiction_prefixes())


def scope_levels(user: User) -> list[int]:
    """The levels of the user's membership areas (1 province … 5 village); decides small-count suppression."""
    return [codes.level_of(codes.code_from_prefix(prefix)) for prefix in user.jurisdiction_prefixes()]
