"""The second pass, and the entry point: check everything, then write everything in one transaction.

``import_workbook`` runs the checking pass (``validation``); a workbook with any problem writes nothing. A clean
one is written from the rows that pass parsed and kept (``kept``; the file is read once), in batches inside a
single transaction — through PostgreSQL COPY (``casemgmt.bulkcopy``; ``bulk_create`` on SQLite) — so a failure
part-way (a concurrent registration of the same ID number, a lost connection) rolls all of it back. A dry run
performs the same writes and rolls them back, so its counts are exact and it proves the load would succeed.

Matching, so that loading a workbook twice changes nothing: patients by ID number (blind index); follow-ups by
patient + workbook ref (``FollowUp.source_ref``); their medication rows come with new follow-ups only; rehab
participation by patient + provider type + start date; health checks by patient + date. A patient already
registered is not modified (identity, status and custody stay as the system has them); transfers are written
only for new patients, together with the custody history they imply.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import operator
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.accounts.models import User
from casemgmt.areas import loading as area_loading
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from casemgmt.bulkcopy import BulkInserter, copies_overlapping
from casemgmt.tabular import SheetSpec, TabularError, open_source
from followup import codes
from followup.cases.bulk import open_cases_after_bulk_load
from followup.models import DOSE_FIELDS, FollowUp, HealthCheck, MedicationRow, RehabParticipation
from followup.visits.services import rebuild_care_states_of
from followup.visits.values import FollowUpEntry
from registry.models import CustodySpan, Patient, StatusChange, SupplementaryForm, Transfer
from registry.patients.values import Registration
from registry.signals import announce_patients_changed, announcements_batched

from . import history_writes, rows
from .kept import Parse, T
from .refs import stored_refs
from .report import ImportReport
from .schema import (
    AREAS,
    FOLLOWUPS,
    HEALTH_CHECKS,
    MEDICATIONS,
    PATIENTS,
    POPULATION,
    REHAB,
    TRANSFERS,
    lone_csv_sheet,
)
from .validation import EVERYWHERE, PROGRESS_EVERY, Plan, Progress, Scope, Validator


class WorkbookError(Exception):
    """The file cannot be read at all, or the database changed under the load; the message is for the user."""


class _Rollback(Exception):
    """Raised to undo a dry run's writes."""


def import_workbook(
    path: str | Path,
    *,
    actor: User,
    scope: Scope = EVERYWHERE,
    dry_run: bool = False,
    today: dt.date | None = None,
    progress: Progress | None = None,
    audit_detail: dict[str, object] | None = None,
    label: str | None = None,
) -> ImportReport:
    """Check the workbook at *path* and, when it has no problem, load it (the caller checked *actor* may).

    *scope* limits where records may be written (the upload page passes the user's jurisdiction; the command
    writes everywhere). *label* is the file's name in messages (an upload's, not the stored file's); a lone CSV
    file is the sheet ``schema.lone_csv_sheet`` says. Raises :class:`WorkbookError` when the file cannot be opened.
    """
    today = today or timezone.localdate()
    report = ImportReport(dry_run=dry_run)
    try:
        source = open_source(path, label=label, lone_csv=lone_csv_sheet)
    except TabularError as exc:
        raise WorkbookError(str(exc)) from exc
    probe_detail = {**(audit_detail or {}), "dry_run": dry_run}
    with source:
        validator = Validator(
            source, scope=scope, today=today, progress=progress, actor=actor, probe_detail=probe_detail
        )
        try:
            plan = validator.run()
            if validator.problems:
                report.problems, report.problem_total = validator.problems.shown, validator.problems.total
                return report
            _write(plan, actor=actor, report=report, progress=progress, audit_detail=audit_detail or {})
        finally:
            validator.plan.kept.close()  # the rows kept for the writing pass, and their temporary file
    return report


def _write(
    plan: Plan, *, actor: User, report: ImportReport, progress: Progress | None, audit_detail: dict[str, object]
) -> None:
    """The writing pass in one transaction; rolled back for a dry run or when the database changed meanwhile."""
    try:
        with transaction.atomic(), references_checked_as_written():
            _Writer(plan, actor=actor, report=report, progress=progress).run(audit_detail)
            if report.dry_run:
                raise _Rollback
    except _Rollback:
        pass
    except IntegrityError as exc:  # someone registered the same person or row since the check
        raise WorkbookError(_("导入期间数据库中的相关记录被他人修改，未写入任何数据，请重新导入。")) from exc


@contextlib.contextmanager
def references_checked_as_written() -> Iterator[None]:
    """Check the foreign keys of each COPY as it ends, not all at the commit (PostgreSQL).

    Django declares them DEFERRABLE INITIALLY DEFERRED: a load's 2.7 million reference checks then queue until
    the commit, which took 12.5 s for 100,000 patients + 400,000 follow-ups (docs/performance.md). Checked per
    statement they are the same checks, done while the rows are at hand; a violation is an IntegrityError either
    way, and rolls the whole load back. Deferred again afterwards, for a caller whose transaction goes on (the
    schema has no deferrable constraint but Django's foreign keys, all initially deferred).
    """
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    if postgresql:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


class _Writer:
    def __init__(self, plan: Plan, *, actor: User, report: ImportReport, progress: Progress | None) -> None:
        self.plan = plan
        self.actor = actor
        self.report = report
        self.progress = progress
        self.out = BulkInserter()  # COPY on PostgreSQL, bulk_create elsewhere; seals identity fields
        self.done = 0
        self.pk_by_ref: dict[str, int] = {}
        self.new_patients: set[int] = set()  # created by this load (nothing of theirs can be stored already)
        # workbook ref -> pk of the follow-ups created by this load that have medication rows
        self.new_followups: dict[str, int] = {}
        self.since: dict[int, dt.date] = {}  # changed patient -> earliest date whose facts changed
        self.followup_patients: set[int] = set()

    # -- helpers ------------------------------------------------------------------------------------------

    def batches(self, spec: SheetSpec, parse: Parse[T]) -> Iterator[list[T]]:
        """The sheet's rows as the checking pass parsed them with *parse* (and found valid), in batches."""
        if spec.name in self.plan.sheets:
            yield from self.plan.kept.batches(parse)

    def advance(self, count: int) -> None:
        before, self.done = self.done, self.done + count
        if self.progress is not None and (before // PROGRESS_EVERY != self.done // PROGRESS_EVERY):
            self.progress("load", self.done, self.plan.total_rows)

    def touch(self, patient_id: int, day: dt.date) -> None:
        known = self.since.get(patient_id)
        self.since[patient_id] = day if known is None or day < known else known

    def registered_before(self, pks: Sequence[int]) -> list[int]:
        """The patients of a batch registered before this load (only they can have stored records)."""
        return [pk for pk in pks if pk not in self.new_patients]

    def existing_keys(
        self, model: type[FollowUp | RehabParticipation | HealthCheck], pks: Sequence[int], *fields: str
    ) -> set[tuple[object, ...]]:
        """Natural keys already stored for the patients of a batch that were registered before this load."""
        old = self.registered_before(pks)
        if not old:
            return set()
        return set(model.objects.filter(patient_id__in=old).values_list("patient_id", *fields))

    # -- the pass -----------------------------------------------------------------------------------------

    def run(self, audit_detail: dict[str, object]) -> None:
        # Cases opened by the rule announce their patients one by one: the indicator state hears them together
        # with the load's own announcement, once.
        with announcements_batched():
            self.write_and_keep_up(audit_detail)

    def write_and_keep_up(self, audit_detail: dict[str, object]) -> None:
        with copies_overlapping():  # the server checks each batch while the next one is built
            self.write_areas()
            self.write_patients()
            self.write_followups()
            self.write_medications()
            self.write_rehab()
            self.write_health_checks()
            history_writes.write_history(self)  # version 2: status history counts, cases, emergencies
        if self.progress is not None:  # what follows keeps derived state (care states, cases, indicators)
            self.progress("upkeep", self.plan.total_rows, self.plan.total_rows)
        self.out.analyze()
        rebuild_care_states_of(sorted(self.followup_patients))
        if not self.plan.case_register:  # a cases sheet is the register: no case is opened besides its rows
            open_cases_after_bulk_load(actor=self.actor, patient_ids=self.followup_patients)
        self.announce()
        if self.report.changed:
            counts = {name: [c.created, c.unchanged] for name, c in self.report.counts.items()}
            detail = {"source": "workbook_import", "dry_run": self.report.dry_run, "counts": counts, **audit_detail}
            record_event(actor=self.actor, action=Action.CREATE, detail=detail)
        if self.progress is not None:
            self.progress("load", self.plan.total_rows, self.plan.total_rows)

    def write_areas(self) -> None:
        area_plan = self.plan.area_plan
        area_loading.write(area_plan)
        if AREAS.name in self.plan.sheets:
            counts = self.report.count(AREAS.name)
            counts.created, counts.unchanged = len(area_plan.new_areas), self.plan.areas_unchanged
        if POPULATION.name in self.plan.sheets:
            counts = self.report.count(POPULATION.name)
            counts.created, counts.updated = len(area_plan.new_populations), len(area_plan.changed_populations)
            counts.unchanged = self.plan.populations_unchanged
        self.advance(self.plan.row_counts.get(AREAS.name, 0) + self.plan.row_counts.get(POPULATION.name, 0))

    def write_patients(self) -> None:
        counts = self.report.count(PATIENTS.name)
        for batch in self.batches(PATIENTS, rows.parse_patient):
            fresh: list[tuple[NewPatient, Patient]] = []
            for parsed in batch:
                row = NewPatient.of(parsed)
                key = self.plan.patients[row.ref]
                if key.existing_pk is not None:
                    self.pk_by_ref[row.ref] = key.existing_pk
                    counts.unchanged += 1
                else:
                    fresh.append((row, self.build_patient(row)))
            self.insert_patients(fresh)
            counts.created += len(fresh)
            self.advance(len(batch))
        transfers = self.report.count(TRANSFERS.name) if TRANSFERS.name in self.plan.sheets else None
        if transfers is not None:
            total = sum(len(t) for t in self.plan.transfers.values())
            transfers.created = sum(
                len(t) for ref, t in self.plan.transfers.items() if self.pk_by_ref[ref] in self.new_patients
            )
            transfers.unchanged = total - transfers.created
            self.advance(self.plan.row_counts.get(TRANSFERS.name, 0))

    def build_patient(self, row: NewPatient) -> Patient:
        registration = row.registration
        patient = Patient(
            uuid=uuid.uuid4(),
            village_id=row.village_code,
            created_by=self.actor,
            status=row.status.status,
            status_since=row.status_since,
            registered_on=registration.registered_on,
            **registration.patient.columns(),
        )
        patient.refresh_indexes()
        return patient

    def insert_patients(self, fresh: list[tuple[NewPatient, Patient]]) -> None:
        if not fresh:
            return
        forms: list[SupplementaryForm] = []
        history: list[StatusChange] = []
        custody: list[tuple[object, ...]] = []
        transfers: list[Transfer] = []
        self.out.insert([patient for _row, patient in fresh])
        for row, patient in fresh:
            registered_on = row.registration.registered_on
            self.pk_by_ref[row.ref] = patient.pk
            self.new_patients.add(patient.pk)
            self.touch(patient.pk, registered_on)
            forms.append(self.build_form(row.registration, patient))
            history.extend(self.build_history(row, patient))
            moves = self.plan.transfers.get(row.ref, [])
            custody.extend(custody_spans(patient, registered_on, moves))
            transfers.extend(self.build_transfer(patient, move) for move in moves)
        for rows_of_a_table in (forms, history, transfers):
            self.out.insert(rows_of_a_table)
        self.out.insert_rows(CustodySpan, CUSTODY_COLUMNS, custody)
        record_event(
            actor=self.actor,
            action=Action.CREATE,
            patient_uuids=[patient.uuid for _row, patient in fresh],
            detail={"source": "workbook_import", "count": len(fresh)},
        )

    def build_form(self, registration: Registration, patient: Patient) -> SupplementaryForm:
        columns = registration.supplementary.columns(filled_on=registration.registered_on)
        return SupplementaryForm(uuid=uuid.uuid4(), patient=patient, filled_by=self.actor, **columns)

    def build_history(self, row: NewPatient, patient: Patient) -> list[StatusChange]:
        registered_on = row.registration.registered_on
        first = rows.initial_status(row.registration.supplementary.consent)
        if row.ref in self.plan.status_history:  # version 2: the status_history sheet's changes
            changes = self.plan.status_history[row.ref]
            return history_writes.status_changes(patient, registered_on, first, changes, self.actor)
        history = [StatusChange(patient=patient, to_status=first, effective_date=registered_on, actor=self.actor)]
        if row.status_changed:
            history.append(
                StatusChange(
                    patient=patient,
                    from_status=first,
                    to_status=row.status.status,
                    effective_date=row.status_since,
                    lost_reason=row.status.lost_reason,
                    death_cause=row.status.death_cause,
                    actor=self.actor,
                    note=str(_("登记表导入")),
                )
            )
        return history

    def build_transfer(self, patient: Patient, move: rows.TransferKey) -> Transfer:
        return history_writes.transfer(patient, move, self.actor)

    def write_followups(self) -> None:
        counts = self.report.count(FOLLOWUPS.name) if FOLLOWUPS.name in self.plan.sheets else None
        keep_refs = MEDICATIONS.name in self.plan.sheets
        for parsed in self.batches(FOLLOWUPS, rows.parse_followup):
            pks = [self.pk_by_ref[row.patient_ref or ""] for row in parsed]
            old = self.registered_before(pks)
            stored = stored_refs(FollowUp.objects.filter(patient_id__in=old), "patient_id") if old else set()
            fresh, refs = [], []
            for row, pk in zip(parsed, pks, strict=True):
                if (pk, row.ref) in stored or row.entry is None:  # a None entry was refused by the checking pass
                    continue
                fresh.append(followup_row(row.ref, row.entry, pk, self.actor))
                refs.append(row.ref or "")
                self.touch(pk, row.entry.date)
                self.followup_patients.add(pk)
            keys = self.out.insert_rows(FollowUp, FOLLOWUP_COLUMNS, fresh)
            if keep_refs:  # only the refs medication rows point to are kept
                medicated = self.plan.medicated_refs
                self.new_followups.update((r, k) for r, k in zip(refs, keys, strict=True) if r in medicated)
            assert counts is not None  # noqa: S101  (batches exist only for a present sheet)
            counts.created += len(fresh)
            counts.unchanged += len(parsed) - len(fresh)
            self.advance(len(parsed))

    def write_medications(self) -> None:
        counts = self.report.count(MEDICATIONS.name) if MEDICATIONS.name in self.plan.sheets else None
        for batch in self.batches(MEDICATIONS, rows.parse_medication):
            fresh = []
            for followup_ref, entry in batch:
                pk = self.new_followups.get(followup_ref or "")
                if pk is not None and entry is not None:
                    fresh.append((pk, entry.drug, entry.shape, *_doses(entry)))
            self.out.insert_rows(MedicationRow, MEDICATION_COLUMNS, fresh)
            assert counts is not None  # noqa: S101
            counts.created += len(fresh)
            counts.unchanged += len(batch) - len(fresh)
            self.advance(len(batch))

    def write_rehab(self) -> None:
        counts = self.report.count(REHAB.name) if REHAB.name in self.plan.sheets else None
        for parsed in self.batches(REHAB, rows.parse_rehab):
            pks = [self.pk_by_ref[ref or ""] for ref, _row in parsed]
            stored = self.existing_keys(RehabParticipation, pks, "provider_type", "start_date")
            fresh = [
                RehabParticipation(
                    patient_id=pk,
                    recorded_by=self.actor,
                    provider_type=row.provider_type,
                    start_date=row.start_date,
                    end_date=row.end_date,
                )
                for (_ref, row), pk in zip(parsed, pks, strict=True)
                if row is not None and (pk, row.provider_type, row.start_date) not in stored  # None: refused
            ]
            self.out.insert(fresh)
            for item in fresh:
                self.touch(item.patient_id, item.start_date)
            assert counts is not None  # noqa: S101
            counts.created += len(fresh)
            counts.unchanged += len(parsed) - len(fresh)
            self.advance(len(parsed))

    def write_health_checks(self) -> None:
        counts = self.report.count(HEALTH_CHECKS.name) if HEALTH_CHECKS.name in self.plan.sheets else None
        for parsed in self.batches(HEALTH_CHECKS, rows.parse_health_check):
            pks = [self.pk_by_ref[ref or ""] for ref, _day in parsed]
            stored = self.existing_keys(HealthCheck, pks, "date")
            fresh = [
                HealthCheck(patient_id=pk, date=day, recorded_by=self.actor)
                for (_ref, day), pk in zip(parsed, pks, strict=True)
                if day is not None and (pk, day) not in stored
            ]
            self.out.insert(fresh)
            for item in fresh:
                self.touch(item.patient_id, item.date)
            assert counts is not None  # noqa: S101
            counts.created += len(fresh)
            counts.unchanged += len(parsed) - len(fresh)
            self.advance(len(parsed))

    def announce(self) -> None:
        """Tell the indicators which patients changed, in one announcement (inside the transaction).

        One: the indicator state then refreshes all of them at once (for many patients with the set-based SQL,
        which reads the fact tables once whatever the number of patients, and writes the totals once), instead
        of once per batch of patients. The refresh itself works through the patients in bounded batches.
        """
        if self.since:
            announce_patients_changed(patient_ids=sorted(self.since), since=min(self.since.values()))


@dataclass(frozen=True, slots=True)
class NewPatient:
    """A patients row the checking pass accepted: its ref, village and registration are all there."""

    ref: str
    village_code: str
    registration: Registration
    status: rows.ImportedStatus

    @classmethod
    def of(cls, row: rows.PatientRow) -> NewPatient:
        ref, village_code, registration = row.ref, row.village_code, row.registration
        assert ref is not None and village_code is not None and registration is not None  # noqa: S101  (checked)
        return cls(ref, village_code, registration, row.status)

    @property
    def status_changed(self) -> bool:
        """The status is not the one registration gives: a later change, written with its date."""
        return self.status.status != rows.initial_status(self.registration.supplementary.consent)

    @property
    def status_since(self) -> dt.date:
        """When the status began: the status date of a later change (the checking pass requires one), else the
        registration date."""
        changed_on = self.status.date if self.status_changed else None
        return changed_on or self.registration.registered_on


FOLLOWUP_FIELDS = (
    "date",
    "mode",
    "outcome",
    "family_support",
    *rows.FOLLOWUP_CODED_COLUMNS,
    *codes.SOCIAL_NAMES,
    *codes.DANGER_NAMES,
    "next_date",
    "lost_reason",
    "death_date",
    "death_cause",
)


FOLLOWUP_COLUMNS = ("submission_key", "patient_id", "doctor_id", "source_ref", "symptoms", *FOLLOWUP_FIELDS)
_entry_values = operator.attrgetter(*FOLLOWUP_FIELDS)
MEDICATION_COLUMNS = ("followup_id", "drug", "shape", *DOSE_FIELDS)
_doses = operator.attrgetter(*DOSE_FIELDS)


def followup_row(ref: str | None, entry: FollowUpEntry, patient_id: int, actor: User) -> tuple[object, ...]:
    """A new follow-up's ``FOLLOWUP_COLUMNS`` for ``BulkInserter.insert_rows``; the others take their defaults."""
    return (uuid.uuid4(), patient_id, actor.pk, ref, list(entry.symptoms), *_entry_values(entry))


CUSTODY_COLUMNS = ("patient_id", "area_id", "start_date", "end_date")


def custody_spans(
    patient: Patient, registered_on: dt.date, moves: Sequence[rows.TransferKey]
) -> list[tuple[object, ...]]:
    """Which village held the record when, as ``CUSTODY_COLUMNS``: the first sender from registration, then each
    accepted receiver.

    Spans end on the next one's start (exclusive), the last is open; a span of no days (a transfer accepted on
    the registration day) is left out.
    """
    accepted = sorted((m for m in moves if m.accepted_on is not None), key=lambda m: (m.accepted_on, m.row))
    holders = [accepted[0].from_village if accepted else patient.village_id, *(m.to_village for m in accepted)]
    starts: list[dt.date] = [registered_on, *(m.accepted_on for m in accepted if m.accepted_on is not None)]
    spans: list[tuple[object, ...]] = []
    for index, (holder, start) in enumerate(zip(holders, starts, strict=True)):
        end = starts[index + 1] if index + 1 < len(starts) else None
        if end is not None and end <= start:
            continue
        spans.append((patient.pk, holder, start, end))
    return spans


__all__ = ["EVERYWHERE", "ImportReport", "Scope", "WorkbookError", "import_workbook"]
