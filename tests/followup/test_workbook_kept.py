"""The checking pass keeps what it parsed for the writing pass (``followup.workbook.kept``). No database."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import cast

import pytest

from casemgmt.tabular import Problem
from followup.models import DOSE_FIELDS
from followup.visits.values import FollowUpEntry, MedicationEntry
from followup.workbook import kept
from followup.workbook.cells import ProblemLog, RowCheck
from followup.workbook.rows import FollowUpRow


def _entry(n: int) -> FollowUpRow:
    entry = FollowUpEntry(date=dt.date(2026, 1, 1 + n % 28), outcome="REACHED", mode=1, symptoms=(1, n), risk_level=2)
    return FollowUpRow(f"F{n}", f"P{n}", entry)


def _row(n: int) -> RowCheck:
    """A stand-in row: the fake parsers below read its number."""
    return cast("RowCheck", n)


def _parse_followup(r: RowCheck) -> FollowUpRow:  # stands for rows.parse_followup
    return _entry(cast("int", r))


def _parse_medication(r: RowCheck) -> tuple[str, MedicationEntry]:
    return f"F{r}", MedicationEntry(drug="利培酮", shape="daily", morning_mg=Decimal("1.5"))


def test_rows_come_back_equal_in_order_and_in_batches() -> None:
    rows = kept.KeptRows(ProblemLog())
    count = kept.BATCH * 2 + 7
    for n in range(count):
        rows.parse(_parse_followup, _row(n))
    rows.parse(_parse_medication, _row(1))
    batches = list(rows.batches(_parse_followup))
    assert [len(b) for b in batches] == [kept.BATCH, kept.BATCH, 7]
    assert [row for batch in batches for row in batch] == [_entry(n) for n in range(count)]
    assert list(rows.batches(_parse_medication)) == [[_parse_medication(_row(1))]]


def test_a_problem_drops_what_was_kept_and_keeps_nothing_more() -> None:
    problems = ProblemLog()
    rows = kept.KeptRows(problems)
    for n in range(kept.BATCH + 1):
        rows.parse(_parse_followup, _row(n))
    problems.add(Problem("followups", 3, "date", "x"))
    assert rows.parse(_parse_followup, _row(5)) == _entry(5)  # still returns the parse
    assert list(rows.batches(_parse_followup)) == []


def test_beyond_the_memory_budget_batches_go_encrypted_to_a_file_that_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kept, "IN_MEMORY", kept.BATCH * 60)  # the first batch or so fits, the rest spills
    rows = kept.KeptRows(ProblemLog())
    count = kept.BATCH * 3
    for n in range(count):
        rows.parse(_parse_followup, _row(n))
    assert rows.spilled
    spill = rows._spill
    assert spill is not None
    spill.file.seek(0)
    on_disk = spill.file.read()
    assert on_disk and b"F2999" not in on_disk and b"P2999" not in on_disk  # ciphertext only
    assert [row for batch in rows.batches(_parse_followup) for row in batch] == [_entry(n) for n in range(count)]
    rows.close()
    assert spill.file.closed and not rows.spilled


def test_the_entry_has_every_dose_column_the_import_writes() -> None:
    fields = [f.name for f in dataclasses.fields(MedicationEntry)]
    assert sorted(DOSE_FIELDS) == sorted(name for name in fields if name not in ("drug", "shape"))
