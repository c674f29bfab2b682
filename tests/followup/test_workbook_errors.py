"""Every kind of problem the workbook import reports: located by sheet, row and column, in Chinese, and
nothing written. One case per rule of exchange.md §1."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from followup.models import FollowUp
from followup.visits import bounds
from followup.visits.forms import parse_followup
from followup.visits.services import FollowUpError
from followup.workbook.loading import import_workbook
from followup.workbook.validation import Scope
from registry.models import Patient
from registry.patients import bounds as patient_bounds
from registry.patients.forms import PatientInputError, parse_registration
from tests.base import World, make_area, make_patient, patient_fields
from tests.followup.base import reached_data
from tests.followup.workbook_base import (
    FOLLOWUP_HEADER,
    PATIENT_HEADER,
    TODAY,
    Sheets,
    day,
    followup_row,
    valid_sheets,
    write_xlsx,
)

pytestmark = pytest.mark.django_db

P, F = PATIENT_HEADER.index, FOLLOWUP_HEADER.index


def set_cell(sheet: str, row: int, column: int, value: Any) -> Callable[[Sheets], None]:
    def change(sheets: Sheets) -> None:
        sheets[sheet][row][column] = value

    return change


def bad_check_digit(sheets: Sheets) -> None:
    number = sheets["patients"][1][P("national_id")]
    sheets["patients"][1][P("national_id")] = number[:17] + ("0" if number[17] != "0" else "1")


def duplicate_patient_ref(sheets: Sheets) -> None:
    sheets["patients"][2][P("ref")] = "P1"


def duplicate_national_id(sheets: Sheets) -> None:
    sheets["patients"][3][P("national_id")] = sheets["patients"][1][P("national_id")]


def duplicate_followup_ref(sheets: Sheets) -> None:
    sheets["followups"][2][F("ref")] = "F1"


def unknown_followup_ref(sheets: Sheets) -> None:
    sheets["medications"][1][0] = "F404"


def broken_transfer_chain(sheets: Sheets) -> None:
    sheets["transfers"][1][2] = "320508002001"  # to B1, but the record sits in A2


def attempt_with_clinical_fields(sheets: Sheets) -> None:
    sheets["followups"][4][F("risk_level")] = 2


def missing_required_column(sheets: Sheets) -> None:
    sheets["followups"] = [[c for c in row if c != "mode"] for row in sheets["followups"]]
    for row in sheets["followups"][1:]:
        del row[F("mode")]


def unknown_column(sheets: Sheets) -> None:
    sheets["health_checks"][0].append("blood_type")


def bad_dose(sheets: Sheets) -> None:
    sheets["medications"][1][2] = -1


FUTURE = (TODAY + dt.timedelta(days=3)).isoformat()
CASES: list[tuple[str, Callable[[Sheets], None], tuple[str, int | None, str | None], str]] = [
    ("bad code", set_cell("patients", 1, P("disorder"), 7), ("patients", 2, "disorder"), "代码“7”无效"),
    ("bad status", set_cell("patients", 1, P("status"), "GONE"), ("patients", 2, "status"), "代码“GONE”无效"),
    ("bad check digit", bad_check_digit, ("patients", 2, "national_id"), "校验位不正确"),
    (
        "future date",
        set_cell("patients", 1, P("registered_on"), FUTURE),
        ("patients", 2, "registered_on"),
        "不能晚于今天",
    ),
    ("sex against ID", set_cell("patients", 1, P("sex"), 2), ("patients", 2, "sex"), "性别与身份证号不符"),
    (
        "birth against ID",
        set_cell("patients", 1, P("birth_date"), "1980-01-01"),
        ("patients", 2, "birth_date"),
        "出生日期与身份证号不符",
    ),
    (
        "unknown village",
        set_cell("patients", 1, P("village_code"), "320508001009"),
        ("patients", 2, "village_code"),
        "不是已知的村(居)",
    ),
    (
        "not a village code",
        set_cell("patients", 1, P("village_code"), "320508001000"),
        ("patients", 2, "village_code"),
        "不是村(居)一级",
    ),
    ("duplicate ref", duplicate_patient_ref, ("patients", 3, "ref"), "档案编号重复：第2行已有"),
    ("duplicate ID number", duplicate_national_id, ("patients", 4, "national_id"), "身份证号重复"),
    (
        "status without date",
        set_cell("patients", 3, P("status_date"), None),
        ("patients", 4, "status_date"),
        "须填写状态日期",
    ),
    (
        "lost reason on active",
        set_cell("patients", 1, P("lost_reason"), 1),
        ("patients", 2, "lost_reason"),
        "只有状态为失访",
    ),
    ("required empty", set_cell("patients", 1, P("name"), None), ("patients", 2, "name"), "不能为空"),
    (
        "follow-up before registration",
        set_cell("followups", 1, F("date"), day(500)),
        ("followups", 2, "date"),
        "早于建档日期",
    ),
    ("future follow-up", set_cell("followups", 1, F("date"), FUTURE), ("followups", 2, "date"), "不能晚于今天"),
    (
        "unknown patient_ref",
        set_cell("followups", 1, F("patient_ref"), "P404"),
        ("followups", 2, "patient_ref"),
        "“P404”在patients工作表中不存在",
    ),
    ("duplicate follow-up ref", duplicate_followup_ref, ("followups", 3, "ref"), "随访编号重复"),
    ("bad symptom code", set_cell("followups", 1, F("symptoms"), "1,13"), ("followups", 2, "symptoms"), "代码“13”无效"),
    ("clinical field on attempt", attempt_with_clinical_fields, ("followups", 5, "risk_level"), "未随访到"),
    ("unknown follow-up ref", unknown_followup_ref, ("medications", 2, "followup_ref"), "在followups工作表中不存在"),
    ("bad dose", bad_dose, ("medications", 2, None), "必须大于0"),
    ("transfer chain", broken_transfer_chain, ("transfers", 2, "to_village_code"), "不一致"),
    ("missing column", missing_required_column, ("followups", 1, "mode（随访方式）"), "缺少必需的列"),
    ("unknown column", unknown_column, ("health_checks", 1, "blood_type"), "未知的列"),
]


@pytest.mark.parametrize(("change", "where", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_problem_is_located_and_nothing_is_written(
    world: World, tmp_path: Path, change: Callable[[Sheets], None], where: tuple[Any, ...], message: str
) -> None:
    sheets = valid_sheets(world)
    change(sheets)
    before = Patient.objects.count()
    report = import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.admin_e)
    assert not report.ok
    located = [(p.sheet, p.row, p.column) for p in report.problems if message in p.message]
    assert where in located, report.lines()
    assert Patient.objects.count() == before and not FollowUp.objects.filter(source_ref__isnull=False).exists()


def test_the_workbook_and_the_web_form_share_the_bounds(world: World, tmp_path: Path) -> None:
    """One past the bound of followup.visits.bounds is refused by the workbook rows and by the web form alike."""
    too_many, too_rare = bounds.COUNT_MAX + 1, bounds.WHOLE_NUMBER_MAX["depot_every_weeks"] + 1
    sheets = valid_sheets(world)
    for number, row in enumerate(sheets["followups"]):  # an optional column the valid workbook leaves out
        row.append("trouble" if number == 0 else too_many if number == 1 else None)
    sheets["medications"][2][5] = too_rare  # F3's depot interval
    report = import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.admin_e)
    assert [(p.sheet, p.row, p.column) for p in report.problems] == [
        ("followups", 2, "trouble"), ("medications", 3, None),
    ]  # fmt: skip
    depot = {"drug": "棕榈酸帕利哌酮注射液", "shape": "depot", "depot_every_weeks": too_rare, "depot_mg": 150}
    with pytest.raises(FollowUpError) as error:
        parse_followup(reached_data(trouble=too_many), [depot], today=TODAY)
    assert {"trouble", "medication-1"} <= set(error.value.errors)
    within = [{**depot, "depot_every_weeks": too_rare - 1}]
    assert parse_followup(reached_data(trouble=too_many - 1), within, today=TODAY).trouble == too_many - 1


def test_the_workbook_and_the_registration_form_share_the_patient_bounds(world: World, tmp_path: Path) -> None:
    """One past the bound of registry.patients.bounds is refused by the patients rows and by the web form alike."""
    limit = patient_bounds.TEXT_MAX_LENGTH["name"]
    sheets = valid_sheets(world)
    sheets["patients"][1][P("name")] = "张" * (limit + 1)
    report = import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.admin_e)
    assert [(p.sheet, p.row, p.column) for p in report.problems] == [("patients", 2, "name")]
    with pytest.raises(PatientInputError) as error:
        parse_registration(patient_fields(name="张" * (limit + 1)), {"consent": 1})
    assert set(error.value.errors) == {"name"}
    assert parse_registration(patient_fields(name="张" * limit), {"consent": 1}).patient.name == "张" * limit
    sheets["patients"][1][P("name")] = "张" * limit
    assert import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.admin_e, dry_run=True).ok


def test_the_workbook_and_the_forms_word_an_id_number_problem_alike(world: World, tmp_path: Path) -> None:
    sheets = valid_sheets(world)
    bad_check_digit(sheets)
    report = import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.admin_e)
    message = str(patient_bounds.ID_NUMBER_MESSAGES["check_digit"])
    assert [p.message for p in report.problems if p.column == "national_id"] == [message]
    with pytest.raises(PatientInputError) as error:
        parse_registration(patient_fields(national_id=sheets["patients"][1][P("national_id")]), {"consent": 1})
    assert error.value.errors["national_id"] == [message]


def test_an_invalid_last_row_writes_nothing(world: World, tmp_path: Path) -> None:
    sheets = valid_sheets(world)
    sheets["health_checks"].append(["P1", FUTURE])
    report = import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.admin_e)
    assert [(p.sheet, p.row) for p in report.problems] == [("health_checks", 3)]
    assert Patient.objects.count() == 2  # the world's two patients only


def test_every_problem_is_reported_not_just_the_first(world: World, tmp_path: Path) -> None:
    sheets = valid_sheets(world)
    for row in range(1, 4):
        sheets["patients"][row][P("disorder")] = 8
    sheets["followups"][1][F("mode")] = 5
    report = import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.admin_e)
    assert [(p.sheet, p.row, p.column) for p in report.problems] == [
        ("patients", 2, "disorder"), ("patients", 3, "disorder"), ("patients", 4, "disorder"), ("followups", 2, "mode"),
    ]  # fmt: skip
    assert report.problem_total == 4
    assert report.lines()[0].startswith("工作表“patients”第2行“disorder”列：")


def test_the_report_is_capped_but_counts_everything(world: World, tmp_path: Path) -> None:
    sheets = valid_sheets(world)
    sheets["followups"] += [followup_row(f"X{n}", "P404", 10) for n in range(1100)]
    report = import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.admin_e)
    assert report.problem_total == 1100 and len(report.problems) == 1000


def test_a_village_from_the_areas_sheet_is_known(world: World, tmp_path: Path) -> None:
    sheets = valid_sheets(world)
    sheets["areas"] = [["code", "name", "level"], ["320508001009", "甲九社区", 5]]
    sheets["patients"][1][P("village_code")] = "320508001009"
    report = import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.admin_e)
    assert report.ok, report.lines()
    assert report.counts["areas"].created == 1
    assert Patient.objects.filter(village_id="320508001009").count() == 1


def test_an_id_number_registered_in_another_jurisdiction_is_reported(world: World, tmp_path: Path) -> None:
    other_county = make_area("320509000000", "吴中区", 3, world.city)
    township = make_area("320509001000", "丙镇", 4, other_county)
    village = make_area("320509001001", "丙一村", 5, township)
    sheets = valid_sheets(world)
    row = sheets["patients"][1]
    born = dt.date.fromisoformat(row[P("birth_date")])
    make_patient(world.doctor_a, village, national_id=row[P("national_id")], sex=row[P("sex")], birth_date=born)
    county = Scope(prefixes=("320508",))
    report = import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.county_d, scope=county)
    assert [(p.sheet, p.row, p.column) for p in report.problems] == [("patients", 2, "national_id")]
    assert "已在其他辖区登记" in report.problems[0].message
    assert "320509" not in report.problems[0].message  # reveals nothing about where


def test_a_village_outside_the_users_scope_is_refused(world: World, tmp_path: Path) -> None:
    sheets = valid_sheets(world)
    township_a = Scope(prefixes=("320508001",))
    sheets["patients"][1][P("village_code")] = world.village_b1.code
    report = import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.doctor_a, scope=township_a)
    assert ("patients", 2, "village_code") in [(p.sheet, p.row, p.column) for p in report.problems]
    assert any("不在您的管辖范围内" in p.message for p in report.problems)


def test_a_file_without_patients_sheet(world: World, tmp_path: Path) -> None:
    report = import_workbook(
        write_xlsx(tmp_path / "b.xlsx", {"areas": [["code", "name", "level"]]}), actor=world.admin_e
    )
    assert [(p.sheet, p.message) for p in report.problems] == [("patients", "缺少patients工作表。")]


def test_an_unreadable_file_raises_a_plain_error(world: World, tmp_path: Path) -> None:
    from followup.workbook.loading import WorkbookError

    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(WorkbookError, match=r"“broken\.xlsx”不是Excel或WPS表格文件"):
        import_workbook(bad, actor=world.admin_e)


def test_an_absurd_dose_is_refused_by_the_workbook_and_the_form_alike(world: World, tmp_path: Path) -> None:
    """99999 mg of risperidone a day is a unit slip: the same message from the workbook rows and the web form."""
    from followup.visits.services import record_followup

    sheets = valid_sheets(world)
    sheets["medications"][1][4] = 99999  # F1's evening dose of 利培酮
    report = import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.admin_e)
    problems = [(p.sheet, p.row, p.message) for p in report.problems]
    assert len(problems) == 1 and problems[0][:2] == ("medications", 2) and "剂量过大" in problems[0][2]
    absurd = {"drug": "利培酮", "shape": "schedule", "morning_mg": 1, "evening_mg": 99999}
    entry = parse_followup(reached_data(), [absurd], today=TODAY)
    with pytest.raises(FollowUpError) as error:
        record_followup(actor=world.doctor_a, patient=world.patient_a, entry=entry, submission_key=uuid.uuid4())
    assert error.value.errors["medication-1"] == [problems[0][2]]
    usual = {"drug": "利培酮", "shape": "schedule", "morning_mg": 2, "evening_mg": 4}
    saved = record_followup(
        actor=world.doctor_a,
        patient=world.patient_a,
        entry=parse_followup(reached_data(), [usual], today=TODAY),
        submission_key=uuid.uuid4(),
    )
    assert saved.medications.count() == 1


def test_a_patients_village_retired_by_an_area_change_is_refused(world: World, tmp_path: Path) -> None:
    """A workbook older than an area change names the old village: the import says so instead of placing the
    patient in a village that holds no record (history, e.g. a transfer's from-village, may name it)."""
    from casemgmt.areas.models import Area

    retired_on = TODAY - dt.timedelta(days=30)
    sheets = valid_sheets(world)
    village = sheets["patients"][1][P("village_code")]
    Area.objects.filter(code=village).update(retired_on=retired_on)
    county = Scope(prefixes=("320508",))
    report = import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.doctor_a, scope=county)
    problems = [(p.sheet, p.row, p.column, p.message) for p in report.problems]
    assert (
        "patients",
        2,
        "village_code",
        f"区划代码{village}已于{retired_on}撤销（区划变更），请改用其新区划代码。",
    ) in problems
    assert Patient.objects.count() == 2  # the world's two: nothing written
