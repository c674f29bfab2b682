"""The checking pass for the sheets of version 2 that carry a patient's history: status_history, cases and
emergencies (exchange.md §1). Run by ``validation.Validator`` after the patients (and transfers) are known; every
problem is recorded with its sheet, row and column like the rest, and nothing is written here.

Kept in memory: each patient's status changes (a few rows, needed by the writing pass too) and which patients have
cases; the cases and emergencies themselves are read again by the writing pass.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from followup.models import Case
from followup.workbook.refs import answers_to
from registry import codes as rcodes

from . import rows
from .schema import CASES, EMERGENCIES, STATUS_HISTORY

if TYPE_CHECKING:
    from .cells import SheetReader
    from .validation import Validator

DB_CHUNK = 5000


class HistoryChecks:
    def __init__(self, validator: Validator) -> None:
        self.v = validator
        self.plan = validator.plan

    def check_status_history(self) -> None:
        """Every change in order, none before registration, the last one where the patients row ends."""
        reader = self.v.reader(STATUS_HISTORY)
        if reader is None:
            return
        found: dict[str, list[rows.StatusRow]] = defaultdict(list)
        for r in self.v.counted(reader):
            patient_ref, change = rows.parse_status_change(r)
            patient = self.v.patient(r, "patient_ref", patient_ref)
            if patient is None or change is None or patient_ref is None:
                continue
            earlier = found[patient_ref]
            if change.date < patient.registered_on:
                r.add("date", _("状态日期早于建档日期（%(day)s）。") % {"day": patient.registered_on.isoformat()})
            elif earlier and change.date < earlier[-1].date:
                message = _("状态变更应按时间先后排列：日期早于上一条（第%(row)d行）。")
                r.add("date", message % {"row": earlier[-1].row})
            elif earlier and change.status == earlier[-1].status:
                r.add("status", _("状态与上一条（第%(row)d行）相同，不是一次变更。") % {"row": earlier[-1].row})
            if not r.failed:
                earlier.append(change)
        for patient_ref, changes in found.items():
            if changes:
                changes[-1] = self._check_last(reader, self.plan.patients[patient_ref].status, changes[-1])
        self.plan.status_history = {ref: changes for ref, changes in found.items() if changes}

    @staticmethod
    def _check_last(reader: SheetReader, status: rows.ImportedStatus, last: rows.StatusRow) -> rows.StatusRow:
        """The last change must be the patients row's status (and date, and reasons, where both give them); a
        reason only the patients row gives is the last change's."""
        if last.status != status.status:
            message = _("最后一条状态（%(last)s）与patients工作表中的状态（%(status)s）不一致。")
            labels = {"last": rcodes.Status(last.status).label, "status": rcodes.Status(status.status).label}
            reader.add(last.row, "status", message % labels)
            return last
        if status.date is not None and last.date != status.date:
            message = _("最后一条状态的日期与patients工作表中的状态日期（%(day)s）不一致。")
            reader.add(last.row, "date", message % {"day": status.date.isoformat()})
        for key in ("lost_reason", "death_cause"):
            mine, theirs = getattr(last, key), getattr(status, key)
            if mine is not None and theirs is not None and mine != theirs:
                reader.add(last.row, key, _("与patients工作表中同一状态的原因不一致。"))
        return dataclasses.replace(
            last,
            lost_reason=last.lost_reason if last.lost_reason is not None else status.lost_reason,
            death_cause=last.death_cause if last.death_cause is not None else status.death_cause,
        )

    def check_cases(self) -> None:
        """Refs unique per patient, no case before registration, at most one open case per patient — also
        counting an open case the system already holds for a registered patient under another ref."""
        reader = self.v.reader(CASES)
        if reader is None:
            return
        first_row: dict[tuple[str, str], int] = {}
        open_case: dict[str, tuple[int, str]] = {}  # patient ref -> (row, case ref) of its open case
        for r in self.v.counted(reader):
            patient_ref, case = self.v.plan.kept.parse(rows.parse_case, r)
            patient = self.v.patient(r, "patient_ref", patient_ref)
            if patient is None or case is None or patient_ref is None:
                continue
            if case.opened_on < patient.registered_on:
                r.add("opened_on", _("开案日期早于建档日期（%(day)s）。") % {"day": patient.registered_on.isoformat()})
            key = (patient_ref, case.ref)
            if key in first_row:
                r.add("ref", _("个案编号重复：第%(row)d行已有。") % {"row": first_row[key]})
            first_row.setdefault(key, r.number)
            if case.closed_on is None:
                if patient_ref in open_case:
                    message = _("同一患者只能有一个未结案的个案（第%(row)d行已有）。")
                    r.add("closed_on", message % {"row": open_case[patient_ref][0]})
                open_case.setdefault(patient_ref, (r.number, case.ref))
        self._check_open_in_system(reader, open_case)

    def _check_open_in_system(self, reader: SheetReader, open_case: dict[str, tuple[int, str]]) -> None:
        by_pk: dict[int, str] = {}
        for ref in open_case:
            pk = self.plan.patients[ref].existing_pk
            if pk is not None:
                by_pk[pk] = ref
        pks = sorted(by_pk)
        for start in range(0, len(pks), DB_CHUNK):
            held = Case.objects.filter(patient_id__in=pks[start : start + DB_CHUNK], closed_on__isnull=True)
            for pk, source_ref, case_uuid in held.values_list("patient_id", "source_ref", "uuid"):
                row, case_ref = open_case[by_pk[pk]]
                if not answers_to(case_ref, source_ref, case_uuid):
                    reader.add(row, "closed_on", _("该患者在系统中已有未结案的个案，不能再导入一个未结案的个案。"))

    def check_emergencies(self) -> None:
        """A known patient, or for a person not registered a known village in the importer's jurisdiction;
        refs unique per patient (per village for persons not registered)."""
        reader = self.v.reader(EMERGENCIES)
        if reader is None:
            return
        first_row: dict[tuple[str, str], int] = {}
        for r in self.v.counted(reader):
            patient_ref, emergency = self.v.plan.kept.parse(rows.parse_emergency, r)
            self.v.patient(r, "patient_ref", patient_ref)
            if emergency is None:
                continue
            self.v.village(r, "village_code", emergency.village_code, in_scope=patient_ref is None)
            holder = patient_ref if patient_ref is not None else f"@{emergency.village_code}"
            key = (holder, emergency.ref)
            if key in first_row:
                r.add("ref", _("处置编号重复：第%(row)d行已有。") % {"row": first_row[key]})
            first_row.setdefault(key, r.number)
