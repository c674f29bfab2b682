"""Signals of the area tree, so that the registry can follow an area change without casemgmt importing it.

``villages_retired`` is sent inside the transaction of an area change (``casemgmt.areas.changes``) once per load,
with ``moves``: a tuple of :class:`VillageMove`, one per retired village whose records go to a successor village.
The registry moves the records and their custody (``registry.area_moves``) in the same transaction and returns
``{change_id: patients moved}`` so the change rows can say how many patients each one moved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.dispatch import Signal

villages_retired = Signal()


@dataclass(frozen=True)
class VillageMove:
    change_id: int  # the AreaChange row along which the records move
    predecessor: str  # the retired village's code
    successor: str  # the village that holds the records from effective_date on
    effective_date: dt.date
