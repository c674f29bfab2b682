"""Files made by a second program: the project writes a workbook (openpyxl), LibreOffice saves it as .xls
(BIFF8), .ods, .xlsx and CSV in UTF-8 and GB18030; the reader reads the same rows from each."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from casemgmt.tabular import SheetSpec, as_date, as_int, as_text, open_source
from tests.office import CSV_GB18030, CSV_UTF8, convert

SPEC = SheetSpec(
    name="people",
    columns={"code": ("区划代码",), "name": ("名称",), "born": ("出生日期",), "count": ("人数",), "id": ("身份证号",)},
    required=frozenset({"code", "name"}),
    text_only=frozenset({"id"}),
)
ROWS: list[list[Any]] = [
    ["区划代码", "名称", "出生日期", "人数", "身份证号"],
    ["320508001001", "甲一社区", dt.date(1980, 5, 17), 12, "32050819800517123X"],
    [None, None, None, None, None],
    ["320508001002", "  乙社区　", dt.date(2001, 1, 2), None, "320508200101021234"],
]
EXPECTED = [
    (
        2,
        {
            "code": "320508001001",
            "name": "甲一社区",
            "born": dt.date(1980, 5, 17),
            "count": 12,
            "id": "32050819800517123X",
        },
    ),
    (
        4,
        {
            "code": "320508001002",
            "name": "乙社区",
            "born": dt.date(2001, 1, 2),
            "count": None,
            "id": "320508200101021234",
        },
    ),
]


def typed(path: Path) -> list[tuple[int, dict[str, Any]]]:
    with open_source(path) as source:
        sheet = source.sheet(SPEC)
        assert sheet is not None and sheet.header_problems == []
        return [
            (
                number,
                {
                    "code": as_text(cells["code"]),
                    "name": as_text(cells["name"]),
                    "born": as_date(cells["born"]),
                    "count": as_int(cells["count"]),
                    "id": as_text(cells["id"]),
                },
            )
            for number, cells in sheet
        ]


@pytest.fixture(scope="module")
def made_by_libreoffice(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("office")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "people"
    for row in ROWS:
        sheet.append(row)
    for cell in sheet["C"][1:]:
        cell.number_format = "yyyy-mm-dd"
    source = folder / "people.xlsx"
    book.save(source)
    files = {"source.xlsx": source}
    for target in ("xls", "ods", "xlsx"):
        (files[f"libreoffice.{target}"],) = convert([source], target, folder / target)
    (files["utf8.csv"],) = convert([source], CSV_UTF8, folder / "utf8")
    (files["gb18030.csv"],) = convert([source], CSV_GB18030, folder / "gb18030")
    return files


@pytest.mark.parametrize("kind", ["source.xlsx", "libreoffice.xls", "libreoffice.ods", "libreoffice.xlsx", "utf8.csv"])
def test_every_kind_reads_the_same_rows(made_by_libreoffice: dict[str, Path], kind: str) -> None:
    assert typed(made_by_libreoffice[kind]) == EXPECTED


def test_a_gb18030_csv_made_by_libreoffice(made_by_libreoffice: dict[str, Path]) -> None:
    path = made_by_libreoffice["gb18030.csv"]
    assert "甲一社区".encode("gb18030") in path.read_bytes()  # really not UTF-8
    assert typed(path) == EXPECTED


def test_what_libreoffice_wrote_is_what_the_reader_calls_it(made_by_libreoffice: dict[str, Path]) -> None:
    assert made_by_libreoffice["libreoffice.xls"].read_bytes()[:4] == b"\xd0\xcf\x11\xe0"  # BIFF8 in OLE2
    assert b"opendocument.spreadsheet" in made_by_libreoffice["libreoffice.ods"].read_bytes()[:100]


@pytest.mark.parametrize("target", ["xls", "ods"])
def test_merged_cells_and_hidden_sheets_saved_by_libreoffice(tmp_path: Path, target: str) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "people"
    for row in ROWS:
        sheet.append(row)
    sheet.merge_cells("B2:B4")
    hidden = book.create_sheet("population")
    hidden.append(["year"])
    hidden.sheet_state = "hidden"
    book.save(tmp_path / "book.xlsx")
    (made,) = convert([tmp_path / "book.xlsx"], target, tmp_path / target)
    with open_source(made) as source:
        assert source.sheet_names() == ["people"] and source.hidden_sheet_names() == ["population"]
        people = source.sheet(SPEC)
        assert people is not None
        assert [(p.row, p.column, p.message[:12]) for p in people.header_problems] == [
            (2, "名称", "合并单元格（B2:B4）")
        ]
        population = source.sheet(SheetSpec(name="population", columns={"year": ()}))
        assert population is not None and "隐藏的工作表" in population.header_problems[0].message
