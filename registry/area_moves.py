"""Records follow an area change (区划变更): a retired village's patients move to its successor village.

Receiver of ``casemgmt.areas.signals.villages_retired``, inside the change's transaction. For each move, on the
effective date D:

- custody: a span of the retired village still open on D is closed on D (exclusive) and continued by a span of
  the successor from D, so indicators for cut-offs before D attribute as they did and from D on to the
  successor; a span that starts on or after D (the change was loaded late) is handed to the successor whole;
- the record's village (what visibility reads) becomes the successor, so the successor's township holds it;
- pending transfers follow the village on both ends (a target that would equal its source stays as it is, and
  acceptance refuses a retired target);
- one audit event per move names the patients, marked as an area change (not a transfer);
- one ``patient_facts_changed`` announcement for all moved patients, from the earliest D: the metrics state
  is recomputed in the same transaction, as for an accepted transfer.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q
from django.utils import timezone

from casemgmt.areas.signals import VillageMove
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from registry.models import CustodySpan, Patient, Transfer, TransferState
from registry.signals import announce_patients_changed, announcements_batched


def move_records(move: VillageMove) -> list[int]:
    """Move one retired village's records and custody to its successor; the ids of the patients moved."""
    day = move.effective_date
    # The records first, then their custody: the order accept_transfer locks them in, so the two serialise.
    held = Patient.objects.filter(village_id=move.predecessor)
    patient_ids = set(held.select_for_update().values_list("id", flat=True))
    spans = CustodySpan.objects.select_for_update().filter(area_id=move.predecessor)
    spans = spans.filter(Q(end_date__isnull=True) | Q(end_date__gt=day))
    later = spans.filter(start_date__gte=day)
    patient_ids |= set(later.values_list("patient_id", flat=True))
    later.update(area_id=move.successor)
    continuing = list(spans.filter(start_date__lt=day))
    CustodySpan.objects.bulk_create(
        [CustodySpan(patient_id=s.patient_id, area_id=move.successor, start_date=day, end_date=s.end_date)
         for s in continuing]
    )  # fmt: skip
    CustodySpan.objects.filter(pk__in=[s.pk for s in continuing]).update(end_date=day)
    patient_ids |= {s.patient_id for s in continuing}
    held.update(village_id=move.successor, updated_at=timezone.now())
    pending = Transfer.objects.filter(state=TransferState.PENDING)
    pending.filter(from_village_id=move.predecessor).update(from_village_id=move.successor)
    pending.filter(to_village_id=move.predecessor).exclude(from_village_id=move.successor).update(
        to_village_id=move.successor
    )
    if patient_ids:
        uuids = Patient.objects.filter(pk__in=patient_ids).values_list("uuid", flat=True)
        record_event(
            actor=None,
            action=Action.UPDATE,
            patient_uuids=list(uuids),
            purpose="area_change",
            detail={
                "area_change": move.change_id,
                "from": move.predecessor,
                "to": move.successor,
                "effective_date": day.isoformat(),
            },
        )
        announce_patients_changed(patient_ids=sorted(patient_ids), since=day)
    return sorted(patient_ids)


def on_villages_retired(sender: object, *, moves: Sequence[VillageMove], **kwargs: object) -> dict[int, int]:
    """Receiver: every move of one area-change load, announced to the metrics state as one batch."""
    moved: dict[int, int] = {}
    with announcements_batched():
        for move in moves:
            moved[move.change_id] = len(move_records(move))
    return moved
