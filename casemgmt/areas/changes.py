"""Area changes (区划变更): villages and townships merged, split, renamed or re-coded, loaded as a change list.

``manage.py load_area_changes PATH [--dry-run]`` reads the sheet ``area_changes`` (an .xlsx, a CSV folder or a
.zip, as the area loader) with one row per step:

=================  ==========================================================================================
kind 变更类型      MERGE 合并 · SPLIT 拆分 · RENAME 更名 · RECODE 变更代码
old_code 原区划代码  the area that changes (it must exist)
new_code 新区划代码  the successor (empty for a rename)
new_name 新名称     a rename's new name; the name of a successor that does not exist yet
effective_date      the day the change takes effect (not after today: a change is loaded once it is in force)
takes_patients      承接患者 是/否: for a village split, the one successor that takes the village's records
=================  ==========================================================================================

The rules (docs/area-changes.md says why):

- MERGE: one row per merged area, all naming the same successor of the same level: an existing area (absorbed)
  or a new code (then with its name). RECODE: one row, a new code of the same level, never used before (a
  recoded area keeps its name unless one is given). SPLIT: one row per successor (at least two). The old area
  is retired as of the effective date (``Area.retired_on``); its code is never given to another place, so a
  successor may never be a retired code, nor an area created or changed on a later day (that would be a cycle).
- RENAME keeps the code; the old name stays in the change row (the name history).
- Patients are held by villages only. A retired village's records move to its successor village on the
  effective date (a village split names the one successor that takes them). A retired township (or county)
  keeps no village: every one of its villages must be listed in the same list, on the same day, going to
  villages under the township's successors — so the list says exactly where every village and record goes.
- A new successor's parent (the code with its lower segments zeroed) must exist and stay in force.
- Whole or nothing: every row is checked first and every problem listed (sheet, row, column, in Chinese);
  nothing is written while one remains. Loading the same list again changes nothing: a step already recorded
  (same old code, successor and day) is skipped.

The records themselves are moved by the registry (``registry.area_moves``), which listens to
``casemgmt.areas.signals.villages_retired``: this module may not import the registry.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.accounts.models import AreaMembership, User
from casemgmt.areas import codes
from casemgmt.areas.loading import SheetRowReader
from casemgmt.areas.models import Area, AreaChange, AreaChangeKind, AreaLevel
from casemgmt.areas.signals import VillageMove, villages_retired
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from casemgmt.tabular import (
    Cell,
    CellError,
    Problem,
    Sheet,
    SheetSpec,
    TabularError,
    TabularSource,
    as_date,
    open_source,
)

SHEET = SheetSpec(
    name="area_changes",
    columns={
        "kind": ("变更类型",),
        "old_code": ("原区划代码",),
        "new_code": ("新区划代码",),
        "new_name": ("新名称",),
        "effective_date": ("生效日期",),
        "takes_patients": ("承接患者",),
    },
    required=frozenset({"kind", "old_code", "effective_date"}),
)
KINDS = {
    **{kind.value: AreaChangeKind(kind.value) for kind in AreaChangeKind},
    "合并": AreaChangeKind.MERGE,
    "拆分": AreaChangeKind.SPLIT,
    "更名": AreaChangeKind.RENAME,
    "变更代码": AreaChangeKind.RECODE,
}
YES, NO = frozenset({"是", "Y", "YES", "1", "TRUE"}), frozenset({"否", "N", "NO", "0", "FALSE"})
EARLIEST = dt.date(2000, 1, 1)  # the indicator state starts in 2000 (metrics.state)
NAME_MAX_LENGTH = Area._meta.get_field("name").max_length or 100


class AreaChangeLoadError(Exception):
    """The file cannot be read at all; the message is for the operator."""


@dataclass(frozen=True)
class ChangeRow:
    row: int
    kind: AreaChangeKind
    old_code: str
    new_code: str | None
    new_name: str | None
    effective_date: dt.date
    takes_patients: bool | None


@dataclass
class Step:
    """One row as it will be written: the change row, and whether the successor is created by it."""

    row: ChangeRow
    successor: str
    receives_patients: bool
    creates_successor: bool
    old_name: str = ""
    new_name: str = ""


@dataclass
class ChangeReport:
    dry_run: bool
    problems: list[Problem] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    unchanged: int = 0  # rows already recorded by an earlier load
    patients_moved: int = 0
    # Accounts whose area is retired: (username, retired area code, successor codes). Not moved automatically.
    accounts_to_review: list[tuple[str, str, list[str]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- reading ---------------------------------------------------------------------------------------------------


class _Reader(SheetRowReader):
    """The change list's rows: the area loader's cell checks, and the change list's own fields."""

    def row(self, number: int, cells: dict[str, Cell], today: dt.date) -> ChangeRow | None:
        before = len(self.problems)
        kind_text = self.text(number, "kind", cells["kind"])
        kind = KINDS.get((kind_text or "").upper()) or KINDS.get(kind_text or "")
        if kind is None:
            self.add(
                number, "kind", _("变更类型应为MERGE（合并）、SPLIT（拆分）、RENAME（更名）或RECODE（变更代码）。")
            )
        old_code = self.code(number, "old_code", cells["old_code"], required=False)
        if old_code is None and cells["old_code"] is None:
            self.add(number, "old_code", _("原区划代码不能为空。"))
        new_code = self.code(number, "new_code", cells["new_code"], required=False)
        new_name = self.text(number, "new_name", cells["new_name"])
        if new_name is not None and len(new_name) > NAME_MAX_LENGTH:
            self.add(number, "new_name", _("名称过长：最多%(max)d个字。") % {"max": NAME_MAX_LENGTH})
        effective = self.date(number, cells["effective_date"], today)
        takes = self.yes_no(number, cells["takes_patients"])
        if len(self.problems) > before or kind is None or old_code is None or effective is None:
            return None
        return ChangeRow(number, kind, old_code, new_code, new_name, effective, takes)

    def date(self, number: int, cell: Cell, today: dt.date) -> dt.date | None:
        try:
            day = as_date(cell)
        except CellError as exc:
            self.add(number, "effective_date", str(exc))
            return None
        if day is None:
            self.add(number, "effective_date", _("生效日期不能为空。"))
        elif day > today:
            self.add(number, "effective_date", _("生效日期%(day)s晚于今天：请在变更生效后再导入。") % {"day": day})
        elif day < EARLIEST:
            self.add(number, "effective_date", _("生效日期不能早于%(day)s。") % {"day": EARLIEST})
        else:
            return day
        return None

    def yes_no(self, number: int, cell: Cell) -> bool | None:
        text = self.text(number, "takes_patients", cell)
        if text is None:
            return None
        if text.upper() in YES:
            return True
        if text.upper() in NO:
            return False
        self.add(number, "takes_patients", _("应填“是”或“否”。"))
        return None


def read_rows(sheet: Sheet, problems: list[Problem], today: dt.date) -> list[ChangeRow]:
    reader = _Reader(sheet, problems)
    rows: list[ChangeRow] = []
    try:
        for number, cells in sheet:
            row = reader.row(number, cells, today)
            if row is not None:
                rows.append(row)
    except TabularError as exc:  # e.g. a CSV that is not UTF-8, found part-way through
        reader.add(None, None, str(exc))
    return rows


# --- checking: the change list played on a picture of the tree --------------------------------------------------


@dataclass
class _Node:
    code: str
    name: str
    retired_on: dt.date | None
    last_change: dt.date | None  # the latest day a change touched it (created, renamed, absorbed)
    created: bool = False  # created by this list


def _level_label(code: str) -> str:
    return str(AreaLevel(codes.level_of(code)).label)


class _Tree:
    """The areas a list touches, read from the database once and then changed in memory as the list plays."""

    def __init__(self, wanted: Iterable[str]) -> None:
        self.nodes: dict[str, _Node | None] = {}
        self.children_added: dict[str, set[str]] = defaultdict(set)
        self.load(wanted)

    def load(self, wanted: Iterable[str]) -> None:
        missing = sorted(set(wanted) - set(self.nodes))
        if not missing:
            return
        last = dict(
            AreaChange.objects.filter(successor__in=missing)
            .values("successor")
            .annotate(day=Max("effective_date"))
            .values_list("successor", "day")
        )
        for code, name, retired_on in Area.objects.filter(code__in=missing).values_list("code", "name", "retired_on"):
            self.nodes[code] = _Node(code, name, retired_on, last.get(code))
        for code in missing:
            self.nodes.setdefault(code, None)

    def get(self, code: str) -> _Node | None:
        self.load([code])
        return self.nodes[code]

    def active(self, code: str) -> bool:
        node = self.get(code)
        return node is not None and node.retired_on is None

    def create(self, code: str, name: str, day: dt.date) -> None:
        self.nodes[code] = _Node(code, name, None, day, created=True)
        parent = codes.parent_code(code)
        if parent is not None:
            self.children_added[parent].add(code)

    def children_in_force(self, code: str) -> list[str]:
        stored = list(Area.objects.filter(parent_id=code, retired_on__isnull=True).values_list("code", flat=True))
        self.load(stored)
        every = set(stored) | self.children_added[code]
        return sorted(c for c in every if self.active(c))


class _Checker:
    def __init__(self, sheet: Sheet, problems: list[Problem], report: ChangeReport) -> None:
        self.sheet, self.problems, self.report = sheet, problems, report
        self.retired: dict[str, tuple[dt.date, list[str], int]] = {}  # code -> (day, successor codes, first row)
        self.tree = _Tree([])

    def add(self, row: int, key: str, message: str) -> None:
        self.problems.append(self.sheet.problem(row, key, message))

    def check(self, rows: list[ChangeRow]) -> None:
        groups: dict[tuple[str, dt.date], list[ChangeRow]] = defaultdict(list)
        for row in rows:
            groups[row.old_code, row.effective_date].append(row)
        self.tree.load({r.old_code for r in rows} | {r.new_code for r in rows if r.new_code})
        recorded = self._recorded(rows)
        ordered = sorted(groups.values(), key=lambda g: (g[0].effective_date, codes.level_of(g[0].old_code), g[0].row))
        for group in ordered:
            if self._shape_ok(group) and not self._already_recorded(group, recorded):
                self._play(group)
        for code, (day, successors, first_row) in self.retired.items():
            self._check_children(code, day, successors, first_row)

    def _recorded(self, rows: list[ChangeRow]) -> set[tuple[str, str, dt.date, str]]:
        olds = {r.old_code for r in rows}
        return set(
            AreaChange.objects.filter(predecessor__in=olds).values_list(
                "predecessor", "successor", "effective_date", "kind"
            )
        )

    def _already_recorded(self, group: list[ChangeRow], recorded: set[tuple[str, str, dt.date, str]]) -> bool:
        keys = [(r.old_code, r.new_code or r.old_code, r.effective_date, r.kind.value) for r in group]
        done = [key in recorded for key in keys]
        if all(done):
            self.report.unchanged += len(group)
            return True
        if any(done):
            self.add(group[0].row, "old_code", _("该变更的一部分已导入，与本清单不一致：请核对原区划的全部承继区划。"))
            return True
        return False

    def _shape_ok(self, group: list[ChangeRow]) -> bool:
        """The rows of one old code and day agree with each other: one kind, the number of rows the kind needs."""
        first, kind = group[0], group[0].kind
        if any(r.kind != kind for r in group):
            self.add(first.row, "kind", _("同一原区划在同一生效日期只能有一种变更类型。"))
            return False
        targets = [r.new_code for r in group]
        if len(set(targets)) < len(targets):
            self.add(group[-1].row, "new_code", _("与前面的行重复。"))
            return False
        if kind in (AreaChangeKind.RENAME, AreaChangeKind.RECODE, AreaChangeKind.MERGE) and len(group) > 1:
            self.add(
                group[1].row,
                "old_code",
                _("%(kind)s只能有一行：原区划%(code)s已在第%(row)d行列出。")
                % {"kind": kind.label, "code": first.old_code, "row": first.row},
            )
            return False
        if kind == AreaChangeKind.SPLIT and len(group) < 2:
            self.add(first.row, "new_code", _("拆分至少要有两个新区划（每个新区划一行）。"))
            return False
        return True

    def _play(self, group: list[ChangeRow]) -> None:
        first = group[0]
        old = self.tree.get(first.old_code)
        day = first.effective_date
        if old is None:
            self.add(first.row, "old_code", _("原区划代码%(code)s不存在。") % {"code": first.old_code})
            return
        if old.retired_on is not None:
            self.add(
                first.row, "old_code", _("原区划%(code)s已于%(day)s撤销。") % {"code": old.code, "day": old.retired_on}
            )
            return
        if old.last_change == day:
            self.add(
                first.row,
                "old_code",
                _("%(code)s在同一生效日期已是其他变更的新区划，不能再变更（循环或重复变更）。") % {"code": old.code},
            )
            return
        if old.last_change is not None and day < old.last_change:
            self.add(
                first.row,
                "effective_date",
                _("生效日期须晚于该区划上一次变更的日期%(day)s。") % {"day": old.last_change},
            )
            return
        if first.kind == AreaChangeKind.RENAME:
            self._rename(first, old)
            return
        found = [self._successor(row, old) for row in group]
        steps = [step for step in found if step is not None]
        if len(steps) < len(group) or not self._patients_rule(group, old.code):
            return
        successors = []
        for row, step in zip(group, steps, strict=True):
            if step.creates_successor:
                self.tree.create(step.successor, step.new_name, day)
            self.tree.nodes[step.successor].last_change = day  # type: ignore[union-attr]
            step.receives_patients = codes.level_of(old.code) == codes.VILLAGE and (
                row.takes_patients is not False if len(group) == 1 else bool(row.takes_patients)
            )
            successors.append(step.successor)
            self.report.steps.append(step)
        old.retired_on = day
        self.retired[old.code] = (day, successors, first.row)

    def _rename(self, row: ChangeRow, old: _Node) -> None:
        if row.new_code not in (None, row.old_code):
            self.add(row.row, "new_code", _("更名不改变代码：新区划代码应为空或与原区划代码相同。"))
        elif not row.new_name:
            self.add(row.row, "new_name", _("更名须填写新名称。"))
        elif row.new_name == old.name:
            self.add(row.row, "new_name", _("新名称与现名称相同。"))
        else:
            self.report.steps.append(Step(row, old.code, False, False, old.name, row.new_name))
            old.name, old.last_change = row.new_name, row.effective_date

    def _code_problem(self, new_code: str | None, old: _Node) -> str | None:
        """What is wrong with a successor code on its own (not looking at the tree), if anything."""
        if new_code is None:
            return _("新区划代码不能为空。")
        if new_code == old.code:
            return _("新区划代码与原区划代码相同（更名请用RENAME）。")
        if codes.level_of(new_code) != codes.level_of(old.code):
            return _("新区划%(new)s是%(level)s级，原区划%(old)s是%(old_level)s级：须为同一级。") % {
                "new": new_code,
                "level": _level_label(new_code),
                "old": old.code,
                "old_level": _level_label(old.code),
            }
        return None

    def _successor(self, row: ChangeRow, old: _Node) -> Step | None:
        new_code = row.new_code
        problem = self._code_problem(new_code, old)
        if problem is not None or new_code is None:
            self.add(row.row, "new_code", problem or "")
            return None
        node = self.tree.get(new_code)
        if node is not None and node.retired_on is not None:
            self.add(
                row.row,
                "new_code",
                _("新区划代码%(code)s已于%(day)s撤销，代码不得再次使用。") % {"code": new_code, "day": node.retired_on},
            )
            return None
        if node is not None:
            return self._existing_successor(row, old, node)
        name = row.new_name or (old.name if row.kind == AreaChangeKind.RECODE else None)
        if not name:
            self.add(row.row, "new_name", _("新区划%(code)s尚不存在，请填写新名称。") % {"code": new_code})
            return None
        parent = codes.parent_code(new_code)
        if parent is not None and not self.tree.active(parent):
            self.add(
                row.row,
                "new_code",
                _("新区划%(code)s的上级%(parent)s不存在或已撤销。") % {"code": new_code, "parent": parent},
            )
            return None
        return Step(row, new_code, False, True, old.name, name)

    def _existing_successor(self, row: ChangeRow, old: _Node, node: _Node) -> Step | None:
        if row.kind == AreaChangeKind.RECODE and not node.created:
            self.add(
                row.row,
                "new_code",
                _("新区划代码%(code)s已被“%(name)s”使用，代码不得重复使用。") % {"code": node.code, "name": node.name},
            )
            return None
        if row.new_name and row.new_name != node.name:
            self.add(
                row.row,
                "new_name",
                _("新区划%(code)s名称为“%(name)s”，与新名称不符（更名请另列一行RENAME）。")
                % {"code": node.code, "name": node.name},
            )
            return None
        if node.last_change is not None and row.effective_date < node.last_change:
            self.add(
                row.row,
                "effective_date",
                _("新区划%(code)s于%(day)s才设立或变更，早于本变更。") % {"code": node.code, "day": node.last_change},
            )
            return None
        return Step(row, node.code, False, False, old.name, node.name)

    def _patients_rule(self, group: list[ChangeRow], old_code: str) -> bool:
        """A village split names exactly one successor that takes the records; elsewhere 承接患者 says nothing new."""
        is_village = codes.level_of(old_code) == codes.VILLAGE
        takers = [r for r in group if r.takes_patients]
        if group[0].kind == AreaChangeKind.SPLIT and is_village and len(takers) != 1:
            self.add(
                group[0].row,
                "takes_patients",
                _("村(居)拆分须在且只在一个新区划的行中填“承接患者=是”（原村患者迁入该村）。"),
            )
            return False
        if not is_village and takers:
            self.add(
                takers[0].row, "takes_patients", _("只有村(居)持有患者档案：乡镇及以上的变更请逐村列出，不填承接患者。")
            )
            return False
        refused = [r for r in group if r.takes_patients is False]
        if len(group) == 1 and refused and is_village:
            self.add(refused[0].row, "takes_patients", _("原村(居)撤销后患者须有去处：该行承接患者不能为“否”。"))
            return False
        return True

    def _name(self, code: str) -> str:
        node = self.tree.get(code)
        return node.name if node is not None else ""

    def _check_children(self, code: str, day: dt.date, successors: list[str], row: int) -> None:
        """A retired area keeps no area in force below it; its children went under its successors, that day."""
        if codes.level_of(code) == codes.VILLAGE:
            return
        prefixes = [codes.significant_prefix(s) for s in successors]
        for child in self.tree.children_in_force(code):
            self.add(
                row,
                "old_code",
                _(
                    "%(code)s撤销后，其下级%(child)s（%(name)s）仍在：请在同一生效日期将其列入清单（合并、拆分或变更代码至新区划之下）。"
                )
                % {"code": code, "child": child, "name": self._name(child)},
            )
        for child_code, (child_day, child_successors, child_row) in self.retired.items():
            if codes.parent_code(child_code) != code:
                continue
            if child_day != day:
                self.add(
                    child_row,
                    "effective_date",
                    _("下级区划的生效日期应与上级%(code)s的变更相同（%(day)s）。") % {"code": code, "day": day},
                )
            elif not all(any(s.startswith(p) for p in prefixes) for s in child_successors):
                self.add(
                    child_row,
                    "new_code",
                    _("%(code)s撤销后，其下级的新区划应在%(targets)s之下。")
                    % {"code": code, "targets": "、".join(successors)},
                )


# --- writing ---------------------------------------------------------------------------------------------------


def _write(steps: list[Step]) -> tuple[int, list[AreaChange]]:
    """Areas created, renamed and retired, the change rows, then the registry moves the records (the signal)."""
    rows: list[AreaChange] = []
    moves: list[VillageMove] = []
    for step in steps:
        row = step.row
        if step.creates_successor:
            Area.objects.create(
                code=step.successor,
                name=step.new_name,
                level=codes.level_of(step.successor),
                parent_id=codes.parent_code(step.successor),
            )
        if row.kind == AreaChangeKind.RENAME:
            Area.objects.filter(code=row.old_code).update(name=step.new_name)
        else:
            Area.objects.filter(code=row.old_code).update(retired_on=row.effective_date)
        change = AreaChange.objects.create(
            kind=row.kind,
            predecessor_id=row.old_code,
            successor_id=step.successor,
            effective_date=row.effective_date,
            old_name=step.old_name,
            new_name=step.new_name,
            successor_created=step.creates_successor,
            receives_patients=step.receives_patients,
        )
        rows.append(change)
        if step.receives_patients:
            moves.append(VillageMove(change.pk, row.old_code, step.successor, row.effective_date))
    moved: dict[int, int] = {}
    for _receiver, answer in villages_retired.send(sender="areas", moves=tuple(moves)):
        if isinstance(answer, dict):
            moved.update(answer)
    for change in rows:
        if moved.get(change.pk):
            change.patients_moved = moved[change.pk]
            change.save(update_fields=["patients_moved"])
    return sum(moved.values()), rows


def accounts_on_retired_areas(
    retired: Iterable[str] | None = None, accounts: QuerySet[User] | None = None
) -> list[tuple[str, str, list[str]]]:
    """Accounts (of *accounts*, default all) whose membership is on a retired area, with that area's successors:
    the administrator decides (the account list shows them).

    An account is not moved along (the successor's other records would become visible to it without the second
    person's approval every new area needs, casemgmt.accounts); until then it sees what its old code still covers.
    """
    memberships = AreaMembership.objects.filter(area__retired_on__isnull=False, user__is_active=True)
    if accounts is not None:
        memberships = memberships.filter(user__in=accounts)
    if retired is not None:
        memberships = memberships.filter(area__in=list(retired))
    successors: dict[str, list[str]] = defaultdict(list)
    for predecessor, successor in AreaChange.objects.exclude(kind=AreaChangeKind.RENAME).values_list(
        "predecessor", "successor"
    ):
        successors[predecessor].append(successor)
    return [
        (username, area, sorted(successors[area]))
        for username, area in memberships.order_by("user__username", "area").values_list("user__username", "area")
    ]


def _spec_for(source: TabularSource, path: Path) -> SheetSpec:
    """The sheet ``area_changes``; a lone CSV file is that sheet whatever its name (e.g. 2024年区划变更.csv)."""
    names = source.sheet_names()
    if path.suffix.lower() == ".csv" and len(names) == 1 and not source.has_sheet(SHEET.name):
        return replace(SHEET, name=names[0])
    return SHEET


def load_area_changes(path: str | Path, *, dry_run: bool = False, today: dt.date | None = None) -> ChangeReport:
    """Check the whole list, then apply it in one transaction (unless *dry_run* or a problem was found)."""
    today = today or timezone.localdate()
    report = ChangeReport(dry_run=dry_run)
    try:
        source = open_source(path)
    except TabularError as exc:
        raise AreaChangeLoadError(str(exc)) from exc
    with source, transaction.atomic():
        sheet = source.sheet(_spec_for(source, Path(path)))
        if sheet is None:
            raise AreaChangeLoadError(_("文件中没有“area_changes”工作表。"))
        report.problems += sheet.header_problems
        if sheet.header_problems:
            return report
        rows = read_rows(sheet, report.problems, today)
        _Checker(sheet, report.problems, report).check(rows)
        report.problems.sort(key=lambda p: p.row or 0)
        if report.problems or dry_run or not report.steps:
            return report
        try:
            report.patients_moved, written = _write(report.steps)
        except IntegrityError as exc:  # another load wrote the same rows since they were checked
            raise AreaChangeLoadError(_("导入期间行政区划被他人修改，请重新运行。")) from exc
        retired = [c.predecessor_id for c in written if c.kind != AreaChangeKind.RENAME]
        report.accounts_to_review = accounts_on_retired_areas(retired)
        record_event(
            actor=None,
            action=Action.UPDATE,
            purpose="area_changes",
            detail={
                "area_changes": [c.pk for c in written],
                "patients_moved": report.patients_moved,
                "accounts_on_retired_areas": [username for username, _area, _s in report.accounts_to_review],
            },
        )
    return report
