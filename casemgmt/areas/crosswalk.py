"""The crosswalk across area changes (区划变更) that a county user reads next to an area's trend.

- ``predecessor_villages``: the retired villages outside an area whose records came to villages under it (directly
  or along a chain of changes). The trend of the area adds their figures for the months before they were retired
  (``metrics.reports.trend``), so a merged or re-coded area's trend does not start from nothing at the change.
- ``crosswalk``: every change touching the area (its own code or any code under it, as predecessor or as
  successor), old code → new code with names and the effective date, for the report page.

Reports of a single period need no crosswalk: custody moves on the effective date, so a period before it is
attributed to the old codes (as it was) and a period after it to the new ones.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q

from casemgmt.areas import codes
from casemgmt.areas.models import AreaChange
from casemgmt.readdb import read_alias


@dataclass(frozen=True)
class Predecessor:
    code: str
    name: str
    retired_on: dt.date
    successor: str


@dataclass(frozen=True)
class CrosswalkRow:
    kind: str
    old_code: str
    old_name: str
    new_code: str
    new_name: str
    effective_date: dt.date


def predecessor_villages(area_code: str) -> list[Predecessor]:
    """Retired villages outside *area_code* whose records now lie under it, earliest change first."""
    prefix = codes.significant_prefix(area_code)
    by_successor: dict[str, list[Predecessor]] = defaultdict(list)
    edges = AreaChange.objects.using(read_alias()).filter(receives_patients=True)
    for old, name, day, new in edges.values_list("predecessor", "predecessor__name", "effective_date", "successor"):
        by_successor[new].append(Predecessor(old, name, day, new))
    frontier = [code for code in by_successor if code.startswith(prefix)]
    found: dict[str, Predecessor] = {}
    seen: set[str] = set()
    while frontier:
        for predecessor in by_successor.get(frontier.pop(), []):
            if predecessor.code in seen:
                continue
            seen.add(predecessor.code)
            frontier.append(predecessor.code)
            if not predecessor.code.startswith(prefix):  # inside the area its figures are counted already
                found[predecessor.code] = predecessor
    return sorted(found.values(), key=lambda p: (p.retired_on, p.code))


def crosswalk(area_code: str) -> list[CrosswalkRow]:
    """The changes touching *area_code* or any area under it, by effective date."""
    prefix = codes.significant_prefix(area_code)
    changes = (
        AreaChange.objects.using(read_alias())
        .filter(Q(predecessor__code__startswith=prefix) | Q(successor__code__startswith=prefix))
        .order_by("effective_date", "predecessor", "successor")
    )
    return [
        CrosswalkRow(c.get_kind_display(), c.predecessor_id, c.old_name, c.successor_id, c.new_name, c.effective_date)
        for c in changes
    ]
