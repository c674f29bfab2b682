"""Signals other apps listen to, so that lower layers never import higher ones (design.md §1).

``patient_facts_changed`` is sent by every write that changes what the indicators know about a patient:
registration, identity edits that change the disorder or registration date, status changes, transfers, follow-ups,
rehabilitation, health checks, case openings and closings, emergency handlings. ``since`` is the earliest date whose
figures may have changed (the follow-up's date, the status change's effective date, the transfer's acceptance date).
Senders send it inside their transaction; receivers that keep derived state update it in the same transaction so
that a report read after the commit already shows the change.
"""

from __future__ import annotations

import datetime as dt

from django.dispatch import Signal

patient_facts_changed = Signal()


def announce_patient_change(*, patient_id: int, since: dt.date) -> None:
    """Tell listeners that the facts of one patient changed from ``since`` on."""
    patient_facts_changed.send(sender="registry", patient_id=patient_id, since=since)
