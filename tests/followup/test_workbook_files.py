"""Every file a county has (issue 15 §5): the registry workbook saved by LibreOffice as .xls and .ods, a GB18030
CSV under any name, and cells as Chinese Excel and input methods leave them — loaded, and checked in the
database."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from followup.models import FollowUp, MedicationRow
from followup.workbook.loading import import_workbook
from registry.models import Patient, national_id_index
from tests.base import World
from tests.followup.workbook_base import PATIENT_HEADER, Sheets, valid_sheets, write_xlsx
from tests.office import CSV_GB18030, convert

pytestmark = pytest.mark.django_db


def with_real_dates(sheets: Sheets) -> Sheets:
    """Registration dates as Excel dates (not text), as a county's own workbook has them."""
    changed = copy.deepcopy(sheets)
    column = PATIENT_HEADER.index("registered_on")
    for row in changed["patients"][1:]:
        row[column] = dt.date.fromisoformat(row[column])
    return changed


@pytest.mark.parametrize("target", ["xls", "ods"])
def test_a_workbook_saved_by_libreoffice_loads(world: World, tmp_path: Path, target: str) -> None:
    source = write_xlsx(tmp_path / "登记表.xlsx", with_real_dates(valid_sheets(world)))
    (made,) = convert([source], target, tmp_path / target)
    before = Patient.objects.count()
    report = import_workbook(made, actor=world.admin_e)
    assert report.ok, report.lines()
    assert report.counts["patients"].created == 3 and Patient.objects.count() == before + 3
    assert FollowUp.objects.filter(source_ref__isnull=False).count() == 4 and MedicationRow.objects.count() == 2
    registered = Patient.objects.order_by("-pk").values_list("registered_on", flat=True)[0]
    assert isinstance(registered, dt.date)


def test_the_command_takes_a_lone_gb18030_csv_whatever_its_name(world: World, tmp_path: Path) -> None:
    source = write_xlsx(tmp_path / "县登记表.xlsx", {"patients": valid_sheets(world)["patients"]})
    (made,) = convert([source], CSV_GB18030, tmp_path / "csv")
    assert made.name == "县登记表.csv"
    with pytest.raises(UnicodeDecodeError):
        made.read_bytes().decode("utf-8")  # the synthetic names are in GB18030
    before = Patient.objects.count()
    call_command("import_workbook", str(made), stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Patient.objects.count() == before + 3


def test_a_lone_csv_named_after_a_sheet_is_that_sheet(world: World, tmp_path: Path) -> None:
    """followups.csv alone is the followups sheet (for the upload page and the command alike): without the
    patients sheet it is refused for that, not read as patients."""
    path = tmp_path / "followups.csv"
    path.write_text("ref,patient_ref,date,mode,outcome\r\n", encoding="utf-8")
    report = import_workbook(path, actor=world.admin_e)
    assert [(p.sheet, p.message) for p in report.problems] == [("patients", "缺少patients工作表。")]


def full_width(text: str) -> str:
    return text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})


def test_cells_as_chinese_excel_and_input_methods_leave_them(world: World, tmp_path: Path) -> None:
    """Full-width digits and letters, ideographic and stray spaces, dates as Excel serials and as 2025/1/2."""
    sheets = copy.deepcopy(valid_sheets(world))
    row: list[Any] = sheets["patients"][1]

    def put(key: str, value: Any) -> None:
        row[PATIENT_HEADER.index(key)] = value

    born = dt.date(1970, 1, 2)
    registered = dt.date.fromisoformat(row[PATIENT_HEADER.index("registered_on")])
    national_id = row[PATIENT_HEADER.index("national_id")]
    put("national_id", "　" + full_width(national_id) + " ")
    put("village_code", full_width(row[PATIENT_HEADER.index("village_code")]))
    put("birth_date", str((born - dt.date(1899, 12, 30)).days))  # an Excel serial as text
    put("registered_on", registered.strftime("%Y/%-m/%-d"))
    put("sex", " １ ")
    put("status", "ＡＣＴＩＶＥ")
    report = import_workbook(write_xlsx(tmp_path / "登记表.xlsx", sheets), actor=world.admin_e)
    assert report.ok, report.lines()
    patient = Patient.objects.get(national_id_index=national_id_index(national_id))
    assert (patient.birth_date, patient.registered_on, patient.village_id) == (
        born,
        registered,
        world.village_a1.code,
    )
