"""The first pass: read every sheet once, streaming, and find every problem before anything is written.

Besides small keys (per patient its row, blind index, village, registration date and, when already registered,
primary key; per follow-up its ref; the transfers, few, per patient), the rows as parsed are kept compactly for
the writing pass (``kept.KeptRows``), so the file is read and parsed once; they are dropped at the first problem.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from casemgmt.accounts.models import User
from casemgmt.areas import loading as area_loading
from casemgmt.areas.models import Area, AreaLevel
from casemgmt.tabular import Problem, Sheet, SheetSpec, TabularSource
from registry import codes as rcodes
from registry.models import Patient, Transfer, national_id_index
from registry.patients import probes

from . import rows
from .cells import ProblemLog, RowCheck, SheetReader
from .history_checks import HistoryChecks
from .kept import KeptRows
from .schema import (
    AREAS,
    CASES,
    FOLLOWUPS,
    HEALTH_CHECKS,
    MEDICATIONS,
    OPTIONAL_SHEETS,
    PATIENTS,
    POPULATION,
    REHAB,
    SHEETS,
    TRANSFERS,
    unrecognised_sheets,
)

Progress = Callable[[str, int, int], None]  # (stage, rows done, rows in all or 0 when not yet known)
DB_CHUNK = 5000
PROGRESS_EVERY = 2000


@dataclass(frozen=True)
class Scope:
    """Where the importing user may write: area code prefixes, or everything (None: the command, administrators).

    ``sees`` narrows where a patient already registered may be matched — and so disclosed — further: () for an
    administrator, who writes everywhere but sees no patient (domain.md §1), None for no narrowing. A row whose ID
    number is held outside is "registered in another jurisdiction" and nothing more (issue 14 §2). ``limited``:
    such rows spend the account's daily allowance of ID-number probes (``registry.patients.probes``); the upload
    page is limited, the command is not.
    """

    prefixes: tuple[str, ...] | None = None
    sees: tuple[str, ...] | None = None
    limited: bool = False

    def covers(self, code: str) -> bool:
        return self.prefixes is None or any(code.startswith(p) for p in self.prefixes)

    def discloses(self, code: str) -> bool:
        """May a patient registered in this village be matched (its existence and village shown)?"""
        return self.covers(code) and (self.sees is None or any(code.startswith(p) for p in self.sees))


EVERYWHERE = Scope()


ACTIVE = rows.ImportedStatus(rcodes.Status.ACTIVE)


@dataclass(slots=True)
class PatientKey:
    row: int
    nid_index: str
    village: str
    registered_on: dt.date
    existing_pk: int | None = None
    # the row's status with its date and reasons: a status history must end there
    status: rows.ImportedStatus = ACTIVE


Registered = tuple[PatientKey, int, uuid.UUID, str]  # a row matched inside the view: key, pk, uuid, village


@dataclass
class Plan:
    """What the checking pass learnt, for the writing pass."""

    today: dt.date
    sheets: dict[str, Sheet] = field(default_factory=dict)  # the sheets present with a readable header
    area_plan: area_loading._Plan = field(default_factory=area_loading._Plan)
    areas_unchanged: int = 0
    populations_unchanged: int = 0
    patients: dict[str, PatientKey] = field(default_factory=dict)
    transfers: dict[str, list[rows.TransferKey]] = field(default_factory=dict)
    followup_refs: set[str] = field(default_factory=set)  # dropped once the medications sheet is checked
    medicated_refs: set[str] = field(default_factory=set)  # follow-ups that have medication rows
    status_history: dict[str, list[rows.StatusRow]] = field(default_factory=dict)  # by patient ref, in order
    # A cases sheet, even an empty one, is the workbook's whole case register: the system then opens no case itself.
    case_register: bool = False
    row_counts: dict[str, int] = field(default_factory=dict)
    kept: KeptRows = field(default_factory=lambda: KeptRows(ProblemLog()))  # each sheet's rows, as parsed

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


class Villages:
    """Is a code a known village? The workbook's own areas sheet first, then the database (memoised)."""

    def __init__(self, from_sheet: Iterable[str]) -> None:
        self._known: dict[str, bool] = dict.fromkeys(from_sheet, True)
        self._retired: dict[str, dt.date | None] = {}

    def known(self, code: str) -> bool:
        if code not in self._known:
            self._known[code] = Area.objects.filter(code=code, level=AreaLevel.VILLAGE).exists()
        return self._known[code]

    def retired_on(self, code: str) -> dt.date | None:
        """The day an area change (区划变更) retired the village, if it did (villages of the areas sheet are new)."""
        if code not in self._retired:
            self._retired[code] = Area.objects.filter(code=code).values_list("retired_on", flat=True).first()
        return self._retired[code]


class Validator:
    def __init__(
        self,
        source: TabularSource,
        *,
        scope: Scope,
        today: dt.date,
        progress: Progress | None,
        actor: User,
        probe_detail: dict[str, object] | None = None,
    ) -> None:
        self.source = source
        self.scope = scope
        self.actor = actor
        self.probe_detail = probe_detail or {}  # what the probe audit events say besides channel and outcome
        self.problems = ProblemLog()
        self.plan = Plan(today=today, kept=KeptRows(self.problems))
        self.progress = progress
        self.rows_seen = 0
        self.villages = Villages(())

    # -- helpers ------------------------------------------------------------------------------------------

    def reader(self, spec: SheetSpec) -> SheetReader | None:
        sheet = self.plan.sheets.get(spec.name)
        return SheetReader(sheet, self.problems, self.plan.today) if sheet is not None else None

    def counted(self, reader: SheetReader) -> Iterator[RowCheck]:
        name = reader.sheet.spec.name
        for check in reader.rows():
            self.plan.row_counts[name] = self.plan.row_counts.get(name, 0) + 1
            self.rows_seen += 1
            if self.progress is not None and self.rows_seen % PROGRESS_EVERY == 0:
                self.progress("check", self.rows_seen, 0)
            yield check

    def patient(self, r: RowCheck, key: str, patient_ref: str | None) -> PatientKey | None:
        if patient_ref is None:
            return None
        found = self.plan.patients.get(patient_ref)
        if found is None and PATIENTS.name in self.plan.sheets:  # an unreadable patients sheet is reported alone
            r.add(key, _("档案编号“%(ref)s”在patients工作表中不存在。") % {"ref": patient_ref})
        return found

    def village(self, r: RowCheck, key: str, code: str | None, *, in_scope: bool, current: bool = False) -> None:
        """A known village; for a patient's *current* village also one in force (history may name retired ones)."""
        if code is None:
            return
        if not self.villages.known(code):
            r.add(key, _("区划代码%(code)s不是已知的村(居)：请先在areas工作表或系统中添加。") % {"code": code})
        elif current and (retired_on := self.villages.retired_on(code)) is not None:
            r.add(
                key,
                _("区划代码%(code)s已于%(day)s撤销（区划变更），请改用其新区划代码。")
                % {"code": code, "day": retired_on},
            )
        elif in_scope and not self.scope.covers(code):
            r.add(key, _("区划代码%(code)s不在您的管辖范围内。") % {"code": code})

    # -- the pass -----------------------------------------------------------------------------------------

    def run(self) -> Plan:
        self.problems.extend(unrecognised_sheets(self.source))
        for spec in SHEETS:
            sheet = self.source.sheet(spec)
            if sheet is None or (spec.name in OPTIONAL_SHEETS and self.source.is_blank(spec.name)):
                continue  # an optional sheet with nothing in it is as good as none
            self.problems.extend(sheet.header_problems)
            if not sheet.header_problems:
                self.plan.sheets[spec.name] = sheet
        if not self.source.has_sheet(PATIENTS.name):
            self.problems.add(Problem(PATIENTS.name, None, None, _("缺少patients工作表。")))
        self.plan.case_register = self.source.has_sheet(CASES.name)
        self.check_areas()
        self.check_patients()
        self.match_registered()
        self.check_transfers()
        history = HistoryChecks(self)
        history.check_status_history()
        self.check_followups()
        self.check_medications()
        self.check_rehab()
        self.check_health_checks()
        history.check_cases()
        history.check_emergencies()
        self.problems.shown.sort(key=_problem_order)
        return self.plan

    def check_areas(self) -> None:
        plan, found = self.plan, list[Problem]()
        areas, populations = plan.sheets.get(AREAS.name), plan.sheets.get(POPULATION.name)
        file_codes: set[str] | None = None if AREAS.name in self._broken() else set()
        if areas is not None:
            area_rows, file_codes = area_loading.read_areas(areas, found)
            plan.row_counts[AREAS.name] = len(area_rows)
            plan.areas_unchanged = area_loading.check_areas(areas, area_rows, file_codes, found, plan.area_plan)
            self.villages = Villages(c for c, a in area_rows.items() if a.level == AreaLevel.VILLAGE)
        if populations is not None:
            figures = area_loading.read_populations(populations, found, today=plan.today)
            plan.row_counts[POPULATION.name] = len(figures)
            plan.populations_unchanged = area_loading.check_populations(
                populations, figures, file_codes, found, plan.area_plan
            )
        if self.scope.prefixes is not None:
            for area in plan.area_plan.new_areas:
                if not self.scope.covers(area.code):
                    found.append(Problem(AREAS.name, area.row, "code", _("新增区划不在您的管辖范围内。")))
            changed = [*plan.area_plan.new_populations, *plan.area_plan.changed_populations]
            for figure in changed:
                code = str(getattr(figure, "code", None) or getattr(figure, "area_id", ""))
                if not self.scope.covers(code):
                    row = getattr(figure, "row", None)
                    found.append(Problem(POPULATION.name, row, "area_code", _("该地区不在您的管辖范围内。")))
        self.problems.extend(found)

    def _broken(self) -> set[str]:
        """Sheets present whose header could not be read (their rows are not checked)."""
        return {
            spec.name
            for spec in SHEETS
            if self.source.has_sheet(spec.name)
            and spec.name not in self.plan.sheets
            and not (spec.name in OPTIONAL_SHEETS and self.source.is_blank(spec.name))
        }

    def check_patients(self) -> None:
        reader = self.reader(PATIENTS)
        if reader is None:
            return
        seen_ids: dict[str, int] = {}
        for r in self.counted(reader):
            row = self.plan.kept.parse(rows.parse_patient, r)
            self.village(r, "village_code", row.village_code, in_scope=True, current=True)
            ref = row.ref
            if ref is not None and ref in self.plan.patients:
                r.add("ref", _("档案编号重复：第%(row)d行已有。") % {"row": self.plan.patients[ref].row})
                continue
            index = national_id_index(row.national_id) if row.national_id else None
            if index is not None and index in seen_ids:
                r.add("national_id", _("身份证号重复：第%(row)d行已有同一身份证号。") % {"row": seen_ids[index]})
            elif index is not None:
                seen_ids[index] = r.number
            if ref is not None and index is not None and row.village_code and row.registered_on:
                self.plan.patients[ref] = PatientKey(
                    r.number,
                    index,
                    row.village_code,
                    row.registered_on,
                    status=row.status,
                )

    def match_registered(self) -> None:
        """Patients already in the database are matched by ID number; one held outside the importer's view is an
        error that says so and nothing else — no village, name, status or date, the same words wherever it is.

        Every row that hits a patient is a probe audited against that patient (with the job). Hits outside the
        view spend the account's daily allowance; when it does not cover them, or was spent already, every row
        not matched inside the view is refused alike — registered elsewhere or nowhere — so the refusal answers
        nothing (``registry.patients.probes.take``).
        """
        sheet = self.plan.sheets.get(PATIENTS.name)
        if sheet is None:
            return
        inside, outside = self.lookup_registered()
        allowed = not self.scope.limited or probes.take(self.actor, len(outside))
        for key, pk, _uuid, village in inside:
            if village != key.village:
                message = _("该患者已在系统中登记于村(居)%(code)s，与本行不符；迁移请在系统中办理。")
                self.problems.add(sheet.problem(key.row, "village_code", message % {"code": village}))
            else:
                key.existing_pk = pk
        if allowed:
            for key, _uuid in outside:
                self.problems.add(sheet.problem(key.row, "national_id", registered_elsewhere()))
        else:
            matched = {key.row for key, *_rest in inside}
            for key in self.plan.patients.values():
                if key.row not in matched:
                    self.problems.add(sheet.problem(key.row, "national_id", probes.limit_message()))
        self.audit_probes(inside, outside, allowed=allowed)

    def lookup_registered(self) -> tuple[list[Registered], list[tuple[PatientKey, uuid.UUID]]]:
        """The rows whose ID number is registered: inside the importer's view (with pk and village), outside."""
        by_index = {key.nid_index: key for key in self.plan.patients.values()}
        indexes = sorted(by_index)
        inside: list[Registered] = []
        outside: list[tuple[PatientKey, uuid.UUID]] = []
        for start in range(0, len(indexes), DB_CHUNK):
            chunk = indexes[start : start + DB_CHUNK]
            found = Patient.objects.filter(national_id_index__in=chunk).values_list(
                "national_id_index", "pk", "uuid", "village_id"
            )
            for index, pk, patient_uuid, village in found:
                key = by_index[index]
                if self.scope.discloses(village):
                    inside.append((key, pk, patient_uuid, village))
                else:
                    outside.append((key, patient_uuid))
        return inside, outside

    def audit_probes(
        self,
        inside: list[Registered],
        outside: list[tuple[PatientKey, uuid.UUID]],
        *,
        allowed: bool,
    ) -> None:
        """Written now, outside the load's transaction: a dry run's or a refused run's probes stay on record."""
        detail = self.probe_detail
        matched = [patient_uuid for _key, _pk, patient_uuid, _village in inside]
        held = [patient_uuid for _key, patient_uuid in outside]
        outcome = probes.Outcome.ELSEWHERE if allowed else probes.Outcome.OVER_LIMIT
        probes.record_probes(
            actor=self.actor,
            patient_uuids=matched,
            channel=probes.Channel.IMPORT,
            outcome=probes.Outcome.MATCHED,
            detail=detail,
        )
        probes.record_probes(
            actor=self.actor, patient_uuids=held, channel=probes.Channel.IMPORT, outcome=outcome, detail=detail
        )

    def check_transfers(self) -> None:
        reader = self.reader(TRANSFERS)
        if reader is None:
            return
        found: dict[str, list[rows.TransferKey]] = defaultdict(list)
        for r in self.counted(reader):
            patient_ref, transfer = rows.parse_transfer(r)
            self.village(r, "from_village_code", transfer.from_village if transfer else None, in_scope=False)
            self.village(r, "to_village_code", transfer.to_village if transfer else None, in_scope=False)
            patient = self.patient(r, "patient_ref", patient_ref)
            if patient is None or transfer is None or patient_ref is None:
                continue
            if transfer.requested_on < patient.registered_on:
                r.add("requested_on", _("申请日期早于建档日期。"))
            if not r.failed:
                found[patient_ref].append(transfer)
        for patient_ref, transfers in found.items():
            self._check_chain(reader, self.plan.patients[patient_ref], transfers)
        existing = {self.plan.patients[ref].existing_pk: ref for ref in found if self.plan.patients[ref].existing_pk}
        self._check_known_transfers(reader, existing, found)
        self.plan.transfers = dict(found)

    def _check_chain(self, reader: SheetReader, patient: PatientKey, transfers: list[rows.TransferKey]) -> None:
        """Accepted transfers must chain from village to village and end where the record is now."""
        accepted = sorted((t for t in transfers if t.accepted_on), key=lambda t: (t.accepted_on, t.row))
        pending = [t for t in transfers if t.pending]
        for before, after in itertools.pairwise(accepted):
            if after.from_village != before.to_village:
                reader.add(
                    after.row,
                    "from_village_code",
                    _("迁出村(居)与上一次迁入的村(居)%(code)s不一致。") % {"code": before.to_village},
                )
        if accepted and accepted[-1].to_village != patient.village:
            reader.add(
                accepted[-1].row,
                "to_village_code",
                _("最后一次已接收的迁入村(居)与patients工作表中的现住址区划代码不一致。"),
            )
        if len(pending) > 1:
            for extra in pending[1:]:
                reader.add(extra.row, "accepted_on", _("同一患者只能有一条待接收的迁移申请。"))
        elif pending and pending[0].from_village != patient.village:
            reader.add(pending[0].row, "from_village_code", _("待接收迁移的迁出村(居)应为患者现住址所在村(居)。"))

    def _check_known_transfers(
        self, reader: SheetReader, existing: dict[int | None, str], found: dict[str, list[rows.TransferKey]]
    ) -> None:
        """Patients already registered keep their custody history: their rows must all be known already."""
        pks = [pk for pk in existing if pk is not None]
        known: set[tuple[int, str, str, dt.date]] = set()
        for start in range(0, len(pks), DB_CHUNK):
            known.update(
                Transfer.objects.filter(patient_id__in=pks[start : start + DB_CHUNK]).values_list(
                    "patient_id", "from_village_id", "to_village_id", "requested_on"
                )
            )
        for pk, patient_ref in existing.items():
            for t in found[patient_ref]:
                if (pk, t.from_village, t.to_village, t.requested_on) not in known:
                    message = _("该患者已在系统中登记，新的迁移请在系统中办理，不能通过导入补录。")
                    reader.add(t.row, "patient_ref", message)

    def check_followups(self) -> None:
        reader = self.reader(FOLLOWUPS)
        if reader is None:
            return
        first_row: dict[str, int] = {}
        for r in self.counted(reader):
            row = self.plan.kept.parse(rows.parse_followup, r)
            patient = self.patient(r, "patient_ref", row.patient_ref)
            ref = row.ref
            if ref is not None:
                if ref in first_row:
                    r.add("ref", _("随访编号重复：第%(row)d行已有。") % {"row": first_row[ref]})
                else:
                    first_row[ref] = r.number
            if patient is not None and row.date is not None and row.date < patient.registered_on:
                r.add("date", _("随访日期早于建档日期（%(day)s）。") % {"day": patient.registered_on.isoformat()})
            death = row.entry.death_date if row.entry is not None else None
            if patient is not None and death is not None and death < patient.registered_on:
                r.add("death_date", _("死亡日期不能早于建档日期。"))
        self.plan.followup_refs = set(first_row)

    def check_medications(self) -> None:
        reader = self.reader(MEDICATIONS)
        if reader is None:
            return
        for r in self.counted(reader):
            followup_ref, _entry = self.plan.kept.parse(rows.parse_medication, r)
            if followup_ref is None:
                continue
            if followup_ref not in self.plan.followup_refs and FOLLOWUPS.name in self.plan.sheets:
                r.add("followup_ref", _("随访编号“%(ref)s”在followups工作表中不存在。") % {"ref": followup_ref})
            else:
                self.plan.medicated_refs.add(followup_ref)
        self.plan.followup_refs = set()  # no later sheet refers to follow-ups: free the memory

    def check_rehab(self) -> None:
        reader = self.reader(REHAB)
        if reader is None:
            return
        first_row: dict[tuple[str, str, dt.date], int] = {}
        for r in self.counted(reader):
            patient_ref, row = self.plan.kept.parse(rows.parse_rehab, r)
            patient = self.patient(r, "patient_ref", patient_ref)
            if patient is None or patient_ref is None or row is None or r.failed:
                continue
            key = (patient_ref, row.provider_type, row.start_date)
            if key in first_row:
                r.add("start_date", _("康复记录重复：第%(row)d行已有。") % {"row": first_row[key]})
            first_row.setdefault(key, r.number)

    def check_health_checks(self) -> None:
        reader = self.reader(HEALTH_CHECKS)
        if reader is None:
            return
        first_row: dict[tuple[str, dt.date], int] = {}
        for r in self.counted(reader):
            patient_ref, day = self.plan.kept.parse(rows.parse_health_check, r)
            patient = self.patient(r, "patient_ref", patient_ref)
            if patient is None or patient_ref is None or day is None:
                continue
            key = (patient_ref, day)
            if key in first_row:
                r.add("date", _("体检记录重复：第%(row)d行已有。") % {"row": first_row[key]})
            first_row.setdefault(key, r.number)


def registered_elsewhere() -> str:
    """The one answer for an ID number held outside the importer's view, wherever and whatever the record."""
    return _("该身份证号已在其他辖区登记，不能重复建档；请联系对方申请迁入。")


def _problem_order(problem: Problem) -> tuple[int, int]:
    order = {spec.name: index for index, spec in enumerate(SHEETS)}
    return order.get(problem.sheet, 99), problem.row or 0
