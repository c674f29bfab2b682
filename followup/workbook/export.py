"""Writing an area's whole registry as a registry workbook (exchange.md §1), the format ``import_workbook`` reads.

Streaming: the .xlsx is written with openpyxl's write-only mode (rows go to temporary files as they come), and
the records are read in chunks of patients (``CHUNK`` at a time, by primary key), so a province of 500,000
patients is never held in memory. Each sheet is one pass over the chunks.

What is exported (``Selection``): the patients of an area — by default every patient the area held at some time
(its custody history), so that the area's indicators of every period can be computed again from the file, with
the villages those patients were held in elsewhere added to the areas sheet; or, for a person's export from the
web, only the patients the area holds now (the area part of the one visibility rule). Identity columns are
filled only when the selection says identity may be disclosed; otherwise they are empty and a sheet named
``说明`` says so (such a file cannot be loaded again: the import needs the ID number and name).

Every export is audited (``Action.EXPORT``), one event per chunk naming the patients it carried.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from casemgmt.accounts.models import User
from casemgmt.areas import codes as area_codes
from casemgmt.areas.models import Area, AreaPopulation
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from casemgmt.tabular import SheetSpec
from followup.models import Case, Emergency, FollowUp, HealthCheck, MedicationRow, RehabParticipation
from registry.models import CustodySpan, Patient, PatientQuerySet, StatusChange, Transfer

from . import export_rows
from .export_rows import Row
from .schema import (
    AREAS,
    CASES,
    EMERGENCIES,
    FOLLOWUPS,
    HEALTH_CHECKS,
    MEDICATIONS,
    PATIENTS,
    POPULATION,
    REHAB,
    STATUS_HISTORY,
    TRANSFERS,
)

CHUNK = 2000  # patients per pass over the child tables
NOTE_SHEET = "说明"

Progress = Callable[[int, int], None]  # (steps done, steps in all)


@dataclass(frozen=True)
class Selection:
    """Which patients an export carries, and whether it may disclose their identity."""

    area: Area
    patients: PatientQuerySet
    identity: bool

    @property
    def prefix(self) -> str:
        return area_codes.significant_prefix(self.area.code)


def area_selection(area: Area, *, identity: bool = True) -> Selection:
    """Every patient *area* held at some time (custody history), or holds now: the whole registry of the area."""
    prefix = area_codes.significant_prefix(area.code)
    held = CustodySpan.objects.filter(patient=OuterRef("pk"), area__code__startswith=prefix)
    patients = Patient.objects.filter(Q(village__code__startswith=prefix) | Exists(held))
    return Selection(area=area, patients=patients, identity=identity)


def current_selection(area: Area, patients: PatientQuerySet, *, identity: bool) -> Selection:
    """The patients of *patients* (a user's visible ones) that *area* holds now."""
    prefix = area_codes.significant_prefix(area.code)
    return Selection(area=area, patients=patients.filter(village__code__startswith=prefix), identity=identity)


@dataclass
class ExportSummary:
    patients: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def export_workbook(
    selection: Selection, path: str | Path, *, actor: User | None, progress: Progress | None = None
) -> ExportSummary:
    """Write *selection* to the .xlsx at *path* and audit it; returns the row counts per sheet."""
    started = time.monotonic()
    writer = _Writer(selection, actor=actor, progress=progress)
    writer.run()
    writer.book.save(str(path))
    writer.summary.seconds = time.monotonic() - started
    return writer.summary


class _Writer:
    def __init__(self, selection: Selection, *, actor: User | None, progress: Progress | None) -> None:
        self.selection = selection
        self.actor = actor
        self.progress = progress
        self.book = Workbook(write_only=True)
        self.summary = ExportSummary()
        self.ids = selection.patients.values_list("pk", flat=True)
        self.total = self.ids.count()
        self.chunks = -(-self.total // CHUNK)
        self.steps_done = 0
        self.clashing_refs = self.shared_source_refs()

    # -- helpers ------------------------------------------------------------------------------------------

    def sheet(self, spec: SheetSpec) -> WriteOnlyWorksheet:
        sheet: WriteOnlyWorksheet = self.book.create_sheet(spec.name)
        sheet.append(list(spec.columns))
        self.summary.rows[spec.name] = 0
        return sheet

    def append(self, sheet: WriteOnlyWorksheet, spec: SheetSpec, rows: Iterable[Row]) -> None:
        for row in rows:
            sheet.append([row.get(key) for key in spec.columns])
            self.summary.rows[spec.name] += 1

    def patient_chunks(self) -> Iterator[dict[int, str]]:
        """The selected patients, chunk after chunk: primary key -> the patient's ref (its UUID)."""
        last = 0
        while True:
            chunk = list(
                Patient.objects.filter(pk__in=self.ids, pk__gt=last).order_by("pk").values_list("pk", "uuid")[:CHUNK]
            )
            if not chunk:
                return
            yield {pk: str(uuid) for pk, uuid in chunk}
            last = chunk[-1][0]
            self.steps_done += 1
            if self.progress is not None:
                self.progress(self.steps_done, self.chunks * PATIENT_SHEET_COUNT)

    def shared_source_refs(self) -> frozenset[str]:
        """Imported follow-up refs held by follow-ups of more than one selected patient (a workbook ref is unique)."""
        shared = (
            FollowUp.objects.filter(patient_id__in=self.ids, source_ref__isnull=False)
            .values("source_ref")
            .annotate(patients=Count("patient_id", distinct=True))
            .filter(patients__gt=1)
            .values_list("source_ref", flat=True)
        )
        return frozenset(ref for ref in shared if ref)

    # -- the sheets ---------------------------------------------------------------------------------------

    def run(self) -> None:
        if not self.selection.identity:
            self.write_note()
        self.write_areas()
        self.write_patients()
        self.write_transfers()
        self.write_status_history()
        self.write_followups()
        self.write_rehab()
        self.write_health_checks()
        self.write_cases()
        self.write_emergencies()

    def write_note(self) -> None:
        sheet = self.book.create_sheet(NOTE_SHEET)
        for line in (
            _("本文件不含身份信息：身份证号、姓名、出生日期、联系电话、住址、户籍地址、监护人姓名和电话等列为空。"),
            _("导出人无权查看这些患者的身份信息（县、市、省级管理人员查看的是脱敏信息）。"),
            _("缺少身份证号和姓名的文件不能再导入系统。"),
        ):
            sheet.append([line])

    def areas_outside(self) -> set[str]:
        """Villages outside the area that the selected patients were held in or moved between."""
        prefix = self.selection.prefix
        outside: set[str] = set()
        for model, column in (
            (Patient, "village"),
            (CustodySpan, "area"),
            (Transfer, "from_village"),
            (Transfer, "to_village"),
            (Emergency, "area"),
        ):
            owner = "pk" if model is Patient else "patient_id"
            rows = model._default_manager.filter(**{f"{owner}__in": self.ids})
            codes = rows.exclude(**{f"{column}__code__startswith": prefix}).values_list(f"{column}_id", flat=True)
            outside.update(codes.distinct())
        return outside

    def write_areas(self) -> None:
        prefix = self.selection.prefix
        outside = self.areas_outside()
        above = {
            code for village in {self.selection.area.code, *outside} for code in area_codes.ancestor_codes(village)
        }
        extra = Area.objects.filter(code__in=above | outside).exclude(code__startswith=prefix)
        sheet = self.sheet(AREAS)
        for query in (extra, Area.objects.filter(code__startswith=prefix)):
            rows = query.order_by("code").values_list("code", "name", "level")
            self.append(sheet, AREAS, ({"code": c, "name": n, "level": lv} for c, n, lv in rows.iterator()))
        sheet = self.sheet(POPULATION)
        populations = (
            AreaPopulation.objects.filter(area__code__startswith=prefix)
            .order_by("area_id", "year")
            .values_list("area_id", "year", "population")
        )
        self.append(
            sheet, POPULATION, ({"area_code": a, "year": y, "population": p} for a, y, p in populations.iterator())
        )

    def write_patients(self) -> None:
        sheet = self.sheet(PATIENTS)
        identity = self.selection.identity
        for refs in self.patient_chunks():
            last_changes: dict[int, StatusChange] = {}
            changes = StatusChange.objects.filter(patient_id__in=list(refs)).order_by("effective_date", "id")
            for change in changes:
                last_changes[change.patient_id] = change
            patients = Patient.objects.filter(pk__in=list(refs)).select_related("supplementary").order_by("pk")
            rows = [
                export_rows.patient_row(p, getattr(p, "supplementary", None), last_changes.get(p.pk), identity=identity)
                for p in patients
            ]
            self.append(sheet, PATIENTS, rows)
            self.summary.patients += len(rows)
            record_event(
                actor=self.actor,
                action=Action.EXPORT,
                patient_uuids=list(refs.values()),
                detail={
                    "report": "registry_workbook",
                    "area": self.selection.area.code,
                    "identity": identity,
                    "count": len(rows),
                },
            )

    def write_transfers(self) -> None:
        sheet = self.sheet(TRANSFERS)
        identity = self.selection.identity
        for refs in self.patient_chunks():
            transfers = Transfer.objects.filter(patient_id__in=list(refs)).order_by("patient_id", "requested_on", "id")
            rows = (export_rows.transfer_row(t, refs[t.patient_id], identity=identity) for t in transfers)
            self.append(sheet, TRANSFERS, rows)

    def write_status_history(self) -> None:
        sheet = self.sheet(STATUS_HISTORY)
        identity = self.selection.identity
        for refs in self.patient_chunks():
            changes = StatusChange.objects.filter(patient_id__in=list(refs)).order_by(
                "patient_id", "effective_date", "id"
            )
            rows = (export_rows.status_row(c, refs[c.patient_id], identity=identity) for c in changes)
            self.append(sheet, STATUS_HISTORY, rows)

    def write_followups(self) -> None:
        sheet = self.sheet(FOLLOWUPS)
        medications = self.sheet(MEDICATIONS)
        clashing = self.clashing_refs
        for refs in self.patient_chunks():
            followups = FollowUp.objects.filter(patient_id__in=list(refs)).order_by("patient_id", "date", "id")
            self.append(
                sheet,
                FOLLOWUPS,
                (
                    export_rows.followup_row(
                        f, export_rows.followup_ref(f.source_ref, f.uuid, clashing), refs[f.patient_id]
                    )
                    for f in followups.iterator(chunk_size=CHUNK)
                ),
            )
            doses = (
                MedicationRow.objects.filter(followup__patient_id__in=list(refs))
                .select_related("followup")
                .order_by("followup__patient_id", "followup__date", "followup_id", "id")
            )
            self.append(
                medications,
                MEDICATIONS,
                (
                    export_rows.medication_row(
                        m, export_rows.followup_ref(m.followup.source_ref, m.followup.uuid, clashing)
                    )
                    for m in doses.iterator(chunk_size=CHUNK)
                ),
            )

    def write_rehab(self) -> None:
        sheet = self.sheet(REHAB)
        for refs in self.patient_chunks():
            stays = RehabParticipation.objects.filter(patient_id__in=list(refs)).order_by(
                "patient_id", "start_date", "id"
            )
            self.append(sheet, REHAB, (export_rows.rehab_row(r, refs[r.patient_id]) for r in stays))

    def write_health_checks(self) -> None:
        sheet = self.sheet(HEALTH_CHECKS)
        for refs in self.patient_chunks():
            checks = HealthCheck.objects.filter(patient_id__in=list(refs)).order_by("patient_id", "date", "id")
            self.append(sheet, HEALTH_CHECKS, (export_rows.health_check_row(c, refs[c.patient_id]) for c in checks))

    def write_cases(self) -> None:
        sheet = self.sheet(CASES)
        for refs in self.patient_chunks():
            cases = Case.objects.filter(patient_id__in=list(refs)).order_by("patient_id", "opened_on", "id")
            self.append(sheet, CASES, (export_rows.case_row(c, refs[c.patient_id]) for c in cases))

    def write_emergencies(self) -> None:
        """The emergencies of the selected patients, then those of people not registered in the area."""
        sheet = self.sheet(EMERGENCIES)
        identity = self.selection.identity
        for refs in self.patient_chunks():
            handled = Emergency.objects.filter(patient_id__in=list(refs)).order_by("patient_id", "occurred_at", "id")
            rows = (export_rows.emergency_row(e, refs[e.patient_id or 0], identity=identity) for e in handled)
            self.append(sheet, EMERGENCIES, rows)
        unregistered = Emergency.objects.filter(patient__isnull=True, area__code__startswith=self.selection.prefix)
        rows = (
            export_rows.emergency_row(e, None, identity=identity)
            for e in unregistered.order_by("occurred_at", "id").iterator(chunk_size=CHUNK)
        )
        self.append(sheet, EMERGENCIES, rows)


# The passes over the patient chunks: patients, transfers, status history, followups, rehab, health checks, cases and
# emergencies.
PATIENT_SHEET_COUNT = 8

__all__ = ["ExportSummary", "Selection", "area_selection", "current_selection", "export_workbook"]
