"""The tabular reader: the same sheet from .xlsx, a CSV folder and a .zip; header problems; cell conversion."""

from __future__ import annotations

import datetime as dt
import re
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from casemgmt.tabular import (
    CellError,
    Problem,
    SheetSpec,
    TabularError,
    as_date,
    as_int,
    as_text,
    open_source,
)
from casemgmt.tabular.cells import clean

SPEC = SheetSpec(
    name="people",
    columns={"code": ("区划代码",), "name": ("名称",), "born": ("出生日期",), "count": ("人数",)},
    required=frozenset({"code", "name"}),
)
HEADER = ["区划代码", "name", "出生日期", "count"]
ROWS: list[list[Any]] = [
    ["320508001001", "甲一社区", "1980-05-17", "12"],
    [None, None, None, None],
    ["320508001002", "乙社区", "2001-01-02", ""],
]


def write_xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.worksheets[0])
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path, rows: list[list[Any]], *, bom: bool = False) -> Path:
    lines = [",".join("" if v is None else str(v) for v in row) for row in rows]
    path.write_text(("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def read_all(path: Path, spec: SheetSpec = SPEC) -> tuple[list[Problem], list[tuple[int, dict[str, Any]]]]:
    with open_source(path) as source:
        sheet = source.sheet(spec)
        assert sheet is not None
        return sheet.header_problems, list(sheet)


EXPECTED_CSV = [
    (2, {"code": "320508001001", "name": "甲一社区", "born": "1980-05-17", "count": "12"}),
    (4, {"code": "320508001002", "name": "乙社区", "born": "2001-01-02", "count": None}),
]


def test_xlsx_with_aliases_real_dates_and_numbers(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        HEADER,
        [320508001001, "甲一社区", dt.datetime(1980, 5, 17), 12],
        [None, None, None, None],
        ["320508001002", " 乙社区 ", "2001-01-02", None],
    ]
    problems, result = read_all(write_xlsx(tmp_path / "book.xlsx", {"other": [["x"]], "People": rows}))
    assert problems == []
    assert result == [
        (2, {"code": 320508001001, "name": "甲一社区", "born": dt.datetime(1980, 5, 17), "count": 12}),
        (4, {"code": "320508001002", "name": "乙社区", "born": "2001-01-02", "count": None}),
    ]
    assert as_text(result[0][1]["code"]) == "320508001001"
    assert as_date(result[0][1]["born"]) == as_date("1980-05-17") == dt.date(1980, 5, 17)


@pytest.mark.parametrize("bom", [True, False])
def test_csv_folder_with_or_without_bom(tmp_path: Path, bom: bool) -> None:
    write_csv(tmp_path / "people.csv", [HEADER, *ROWS], bom=bom)
    write_csv(tmp_path / "notes.txt", [["ignored"]])
    problems, result = read_all(tmp_path)
    assert problems == [] and result == EXPECTED_CSV


def test_single_csv_file_is_a_one_sheet_source(tmp_path: Path) -> None:
    assert read_all(write_csv(tmp_path / "people.csv", [HEADER, *ROWS])) == ([], EXPECTED_CSV)


@pytest.mark.parametrize("member", ["people.csv", "export/people.csv"])
def test_zip_of_csv_at_root_or_in_a_folder(tmp_path: Path, member: str) -> None:
    csv_path = write_csv(tmp_path / "people.csv", [HEADER, *ROWS], bom=True)
    archive = tmp_path / "sheets.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(csv_path, member)
        zf.writestr("__MACOSX/._people.csv", b"\x00\x01")
    with open_source(archive) as source:
        assert source.sheet_names() == ["people"]
    assert read_all(archive) == ([], EXPECTED_CSV)


def test_two_files_for_one_sheet_are_refused(tmp_path: Path) -> None:
    archive = tmp_path / "sheets.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("2024/people.csv", "code,name\n")
        zf.writestr("2025/People.csv", "code,name\n")
    with pytest.raises(TabularError, match=re.escape("2024/people.csv 和 2025/People.csv")):
        open_source(archive)
    folder = tmp_path / "folder"
    folder.mkdir()
    write_csv(folder / "people.csv", [HEADER])
    write_csv(folder / "PEOPLE.csv", [HEADER])
    with pytest.raises(TabularError, match="对应工作表"):
        open_source(folder)


def test_windows_paths_in_a_zip_and_padded_sheet_names(tmp_path: Path) -> None:
    archive = tmp_path / "sheets.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("export\\people.csv", "\r\n".join(",".join(map(str, row)) for row in [HEADER]))
    with open_source(archive) as source:
        assert source.has_sheet("people")
    book = write_xlsx(tmp_path / "book.xlsx", {"People ": [HEADER, *ROWS]})
    assert read_all(book)[1][0][0] == 2


def test_missing_sheet_is_none(tmp_path: Path) -> None:
    write_csv(tmp_path / "people.csv", [HEADER])
    with open_source(tmp_path) as source:
        assert source.sheet(SheetSpec(name="population", columns={"year": ()})) is None
        assert source.has_sheet("PEOPLE")


def test_unknown_duplicate_and_missing_columns_are_reported(tmp_path: Path) -> None:
    write_csv(tmp_path / "people.csv", [["名称", "colour", "name", "", "count"], ["甲", "red", "乙", "", "3"]])
    problems, result = read_all(tmp_path)
    assert problems == [
        Problem("people", 1, "colour", "未知的列，请核对列名。"),
        Problem("people", 1, "name", "与“名称”列重复。"),
        Problem("people", 1, "code（区划代码）", "缺少必需的列。"),
    ]
    assert result == [(2, {"code": None, "name": "甲", "born": None, "count": "3"})]
    assert str(problems[0]) == "工作表“people”第1行“colour”列：未知的列，请核对列名。"


def test_unknown_columns_may_be_allowed(tmp_path: Path) -> None:
    write_csv(tmp_path / "people.csv", [["code", "name", "extra"], ["1", "x", "y"]])
    spec = SheetSpec(name="people", columns=SPEC.columns, required=SPEC.required, allow_unknown=True)
    problems, result = read_all(tmp_path, spec)
    assert problems == [] and result == [(2, {"code": "1", "name": "x", "born": None, "count": None})]


def test_empty_sheet(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("", encoding="utf-8")
    problems, result = read_all(tmp_path)
    assert problems[0] == Problem("people", None, None, "工作表是空的，第一行应为列名。")
    assert result == []


def test_short_rows_and_long_rows(tmp_path: Path) -> None:
    write_csv(tmp_path / "people.csv", [["code", "name"], ["1"], ["2", "b", "surplus"]])
    _, result = read_all(tmp_path)
    assert [cells["name"] for _, cells in result] == [None, "b"]


def test_unreadable_sources(tmp_path: Path) -> None:
    with pytest.raises(TabularError, match="找不到"):
        open_source(tmp_path / "nothing.xlsx")
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(TabularError, match="不支持的文件类型"):
        open_source(tmp_path / "a.pdf")
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(TabularError, match="Excel"):
        open_source(tmp_path / "broken.xlsx")
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    with pytest.raises(TabularError, match="压缩文件"):
        open_source(tmp_path / "broken.zip")


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_gbk_and_gb18030_csv_are_read(tmp_path: Path, encoding: str) -> None:
    text = "区划代码,名称\r\n320508001001,甲一社区\r\n320508001002,㐀䶵社区\r\n"  # 㐀䶵: GB18030 only
    if encoding == "gbk":
        text = text.replace("㐀䶵", "乙")
    (tmp_path / "people.csv").write_bytes(text.encode(encoding))
    problems, result = read_all(tmp_path)
    assert problems == []
    assert [cells["name"] for _, cells in result] == ["甲一社区", "乙社区" if encoding == "gbk" else "㐀䶵社区"]


def test_the_encoding_is_decided_on_the_whole_file(tmp_path: Path) -> None:
    """ASCII for thousands of lines, then GBK: the file is not UTF-8, so all of it is read as GB18030."""
    body = "code,name\r\n" + "1,ascii\r\n" * 5000
    (tmp_path / "people.csv").write_bytes(body.encode() + "2,甲一社区\r\n".encode("gbk"))
    problems, result = read_all(tmp_path)
    assert problems == [] and result[-1] == (5002, {"code": "2", "name": "甲一社区", "born": None, "count": None})


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"code,name\r\n1,\x80\xff\xfe\r\n", "既不是UTF-8，也不是GBK/GB18030"),
        ("code,name\r\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_a_csv_in_no_known_encoding_is_a_sheet_problem(tmp_path: Path, content: bytes, words: str) -> None:
    (tmp_path / "people.csv").write_bytes(content)
    with open_source(tmp_path / "people.csv", label="县登记表.csv") as source:
        sheet = source.sheet(SPEC)
        assert sheet is not None
        assert [(p.sheet, p.row) for p in sheet.header_problems] == [("people", None)]
        assert words in sheet.header_problems[0].message and "县登记表.csv" in sheet.header_problems[0].message
        assert list(sheet) == []


def test_csv_is_streamed_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("code,name,born,count\n")
        for i in range(100_000):
            out.write(f"{320508001000 + i % 999},某某村{i},2001-01-02,{i}\n")
    assert path.stat().st_size > 4_000_000
    tracemalloc.start()
    try:
        with open_source(path) as source:
            sheet = source.sheet(SPEC)
            assert sheet is not None
            count = sum(1 for _ in sheet)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000
    assert peak < 1_000_000


def test_xlsx_is_read_in_read_only_mode(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "book.xlsx", {"people": [HEADER, *ROWS]})
    with open_source(path) as source:
        assert type(source._book).__name__ == "Workbook" and source._book.read_only  # type: ignore[attr-defined]


def test_xlsx_with_a_wrong_dimension_tag_is_read_whole(tmp_path: Path) -> None:
    """Some exporters write <dimension ref="A1"/>; read-only openpyxl would then stop after one cell."""
    path = write_xlsx(tmp_path / "book.xlsx", {"people": [HEADER, *ROWS]})
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(damaged, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data, replaced = re.subn(rb'<dimension ref="A1:D4"\s*/>', b'<dimension ref="A1"/>', data)
                assert replaced == 1
            dst.writestr(info, data)
    assert read_all(damaged) == (
        [],
        [
            (2, {"code": "320508001001", "name": "甲一社区", "born": "1980-05-17", "count": "12"}),
            (4, {"code": "320508001002", "name": "乙社区", "born": "2001-01-02", "count": None}),
        ],
    )


@pytest.mark.parametrize("number", [3.20508199001011e17, 1e15, -1e16])
def test_numbers_excel_cannot_hold_exactly_are_refused(number: float) -> None:
    with pytest.raises(CellError, match="超过15位"):
        as_text(number)
    with pytest.raises(CellError, match="超过15位"):
        as_int(number)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (None, None),
        ("  x ", "x"),
        (320508001001.0, "320508001001"),
        (999999999999999.0, "999999999999999"),
        (320508199001011234, "320508199001011234"),  # a real integer cell is exact
        (12, "12"),
        (1.5, "1.5"),
    ],
)
def test_as_text(cell: Any, expected: str | None) -> None:
    assert as_text(cell) == expected


@pytest.mark.parametrize(("cell", "expected"), [(None, None), ("12", 12), (" -3 ", -3), (7, 7), (7.0, 7), ("+4", 4)])
def test_as_int(cell: Any, expected: int | None) -> None:
    assert as_int(cell) == expected


@pytest.mark.parametrize("cell", ["12.5", "abc", 1.5, True, "1,000", dt.date(2020, 1, 1)])
def test_as_int_refuses(cell: Any) -> None:
    with pytest.raises(CellError, match="应为整数"):
        as_int(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (None, None),
        ("2025-02-28", dt.date(2025, 2, 28)),
        ("2025-02-28 00:00:00", dt.date(2025, 2, 28)),
        (dt.datetime(2025, 2, 28, 0, 0), dt.date(2025, 2, 28)),
        (dt.date(2025, 2, 28), dt.date(2025, 2, 28)),
        ("2025/2/8", dt.date(2025, 2, 8)),  # what Chinese Excel writes into a CSV
        ("2025/2/8 0:00", dt.date(2025, 2, 8)),
        ("2025年2月8日", dt.date(2025, 2, 8)),
        ("2025.02.08", dt.date(2025, 2, 8)),
        ("20250208", dt.date(2025, 2, 8)),
        (20250208, dt.date(2025, 2, 8)),
        (45000, dt.date(2023, 3, 15)),  # an Excel date serial in a number cell
        (45000.75, dt.date(2023, 3, 15)),
        ("45000", dt.date(2023, 3, 15)),  # ... or exported into a CSV as text
        (1, dt.date(1900, 1, 1)),
        (61, dt.date(1900, 3, 1)),
        ("２０２５－０２－０８", dt.date(2025, 2, 8)),  # full-width, after cleaning
    ],
)
def test_as_date(cell: Any, expected: dt.date | None) -> None:
    assert as_date(clean(cell, max_chars=100)) == expected


@pytest.mark.parametrize("cell", ["2025-02-30", "28/02/2025", "2025", "1.5.2025", 60, -3, "abc", True])
def test_as_date_refuses(cell: Any) -> None:
    with pytest.raises(CellError, match="应为日期"):
        as_date(cell)


def rewrite_sheet(path: Path, out: Path, rows: int, *, dimension: bool) -> Path:
    """The workbook at *path* with its sheet replaced by a header, empty rows and a last row with one cell."""
    first = b'<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c></row>'
    body = first + b"".join(b'<row r="%d"/>' % i for i in range(2, rows))
    last = b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>end</t></is></c></row>' % (rows, rows)
    head = b'<dimension ref="A1:A%d"/>' % rows if dimension else b""
    xml = (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        b'2006/main">' + head + b"<sheetData>" + body + last + b"</sheetData></worksheet>"
    )
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, xml if info.filename == "xl/worksheets/sheet1.xml" else src.read(info))
    return out


def test_empty_rows_are_let_go_while_streaming(tmp_path: Path) -> None:
    """openpyxl's loop keeps each cleared row element; the reader's lets it go."""
    book = write_xlsx(tmp_path / "book.xlsx", {"people": [["code"]]})
    path = rewrite_sheet(book, tmp_path / "rows.xlsx", 300_000, dimension=True)
    spec = SheetSpec(name="people", columns={"code": ()})
    tracemalloc.start()
    try:
        with open_source(path) as source:
            sheet = source.sheet(spec)
            assert sheet is not None and sheet.header_problems == []
            assert list(sheet) == [(300_000, {"code": "end"})]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


def test_a_sheet_without_its_dimension_is_not_measured_at_opening(tmp_path: Path) -> None:
    """openpyxl would read the whole sheet to measure it, keeping an element per row (its write-only mode writes
    no <dimension>); the reader needs no size."""
    book = write_xlsx(tmp_path / "book.xlsx", {"people": [["code"]]})
    path = rewrite_sheet(book, tmp_path / "rows.xlsx", 300_000, dimension=False)
    tracemalloc.start()
    try:
        with open_source(path) as source:
            sheet = source.sheet(SheetSpec(name="people", columns={"code": ()}))
            assert sheet is not None and list(sheet) == [(300_000, {"code": "end"})]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000
