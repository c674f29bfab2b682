"""Cases for follow-up histories written in bulk (domain.md §8): the workbook import brings follow-ups without
``record_followup``, so the cases they call for are opened here, by the same rule as for a live follow-up."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from casemgmt.accounts.models import User
from followup.cases.services import open_case_for_followup, open_reasons
from followup.models import FollowUp
from registry.models import Patient


def open_cases_after_bulk_load(*, actor: User, patient_ids: Iterable[int], batch_size: int = 1000) -> int:
    """Open the cases that follow-up histories written in bulk (the workbook import, which bypasses
    ``record_followup``) call for: each patient's latest reached follow-up goes through the same rule as a
    live one (``open_case_for_followup``). Candidates are found first — latest reached follow-up unstable or at
    risk 3+, or any 肇事/肇祸 count — so the rest cost no query of their own. Returns how many cases opened."""
    ids = sorted(set(patient_ids))
    opened = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        latest: dict[int, tuple[int, int | None, int | None]] = {}
        for patient_id, pk, classification, risk in (
            FollowUp.objects.reached()
            .filter(patient_id__in=chunk)
            .order_by("patient_id", "-date", "-id")
            .values_list("patient_id", "id", "classification", "risk_level")
        ):
            latest.setdefault(patient_id, (pk, classification, risk))
        troubled = set(
            FollowUp.objects.filter(patient_id__in=chunk)
            .filter(Q(trouble__gt=0) | Q(disaster__gt=0))
            .values_list("patient_id", flat=True)
        )
        candidates = {
            patient_id: pk
            for patient_id, (pk, classification, risk) in latest.items()
            if patient_id in troubled
            or open_reasons(classification=classification, risk_level=risk, trouble_history=False)
        }
        if not candidates:
            continue
        patients = Patient.objects.select_for_update().in_bulk(list(candidates))
        followups = FollowUp.objects.in_bulk(list(candidates.values()))
        for patient_id, followup_pk in candidates.items():
            opened += (
                open_case_for_followup(actor=actor, patient=patients[patient_id], followup=followups[followup_pk])
                is not None
            )
    return opened
