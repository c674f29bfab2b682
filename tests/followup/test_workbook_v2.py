"""Version 2 of the registry workbook (exchange.md §1, issue 15 §6): what its new sheets and columns write, that a
second load changes nothing, that an optional sheet with nothing in it is accepted, and that every contradiction
is reported with its sheet, row and column while nothing is written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.utils import timezone

from followup.models import Case, Emergency, FollowUp, RehabParticipation
from followup.workbook.loading import import_workbook
from registry.models import CustodySpan, Patient, StatusChange, Transfer, national_id_index
from tests.base import World
from tests.followup.workbook_base import (
    FOLLOWUP_HEADER,
    TODAY,
    Sheets,
    day,
    followup_row,
    valid_sheets,
    write_csv_folder,
    write_xlsx,
)

pytestmark = pytest.mark.django_db

MODELS = (Patient, StatusChange, CustodySpan, Transfer, FollowUp, RehabParticipation, Case, Emergency)
V2_FOLLOWUP_HEADER = [*FOLLOWUP_HEADER, "lost_reason", "death_date", "death_cause"]
TRANSFER_HEADER = ["patient_ref", "from_village_code", "to_village_code", "requested_on", "accepted_on", "outcome",
                   "decided_on", "reason"]  # fmt: skip
STATUS_HEADER = ["patient_ref", "date", "status", "lost_reason", "death_cause", "reason"]
CASE_HEADER = ["ref", "patient_ref", "opened_on", "opened_because", "closed_on", "close_reason", "review_on"]
EMERGENCY_HEADER = ["ref", "patient_ref", "occurred_at", "place", "situations", "risk_level", "disposition",
                    "completed_at", "village_code"]  # fmt: skip
ATTEMPT_BLANKS = dict.fromkeys(
    ("risk_level", "insight", "symptoms", "adherence", "hospitalisation", "classification", "next_date")
)


def v2_followup(ref: str, patient_ref: str, days_ago: int, *, lost: Any = None, death: Any = None,
                cause: Any = None, **over: Any) -> list[Any]:  # fmt: skip
    return [*followup_row(ref, patient_ref, days_ago, **over), lost, death, cause]


def v2_sheets(world: World) -> Sheets:
    """valid_sheets plus every version-2 sheet and column: P1 lost and found again, P2 moved (accepted) after a
    rejected request, P3 dead with the details on its follow-up; a closed and an open case; two emergencies, one
    of a person not registered."""
    a1, a2, b1 = world.village_a1.code, world.village_a2.code, world.village_b1.code
    sheets = valid_sheets(world)
    sheets["patients"][1][9:11] = ["ACTIVE", day(150)]  # P1: found again 150 days ago
    sheets["transfers"] = [
        TRANSFER_HEADER,
        ["P2", a1, b1, day(230), None, "REJECTED", day(225), "查无此人"],
        ["P2", a1, a2, day(200), day(190), None, None, "随子女居住"],
        ["P1", a1, b1, day(100), None, "WITHDRAWN", day(98), None],
    ]
    sheets["status_history"] = [
        STATUS_HEADER,
        ["P1", day(250), "LOST", 1, None, None],
        ["P1", day(150), "ACTIVE", None, None, "随访时找到患者"],
        ["P3", day(30), "DEAD", None, 2, None],
    ]
    followups = [V2_FOLLOWUP_HEADER, *([*row, None, None, None] for row in sheets["followups"][1:])]
    followups.append(v2_followup("F5", "P1", 250, outcome="LOST", mode=3, lost=1, **ATTEMPT_BLANKS))
    followups.append(v2_followup("F6", "P3", 29, outcome="DEAD", mode=3, death=day(30), cause=2, **ATTEMPT_BLANKS))
    sheets["followups"] = followups
    sheets["rehab"].append(["P2", 1, day(100), day(20)])  # 1 = 日间康复机构
    sheets["rehab"].append(["P2", "工疗站", day(10), None])
    sheets["cases"] = [
        CASE_HEADER,
        ["C1", "P1", day(300), "UNSTABLE,2", day(200), "连续两次随访病情稳定", None],
        ["C2", "P1", day(100), "other", None, None, day(-30)],  # a key in lower case
    ]
    sheets["emergencies"] = [
        EMERGENCY_HEADER,
        ["E1", "P2", f"{day(40)} 14:30", "家中", "self_harm,2", 4, "1", f"{day(40)} 18:00", None],
        ["E2", None, day(20), "车站", "急性药物不良反应或过量", None, "home", None, b1],
    ]
    return sheets


def by_ref(sheets: Sheets, ref: str) -> Patient:
    row = next(r for r in sheets["patients"][1:] if r[0] == ref)
    return Patient.objects.get(national_id_index=national_id_index(row[1]))


def snapshot() -> dict[str, list[str]]:
    return {model.__name__: sorted(map(str, model.objects.values_list("pk", flat=True))) for model in MODELS}


def test_a_version_2_workbook_writes_every_new_sheet_and_column(world: World, tmp_path: Path) -> None:
    sheets = v2_sheets(world)
    report = import_workbook(write_xlsx(tmp_path / "v2.xlsx", sheets), actor=world.admin_e)
    assert report.ok, report.lines()
    p1, p2, p3 = (by_ref(sheets, ref) for ref in ("P1", "P2", "P3"))

    assert FollowUp.objects.get(patient=p1, source_ref="F5").lost_reason == 1
    dead = FollowUp.objects.get(patient=p3, source_ref="F6")
    assert (dead.death_date, dead.death_cause) == (dt.date.fromisoformat(day(30)), 2)

    states = dict(Transfer.objects.filter(patient__in=[p1, p2]).values_list("state", "decided_on"))
    assert states == {
        "rejected": dt.date.fromisoformat(day(225)),
        "accepted": dt.date.fromisoformat(day(190)),
        "withdrawn": dt.date.fromisoformat(day(98)),
    }
    assert Transfer.objects.get(patient=p2, state="rejected").rejection_reason == "查无此人"
    assert p2.village_id == world.village_a2.code and CustodySpan.objects.filter(patient=p2).count() == 2

    history = StatusChange.objects.filter(patient=p1).order_by("effective_date", "id")
    assert [(c.from_status, c.to_status, c.effective_date.isoformat(), c.lost_reason) for c in history] == [
        ("", "ACTIVE", day(400), None),
        ("ACTIVE", "LOST", day(250), 1),
        ("LOST", "ACTIVE", day(150), None),
    ]
    assert list(StatusChange.objects.filter(patient=p3).values_list("to_status", "death_cause")) == [
        ("ACTIVE", None),
        ("DEAD", 2),
    ]

    cases = {c.source_ref: c for c in Case.objects.filter(patient=p1)}
    assert cases["C1"].opened_reasons == ["unstable", "risk"] and cases["C1"].close_reason == "stable_twice"
    assert cases["C2"].is_open and cases["C2"].opened_reasons == ["other"]
    assert cases["C2"].review_date == dt.date.fromisoformat(day(-30))

    e1 = Emergency.objects.get(source_ref="E1")
    assert e1.patient == p2 and e1.situations == ["self_harm", "danger"] and e1.disposition == "observe"
    assert e1.area_id == world.village_a2.code  # the village holding P2's record when it happened
    e2 = Emergency.objects.get(source_ref="E2")
    assert e2.patient is None and e2.area_id == world.village_b1.code and e2.situations == ["drug"]
    assert e2.disposition == "home" and e2.place == "车站" and e2.person_name == "不详"

    providers = sorted(RehabParticipation.objects.filter(patient=p2).values_list("provider_type", flat=True))
    assert providers == ["day", "work_therapy"]
    counts = {name: (c.created, c.unchanged) for name, c in report.counts.items()}
    assert counts["status_history"] == (3, 0) and counts["cases"] == (2, 0) and counts["emergencies"] == (2, 0)
    assert counts["transfers"] == (3, 0)


def test_loading_a_version_2_workbook_twice_changes_nothing(world: World, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "v2.xlsx", v2_sheets(world))
    assert import_workbook(path, actor=world.admin_e).ok
    before = snapshot()
    again = import_workbook(path, actor=world.admin_e)
    assert again.ok and not again.changed
    assert snapshot() == before
    assert {name: c.created for name, c in again.counts.items()} == dict.fromkeys(again.counts, 0)
    assert again.counts["cases"].unchanged == 2 and again.counts["emergencies"].unchanged == 2


@pytest.mark.parametrize("cases_sheet", ["with_rows", "header_only", "absent"])
def test_a_cases_sheet_is_the_whole_case_register(world: World, tmp_path: Path, cases_sheet: str) -> None:
    """An unstable latest follow-up opens a case by the rule — unless the workbook has a cases sheet (even an
    empty one): then its rows are every case there is (a migrated register, or an export loaded back)."""
    sheets = valid_sheets(world)
    sheets["followups"].append(followup_row("F9", "P1", 5, classification=1, next_date=day(-9)))
    sheets["followups"].append(followup_row("F8", "P2", 5, classification=1, next_date=day(-9)))
    if cases_sheet == "with_rows":
        sheets["cases"] = [CASE_HEADER, ["C1", "P1", day(5), "UNSTABLE", None, None, None]]
    elif cases_sheet == "header_only":
        sheets["cases"] = [CASE_HEADER]
    assert import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.admin_e).ok
    p1, p2 = by_ref(sheets, "P1"), by_ref(sheets, "P2")
    p1_cases = list(Case.objects.filter(patient=p1).values_list("source_ref", flat=True))
    p2_cases = Case.objects.filter(patient=p2).count()
    expected = {"with_rows": (["C1"], 0), "header_only": ([], 0), "absent": ([None], 1)}[cases_sheet]
    assert (p1_cases, p2_cases) == expected


def empty_sheet_book(path: Path, sheets: Sheets, *, blank: list[str], header_only: dict[str, list[str]]) -> Path:
    write_xlsx(path, sheets)
    book = openpyxl.load_workbook(path)
    for name in blank:
        book.create_sheet(name)
    for name, header in header_only.items():
        book.create_sheet(name).append(header)
    book.save(path)
    return path


def test_an_optional_sheet_with_nothing_or_only_its_header_is_accepted(world: World, tmp_path: Path) -> None:
    sheets = valid_sheets(world)
    path = empty_sheet_book(
        tmp_path / "book.xlsx",
        sheets,
        blank=["cases", "emergencies", "status_history"],
        header_only={"population": ["area_code", "year", "population"]},
    )
    report = import_workbook(path, actor=world.admin_e)
    assert report.ok, report.lines()
    assert report.counts["patients"].created == 3 and "cases" not in report.counts
    assert not Case.objects.filter(source_ref__isnull=False).exists()

    folder = write_csv_folder(tmp_path / "csv", valid_sheets(world))
    (folder / "emergencies.csv").write_bytes(b"")  # 0 bytes
    (folder / "cases.csv").write_bytes("\ufeff\r\n".encode())  # a BOM and an empty line
    assert import_workbook(folder, actor=world.admin_e, dry_run=True).ok


def test_an_empty_patients_sheet_is_still_refused(world: World, tmp_path: Path) -> None:
    sheets = valid_sheets(world)
    del sheets["patients"]
    path = empty_sheet_book(tmp_path / "book.xlsx", sheets, blank=["patients"], header_only={})
    report = import_workbook(path, actor=world.admin_e)
    assert not report.ok and any(p.sheet == "patients" for p in report.problems)


def problems_of(world: World, tmp_path: Path, sheets: Sheets) -> set[tuple[str, int | None, str | None]]:
    before = snapshot()
    report = import_workbook(write_xlsx(tmp_path / "bad.xlsx", sheets), actor=world.admin_e)
    assert not report.ok
    assert snapshot() == before  # whole or nothing
    for problem in report.problems:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in problem.message), problem  # a Chinese message
    return {(p.sheet, p.row, p.column) for p in report.problems}


def test_every_contradiction_of_the_new_sheets_is_listed(world: World, tmp_path: Path) -> None:
    sheets = v2_sheets(world)
    a1, b1 = world.village_a1.code, world.village_b1.code
    sheets["transfers"].append(["P3", a1, b1, day(100), None, "REJECTED", day(90), None])  # row 5: no reason
    sheets["transfers"].append(["P3", a1, b1, day(80), day(70), "WITHDRAWN", None, None])  # row 6
    sheets["transfers"].append(["P3", a1, b1, day(60), None, "MAYBE", None, None])  # row 7
    sheets["status_history"][2][1] = day(260)  # row 3: before the LOST of row 2
    sheets["status_history"].append(["P2", day(500), "LOST", None, 3, None])  # row 5: before registration; cause
    sheets["status_history"].append(["P9", day(10), "ACTIVE", None, None, None])  # row 6: unknown patient
    sheets["followups"].append(v2_followup("F7", "P2", 20, lost=2))  # row 8: a reason on a reached follow-up
    sheets["followups"].append(
        v2_followup("F8", "P3", 40, outcome="DEAD", mode=3, death=day(30), cause=2, **ATTEMPT_BLANKS)
    )  # row 9: death after the follow-up
    sheets["cases"].append(["C3", "P1", day(50), "UNSTABLE", None, None, None])  # row 4: a second open case
    sheets["cases"].append(["C4", "P2", day(50), "BORED", day(40), None, None])  # row 5: bad code, no reason
    sheets["emergencies"].append(["E3", None, day(5), None, "9", None, "飞走", day(6), None])  # row 4
    sheets["emergencies"].append(["E1", "P2", f"{day(40)} 14:30", None, None, None, None, None, None])  # row 5: dup
    found = problems_of(world, tmp_path, sheets)
    expected: set[tuple[str, int | None, str | None]] = {
        ("transfers", 5, "reason"),
        ("transfers", 6, "accepted_on"),
        ("transfers", 6, "decided_on"),
        ("transfers", 7, "outcome"),
        ("status_history", 3, "date"),
        ("status_history", 5, "date"),
        ("status_history", 5, "death_cause"),
        ("status_history", 6, "patient_ref"),
        ("followups", 8, "lost_reason"),
        ("followups", 9, "death_date"),
        ("cases", 4, "closed_on"),
        ("cases", 5, "opened_because"),
        ("cases", 5, "close_reason"),
        ("emergencies", 4, "situations"),
        ("emergencies", 4, "disposition"),
        ("emergencies", 4, "completed_at"),
        ("emergencies", 4, "village_code"),
        ("emergencies", 5, "ref"),
    }
    assert expected <= found, expected - found


def test_the_last_status_must_be_the_patient_rows(world: World, tmp_path: Path) -> None:
    sheets = v2_sheets(world)
    sheets["status_history"][2][1] = day(140)  # P1 found again on another day than its status date
    sheets["status_history"][3][2] = "LOST"  # P3 ends LOST but its row says DEAD
    sheets["status_history"][3][4] = None
    found = problems_of(world, tmp_path, sheets)
    assert {("status_history", 3, "date"), ("status_history", 4, "status")} <= found


def test_an_open_case_held_by_the_system_is_not_doubled(world: World, tmp_path: Path) -> None:
    sheets = v2_sheets(world)
    path = write_xlsx(tmp_path / "v2.xlsx", sheets)
    assert import_workbook(path, actor=world.admin_e).ok
    sheets["cases"][2][0] = "C9"  # the same open case under another ref: a second open case for P1
    assert ("cases", 3, "closed_on") in problems_of(world, tmp_path, sheets)


def test_a_date_and_time_is_understood_and_the_future_refused(world: World, tmp_path: Path) -> None:
    sheets = v2_sheets(world)
    sheets["emergencies"][1][2] = dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(8, 15))  # Excel date-time
    sheets["emergencies"][1][7] = None
    assert import_workbook(write_xlsx(tmp_path / "v2.xlsx", sheets), actor=world.admin_e).ok
    occurred = timezone.localtime(Emergency.objects.get(source_ref="E1").occurred_at)
    assert (occurred.date(), occurred.hour, occurred.minute) == (TODAY - dt.timedelta(days=3), 8, 15)
    sheets["emergencies"][2][2] = f"{day(-2)} 09:00"
    assert ("emergencies", 3, "occurred_at") in problems_of(world, tmp_path, sheets)


def test_a_reason_only_the_patient_row_gives_is_the_last_changes(world: World, tmp_path: Path) -> None:
    sheets = v2_sheets(world)
    sheets["status_history"][3][4] = None  # P3's death without its cause: the patients row says 2
    assert import_workbook(write_xlsx(tmp_path / "v2.xlsx", sheets), actor=world.admin_e).ok
    death = StatusChange.objects.get(patient=by_ref(sheets, "P3"), to_status="DEAD")
    assert death.death_cause == 2


def test_reasons_that_disagree_with_the_patient_row_are_a_problem(world: World, tmp_path: Path) -> None:
    sheets = v2_sheets(world)
    sheets["status_history"][3][4] = 4  # the patients row says 2
    assert ("status_history", 4, "death_cause") in problems_of(world, tmp_path, sheets)


def test_a_version_2_folder_of_csv_files_loads_the_same(world: World, tmp_path: Path) -> None:
    from_xlsx = import_workbook(write_xlsx(tmp_path / "v2.xlsx", v2_sheets(world)), actor=world.admin_e, dry_run=True)
    from_csv = import_workbook(write_csv_folder(tmp_path / "v2", v2_sheets(world)), actor=world.admin_e, dry_run=True)
    assert from_xlsx.ok and from_csv.ok, from_csv.lines()
    assert from_csv.to_json()["counts"] == from_xlsx.to_json()["counts"]
