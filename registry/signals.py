"""Signals other apps listen to, so that lower layers never import higher ones (design.md §1).

``patient_facts_changed`` is sent by every write that changes what the indicators know about a patient:
registration, identity edits that change the disorder or registration date, status changes, transfers, follow-ups,
rehabilitation, health checks, case openings and closings, emergency handlings, bulk loads. It carries
``patient_ids`` (a tuple; bulk writers such as the workbook import and the synthetic generator send one signal per
batch) and ``since``, the earliest date whose figures may have changed (the follow-up's date, the status change's
effective date, the transfer's acceptance date).
Senders send it inside their transaction; receivers that keep derived state update it in the same transaction so
that a report read after the commit already shows the change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator, Sequence

from django.dispatch import Signal

from casemgmt.accounts.models import User

patient_facts_changed = Signal()

# Sent inside the transaction when a record stops being managed: death recorded on the status page, or a
# confirmed closure (注销). Kwargs: patient_id, status (DEAD or CLOSED), effective_date, actor. The follow-up app
# closes the patient's open case with it, so the case team's grants end with the record.
patient_record_ended = Signal()

# Sent inside the transaction when a transfer is accepted: the record arrived in the receiving township. Kwargs:
# patient_id. The follow-up app puts the patient on the receiving doctor's work list, due by the first visit.
record_arrived = Signal()

_batch = threading.local()


def announce_patient_change(*, patient_id: int, since: dt.date) -> None:
    """Tell listeners that the facts of one patient changed from ``since`` on."""
    announce_patients_changed(patient_ids=(patient_id,), since=since)


def announce_patients_changed(*, patient_ids: Sequence[int], since: dt.date) -> None:
    """Tell listeners that the facts of a batch of patients changed from ``since`` on (bulk writers)."""
    if not patient_ids:
        return
    pending = getattr(_batch, "pending", None)
    if pending is not None:
        pending["ids"].update(patient_ids)
        pending["since"] = min(pending["since"] or since, since)
        return
    patient_facts_changed.send(sender="registry", patient_ids=tuple(patient_ids), since=since)


@contextlib.contextmanager
def announcements_batched() -> Iterator[None]:
    """Gather the announcements made inside the block into one, sent when it ends (a loader that writes
    through the per-patient services, so listeners update their state once per batch, not per write).
    Use it inside the loader's transaction: the single signal then lands in the same transaction."""
    if getattr(_batch, "pending", None) is not None:  # nested: the outer block sends
        yield
        return
    _batch.pending = {"ids": set(), "since": None}
    try:
        yield
        pending = _batch.pending
    finally:
        _batch.pending = None
    if pending["ids"]:
        announce_patients_changed(patient_ids=sorted(pending["ids"]), since=pending["since"])


def announce_record_ended(*, patient_id: int, status: str, effective_date: dt.date, actor: User) -> None:
    """Tell listeners that a record ended (death or closure) on ``effective_date``."""
    patient_record_ended.send(
        sender="registry", patient_id=patient_id, status=status, effective_date=effective_date, actor=actor
    )


def announce_record_arrived(*, patient_id: int) -> None:
    """Tell listeners that a transferred record was accepted by its new township."""
    record_arrived.send(sender="registry", patient_id=patient_id)
