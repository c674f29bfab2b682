"""The one way an area-code prefix list becomes a query filter.

``within(prefixes, field)`` starts from a filter that matches nothing and widens it by one prefix at a time, so an
empty prefix list (a user without memberships, a case-team member) can never widen into "every row". Every area
filter in the apps comes from here; a test forbids building a ``Q()`` from nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q


def within(prefixes: Iterable[str], field: str) -> Q:
    """Rows whose ``field`` (an area code, e.g. ``"village__code"``) starts with one of ``prefixes``.

    No prefixes match no rows.
    """
    rule = Q(pk__in=[])
    for prefix in prefixes:
        rule |= Q(**{f"{field}__startswith": prefix})
    return rule
