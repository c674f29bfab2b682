"""Which areas were in force on a day, across area changes (区划变更, ``casemgmt.areas.changes``).

An area is in force on a day unless it was retired on or before it, or created by a change that took effect
after it. Reports list the children in force at their cut-off, so the document of a period before a change is
the same before and after the change is loaded; populations sum the children in force on 1 January.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from casemgmt.areas.models import AreaChange


def in_force_on(day: dt.date) -> Q:
    """A filter on ``Area``: the areas in force on *day*."""
    created_later = AreaChange.objects.filter(successor_created=True, effective_date__gt=day).values("successor")
    return ~Q(retired_on__lte=day) & ~Q(code__in=created_later)
