"""What one run of the import found and did: problems (capped, with the total) or counts per sheet.

No field tells a hostile importer more than "registered in another jurisdiction" (issue 14 §2): a row held
outside the importer's view is always a problem worded the same wherever the record is, so a report with counts
never holds one — "unchanged" counts only rows matched inside the importer's view (none for an administrator),
and a run with problems has no counts at all (neither on the job page nor in the job's stored JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from casemgmt.tabular import Problem

from .schema import SHEETS


@dataclass
class SheetCount:
    created: int = 0
    unchanged: int = 0
    updated: int = 0


@dataclass
class ImportReport:
    dry_run: bool = False
    problems: list[Problem] = field(default_factory=list)
    problem_total: int = 0
    counts: dict[str, SheetCount] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem_total == 0

    def count(self, sheet: str) -> SheetCount:
        return self.counts.setdefault(sheet, SheetCount())

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in self.counts.values())

    def sheet_rows(self) -> list[tuple[str, SheetCount]]:
        return [(spec.name, self.counts[spec.name]) for spec in SHEETS if spec.name in self.counts]

    def to_json(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "problem_total": self.problem_total,
            "problems": [[p.sheet, p.row, p.column, p.message] for p in self.problems],
            "counts": {name: [c.created, c.unchanged, c.updated] for name, c in self.counts.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportReport:
        return cls(
            dry_run=bool(data.get("dry_run")),
            problem_total=int(data.get("problem_total", 0)),
            problems=[Problem(*p) for p in data.get("problems", [])],
            counts={name: SheetCount(*c) for name, c in data.get("counts", {}).items()},
        )

    def lines(self) -> list[str]:
        """The report as plain text lines (the command prints them)."""
        if not self.ok:
            lines = [str(p) for p in self.problems]
            lines.append(
                _("共发现 %(total)d 个问题（列出 %(shown)d 个），未写入任何数据。")
                % {"total": self.problem_total, "shown": len(self.problems)}
            )
            return lines
        lines = [
            _("%(sheet)s：新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d")
            % {"sheet": name, "created": c.created, "updated": c.updated, "unchanged": c.unchanged}
            for name, c in self.sheet_rows()
        ]
        if self.dry_run:
            lines.append(_("试运行：检查通过，以上为将写入的数量，未写入任何数据。"))
        return lines
