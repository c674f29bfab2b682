"""Hostile and malformed files uploaded on the import page (issue 15 §9): each gets a clear Chinese message naming
the user's file, or the sheet, row and column; never a 500, never a partial write."""

from __future__ import annotations

import copy
import datetime as dt
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from devdata.hostile_files import shared_strings_bomb, understate_size
from followup.models import FollowUp, WorkbookImport
from registry.models import Patient
from tests.base import PASSWORD, World
from tests.followup.workbook_base import PATIENT_HEADER, Sheets, valid_sheets, write_csv_folder, write_xlsx
from tests.office import convert

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]

UPLOAD = reverse("followup:workbook_upload")
MB = 1024 * 1024
Build = Callable[[World, Path], tuple[str, bytes]]


@dataclass(frozen=True)
class Hostile:
    build: Build
    says: str  # in the message
    where: tuple[str, int | None, str | None] | None = None  # sheet, row, column of the problem; None: whole file
    settings: dict[str, int] = field(default_factory=dict)
    form: bool = False  # refused by the upload form itself: no job


def xlsx(sheets: Sheets, edit: Callable[[openpyxl.Workbook], None] | None = None) -> Build:
    def build(world: World, tmp_path: Path) -> tuple[str, bytes]:
        path = write_xlsx(tmp_path / "登记表.xlsx", sheets or valid_sheets(world))
        if edit is not None:
            book = openpyxl.load_workbook(path)
            edit(book)
            book.save(path)
        return path.name, path.read_bytes()

    return build


def with_sheets(change: Callable[[Sheets], None], edit: Callable[[openpyxl.Workbook], None] | None = None) -> Build:
    def build(world: World, tmp_path: Path) -> tuple[str, bytes]:
        sheets = copy.deepcopy(valid_sheets(world))
        change(sheets)
        return xlsx(sheets, edit)(world, tmp_path)

    return build


def patients_csv(change: Callable[[bytes], bytes], name: str = "县登记表.csv") -> Build:
    def build(world: World, tmp_path: Path) -> tuple[str, bytes]:
        folder = write_csv_folder(tmp_path / "csv", {"patients": valid_sheets(world)["patients"]})
        return name, change((folder / "patients.csv").read_bytes())

    return build


def raw(name: str, content: bytes) -> Build:
    return lambda world, tmp_path: (name, content)


def zipped(extra: dict[str, bytes], *, cut: int | None = None, name: str = "sheets.zip") -> Build:
    def build(world: World, tmp_path: Path) -> tuple[str, bytes]:
        folder = write_csv_folder(tmp_path / "csv", valid_sheets(world))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(folder.iterdir()):
                if file.name not in extra:  # a member of *extra* stands for the sheet's own file
                    archive.write(file, file.name)
            for member, content in extra.items():
                archive.writestr(member, content)
        data = buffer.getvalue()
        return name, data[:cut] if cut else data

    return build


def truncated_xlsx(world: World, tmp_path: Path) -> tuple[str, bytes]:
    name, data = xlsx({})(world, tmp_path)
    return name, data[: len(data) // 2]


def lying_zip(world: World, tmp_path: Path) -> tuple[str, bytes]:
    """A member that says it inflates to 10 bytes and inflates to 5 MB."""
    path = tmp_path / "sheets.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("followups.csv", b"ref,patient_ref\n" + b" " * 5_000_000)
    return path.name, understate_size(path, "followups.csv", 10).read_bytes()


def strings_bomb(world: World, tmp_path: Path) -> tuple[str, bytes]:
    path = shared_strings_bomb(tmp_path / "登记表.xlsx", 3 * MB)
    return path.name, path.read_bytes()


def grid_corners(target: str, corner: str = "IV65536") -> Build:
    """A few KB of .xls or .ods (made by LibreOffice) whose one sheet spans A1 to *corner* (the whole grid)."""

    def build(world: World, tmp_path: Path) -> tuple[str, bytes]:
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "patients"
        sheet["A1"], sheet[corner] = "ref", "x"
        book.save(tmp_path / "登记表.xlsx")
        (made,) = convert([tmp_path / "登记表.xlsx"], target, tmp_path / target)
        return made.name, made.read_bytes()

    return build


def column(key: str) -> int:
    return PATIENT_HEADER.index(key)


def set_cell(key: str, value: Any) -> Callable[[Sheets], None]:
    def change(sheets: Sheets) -> None:
        sheets["patients"][1][column(key)] = value

    return change


def drop_column(key: str) -> Callable[[Sheets], None]:
    def change(sheets: Sheets) -> None:
        for row in sheets["patients"]:
            del row[column(key)]

    return change


def rename_sheet(old: str, new: str) -> Callable[[Sheets], None]:
    def change(sheets: Sheets) -> None:
        sheets[new] = sheets.pop(old)

    return change


def no_change(sheets: Sheets) -> None:
    return None


def merge_villages(book: openpyxl.Workbook) -> None:
    letter = openpyxl.utils.get_column_letter(column("village_code") + 1)
    book["patients"].merge_cells(f"{letter}2:{letter}3")


def hide_followups(book: openpyxl.Workbook) -> None:
    book["followups"].sheet_state = "hidden"


def replace_name(new: bytes) -> Callable[[bytes], bytes]:
    def change(content: bytes) -> bytes:
        lines = content.split(b"\r\n")
        cells = lines[1].split(b",")
        cells[column("name")] = new
        lines[1] = b",".join(cells)
        return b"\r\n".join(lines)

    return change


def replace_id(new: bytes) -> Callable[[bytes], bytes]:
    def change(content: bytes) -> bytes:
        lines = content.split(b"\r\n")
        cells = lines[1].split(b",")
        cells[column("national_id")] = new
        lines[1] = b",".join(cells)
        return b"\r\n".join(lines)

    return change


HOSTILE: dict[str, Hostile] = {
    "zero_bytes": Hostile(raw("登记表.xlsx", b""), "所提交的是空文件", form=True),
    "zero_bytes_csv": Hostile(raw("县登记表.csv", b""), "所提交的是空文件", form=True),
    "header_only_csv": Hostile(raw("县登记表.csv", b"\r\n"), "工作表是空的", ("patients", None, None)),
    "text_renamed_xlsx": Hostile(
        raw("登记表.xlsx", "档案编号,姓名\n".encode()), "“登记表.xlsx”不是Excel或WPS表格文件（内容是文本）"
    ),
    "text_renamed_xls": Hostile(raw("登记表.xls", b"ref\tname\n"), "“登记表.xls”不是Excel或WPS表格文件（内容是文本）"),
    "web_page_as_xls": Hostile(raw("导出.xls", b"<html><table><tr><td>1</td></tr></table></html>"), "网页（HTML）"),
    "pdf_renamed_ods": Hostile(
        raw("登记表.ods", b"%PDF-1.4 binary\x00\x01"), "“登记表.ods”不是Excel或WPS表格文件（内容是PDF文件）"
    ),
    "random_bytes_zip": Hostile(raw("sheets.zip", bytes(range(256)) * 4), "“sheets.zip”不是zip压缩文件"),
    "truncated_zip": Hostile(zipped({}, cut=400), "无法读取压缩文件“sheets.zip”：文件已损坏或不完整"),
    "truncated_xlsx": Hostile(truncated_xlsx, "无法读取压缩文件“登记表.xlsx”：文件已损坏或不完整"),
    "zip_bomb": Hostile(
        zipped({"medications.csv": b"followup_ref,drug\n" + b"\n" * (3 * MB)}),
        "“sheets.zip”解压后超过2 MB的上限",
        settings={"TABULAR_MAX_INFLATED_BYTES": 2 * MB},
    ),
    "endless_blank_lines": Hostile(
        zipped({"medications.csv": b"followup_ref,drug\r\n" + b"\r\n" * 5000}),
        "工作表“medications”超过1000行",
        ("medications", None, None),
        settings={"TABULAR_MAX_ROWS": 1000},
    ),
    "zip_member_lying_about_its_size": Hostile(
        lying_zip, "无法读取压缩文件“sheets.zip”：文件已损坏或不完整", ("followups", None, None)
    ),
    "shared_strings_bomb": Hostile(
        strings_bomb, "“登记表.xlsx”解压后超过1 MB的上限", settings={"TABULAR_MAX_PART_BYTES": MB}
    ),
    "xls_spanning_the_whole_grid": Hostile(grid_corners("xls"), "无法读取工作簿“登记表.xls”"),
    "ods_spanning_the_whole_grid": Hostile(grid_corners("ods"), "无法读取工作簿“登记表.ods”"),
    "xls_sheet_above_the_grid_limit": Hostile(
        grid_corners("xls", "J200"), "工作表“patients”范围过大（200行×10列", settings={"TABULAR_MAX_GRID_CELLS": 1000}
    ),
    "cell_of_100k_characters": Hostile(
        patients_csv(replace_name(b"x" * 100_000)), "内容过长：共100000个字符", ("patients", 2, "name")
    ),
    "nul_byte_in_a_csv_cell": Hostile(
        patients_csv(replace_name("张\x00三".encode())), "控制字符", ("patients", 2, "name")
    ),
    "formula_without_result": Hostile(
        with_sheets(set_cell("phone", "=A2&B2")), "公式没有计算结果", ("patients", 2, "phone")
    ),
    "merged_cells": Hostile(with_sheets(no_change, merge_villages), "合并单元格", ("patients", 2, "village_code")),
    "hidden_sheet": Hostile(with_sheets(no_change, hide_followups), "隐藏的工作表", ("followups", None, None)),
    "missing_required_column": Hostile(
        with_sheets(drop_column("national_id")), "缺少必需的列", ("patients", 1, "national_id（身份证号）")
    ),
    "sheet_named_in_chinese": Hostile(
        with_sheets(rename_sheet("followups", "随访")), "无法识别的工作表", ("随访", None, None)
    ),
    "sheet_named_followup": Hostile(
        with_sheets(rename_sheet("followups", "followup")), "无法识别的工作表", ("followup", None, None)
    ),
    "id_number_stored_as_number": Hostile(
        with_sheets(set_cell("national_id", 3.20508197001021e17)), "设置为“文本”格式", ("patients", 2, "national_id")
    ),
    "id_number_in_scientific_notation": Hostile(
        patients_csv(replace_id(b"3.20508E+17")), "科学计数法", ("patients", 2, "national_id")
    ),
    "date_before_1900": Hostile(
        with_sheets(set_cell("birth_date", dt.datetime(1899, 12, 31))),
        "日期过早：1899-12-31",
        ("patients", 2, "birth_date"),
    ),
    "csv_in_no_known_encoding": Hostile(
        patients_csv(lambda c: c + b"\x80\xff\r\n"), "“县登记表.csv”的编码无法识别", ("patients", None, None)
    ),
    "csv_in_utf16": Hostile(
        patients_csv(lambda c: c.decode("utf-8-sig").encode("utf-16")),
        "“县登记表.csv”是Unicode文本（UTF-16）",
        ("patients", None, None),
    ),
}


def login(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_a_hostile_file_is_refused_with_a_message_and_nothing_written(
    world: World, tmp_path: Path, settings: Any, case: str
) -> None:
    hostile = HOSTILE[case]
    for name, value in hostile.settings.items():
        setattr(settings, name, value)
    patients, followups = Patient.objects.count(), FollowUp.objects.count()
    name, content = hostile.build(world, tmp_path)
    response = login(world.county_d).post(UPLOAD, {"workbook": SimpleUploadedFile(name, content)}, follow=True)
    assert response.status_code == 200
    if hostile.form:
        assert hostile.says in response.content.decode() and not WorkbookImport.objects.exists()
        return
    job = WorkbookImport.objects.get()
    assert job.status == WorkbookImport.Status.REJECTED, job.report
    page = response.content.decode()
    assert hostile.says in page
    if hostile.where is None:
        assert hostile.says in job.report["error"] and str(job.uuid) not in job.report["error"]
    else:
        located = [tuple(p[:3]) for p in job.report["problems"] if hostile.says in p[3]]
        assert located == [hostile.where], job.report["problems"]
    assert (Patient.objects.count(), FollowUp.objects.count()) == (patients, followups)
