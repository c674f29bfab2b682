"""Emergency records follow their village through an area change (区划变更).

``Emergency.area`` is the village whose doctors answer for the record; when an area change retires that village,
its successor's doctors answer for it (``casemgmt.areas.signals.villages_retired``, in the change's transaction).
The patients themselves are moved by ``registry.area_moves``; nothing here is counted or announced, because the
indicators attribute emergencies through the patient's custody, not through this field.
"""

from __future__ import annotations

from collections.abc import Sequence

from casemgmt.areas.signals import VillageMove
from followup.models import Emergency


def on_villages_retired(sender: object, *, moves: Sequence[VillageMove], **kwargs: object) -> None:
    for move in moves:
        Emergency.objects.filter(area_id=move.predecessor).update(area_id=move.successor)
