"""load_areas: whole or nothing, every problem located, parents before children, idempotent."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from casemgmt.areas.loading import AreaLoadError, load_areas
from casemgmt.areas.models import Area, AreaPopulation
from casemgmt.tabular import Problem
from tests.base import World

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 30)

AREAS: list[list[Any]] = [
    ["code", "name", "level"],
    # children before parents on purpose: the loader must order the writes itself
    ["330102001001", "南湖社区", 5],
    ["330102001002", "北岸社区", 5],
    ["330102001000", "城南街道", 4],
    ["330102000000", "安平区", 3],
    ["330100000000", "东城市", 2],
    ["330000000000", "西江省", 1],
]
POPULATION: list[list[Any]] = [
    ["区划代码", "年份", "常住人口"],
    ["330102001001", 2025, 3200],
    ["330102001002", "2025", "4100"],
    ["330102000000", 2024, 250000],
]


def csv_text(rows: list[list[Any]]) -> str:
    return "".join(",".join("" if v is None else str(v) for v in row) + "\n" for row in rows)


def csv_folder(
    tmp_path: Path, areas: list[list[Any]] | None = AREAS, population: list[list[Any]] | None = None
) -> Path:
    folder = tmp_path / "sheets"
    folder.mkdir(exist_ok=True)
    if areas is not None:
        (folder / "areas.csv").write_text("\ufeff" + csv_text(areas), encoding="utf-8")
    if population is not None:
        (folder / "population.csv").write_text(csv_text(population), encoding="utf-8")
    return folder


def snapshot() -> tuple[list[tuple[str, str, int, str | None]], list[tuple[str, int, int]]]:
    return (
        list(Area.objects.order_by("code").values_list("code", "name", "level", "parent_id")),
        list(AreaPopulation.objects.order_by("area_id", "year").values_list("area_id", "year", "population")),
    )


def problems_of(folder: Path) -> list[tuple[str, int | None, str | None]]:
    before = snapshot()
    report = load_areas(folder, today=TODAY)
    assert not report.ok
    assert snapshot() == before  # nothing written, not even the valid rows
    return [(p.sheet, p.row, p.column) for p in report.problems]


def test_loads_a_csv_folder_parents_first(tmp_path: Path) -> None:
    report = load_areas(csv_folder(tmp_path, population=POPULATION), today=TODAY)
    assert report.ok and report.areas_created == 6 and report.populations_created == 3
    village = Area.objects.get(code="330102001001")
    assert village.level == 5 and village.parent_id == "330102001000"
    assert Area.objects.get(code="330000000000").parent_id is None
    assert AreaPopulation.objects.get(area_id="330102001002", year=2025).population == 4100


def test_loads_xlsx_with_chinese_headers_and_numeric_codes(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.worksheets[0]
    sheet.title = "areas"
    sheet.append(["区划代码", "名称", "级别"])
    for code, name, level in AREAS[1:]:
        sheet.append([int(code), name, level])  # codes typed as numbers in Excel
    population = book.create_sheet("population")
    for row in POPULATION:
        population.append(row)
    path = tmp_path / "areas.xlsx"
    book.save(path)
    assert load_areas(path, today=TODAY).ok
    assert Area.objects.count() == 6 and AreaPopulation.objects.count() == 3


def test_loads_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "areas.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("export/areas.csv", csv_text(AREAS))
        zf.writestr("export/population.csv", csv_text(POPULATION))
    assert load_areas(archive, today=TODAY).ok
    assert Area.objects.count() == 6 and AreaPopulation.objects.count() == 3


def test_loading_twice_changes_nothing(tmp_path: Path) -> None:
    folder = csv_folder(tmp_path, population=POPULATION)
    load_areas(folder, today=TODAY)
    before = snapshot()
    report = load_areas(folder, today=TODAY)
    assert report.ok and snapshot() == before
    assert (report.areas_created, report.areas_unchanged) == (0, 6)
    assert (report.populations_created, report.populations_updated, report.populations_unchanged) == (0, 0, 3)


def test_revised_population_is_updated(tmp_path: Path) -> None:
    load_areas(csv_folder(tmp_path, population=POPULATION), today=TODAY)
    revised = [POPULATION[0], ["330102001001", 2025, 3300]]
    report = load_areas(csv_folder(tmp_path, areas=None, population=revised), today=TODAY)
    assert report.ok and report.populations_updated == 1
    assert AreaPopulation.objects.get(area_id="330102001001", year=2025).population == 3300


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    report = load_areas(csv_folder(tmp_path, population=POPULATION), dry_run=True, today=TODAY)
    assert report.ok and report.areas_created == 6 and report.populations_created == 3
    assert not Area.objects.exists() and not AreaPopulation.objects.exists()


def test_parent_already_in_the_database(world: World, tmp_path: Path) -> None:
    rows: list[list[Any]] = [["code", "name", "level"], ["320508001003", "甲三社区", 5]]
    assert load_areas(csv_folder(tmp_path, areas=rows), today=TODAY).ok
    assert Area.objects.get(code="320508001003").parent_id == world.township_a.code


def test_every_area_problem_is_located(world: World, tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["code", "name", "level"],
        ["3205080010", "短代码", 5],  # 2 malformed
        ["320508001001", "别的名字", 5],  # 3 code used for another place
        ["320508001009", "甲九社区", 4],  # 4 level does not match the code
        ["330102001001", "孤儿社区", 5],  # 5 parent neither in file nor database
        ["320508001007", "甲七社区", 5],  # 6
        ["320508001007", "甲七社区", 5],  # 7 duplicate
        ["320508001008", "", 5],  # 8 empty name
        ["320508001006", "甲六社区", 7],  # 9 level out of range
        ["320508001005", "甲五社区", "五"],  # 10 level not a number
        ["000508001005", "零省", 5],  # 11 province 00 is not a code
        ["320508001004", "甲四社区", 5],  # 12 fine on its own
    ]
    found = problems_of(csv_folder(tmp_path, areas=rows))
    assert found == [
        ("areas", 2, "code"),
        ("areas", 3, "name"),
        ("areas", 4, "level"),
        ("areas", 5, "code"),
        ("areas", 7, "code"),
        ("areas", 8, "name"),
        ("areas", 9, "level"),
        ("areas", 10, "level"),
        ("areas", 11, "code"),
    ]


def test_every_population_problem_is_located(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["area_code", "year", "population"],
        ["330102001001", 2025, "abc"],  # 2 not numeric
        ["330102001001", 2024, -5],  # 3 negative
        ["330102001001", 1800, 10],  # 4 year too early
        ["330102001001", 2030, 10],  # 5 year in the future
        ["330102001002", 2025, 10],  # 6
        ["330102001002", 2025, 11],  # 7 duplicate area and year
        ["990102001002", 2025, 10],  # 8 unknown area
        ["33010200100X", 2025, 10],  # 9 malformed code
        ["330102001001", "二〇二五", 10],  # 10 year not a number
        ["330102001001", 2023, 12.5],  # 11 fractional
        ["330102001001", 2022, None],  # 12 empty
    ]
    found = problems_of(csv_folder(tmp_path, population=rows))
    assert found == [
        ("population", 2, "population"),
        ("population", 3, "population"),
        ("population", 4, "year"),
        ("population", 5, "year"),
        ("population", 7, "year"),
        ("population", 8, "area_code"),
        ("population", 9, "area_code"),
        ("population", 10, "year"),
        ("population", 11, "population"),
        ("population", 12, "population"),
    ]


def test_messages_are_plain_chinese(world: World, tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["区划代码", "名称", "级别"],
        ["320508001001", "别的名字", 5],
        ["320508001009", "甲九社区", 4],
    ]
    report = load_areas(csv_folder(tmp_path, areas=rows), today=TODAY)
    assert [str(p) for p in report.problems] == [
        "工作表“areas”第2行“名称”列：区划代码320508001001已用于“甲一社区”，不能用于“别的名字”：区划代码不得重复使用。",
        "工作表“areas”第3行“级别”列：级别为4（乡镇/街道），但区划代码320508001009表示5（村/社区）。",
    ]


def test_header_problems(tmp_path: Path) -> None:
    folder = csv_folder(
        tmp_path,
        areas=[["code", "名称", "colour"], ["330000000000", "西江省", "red"]],
        population=[["area_code", "year", "population"], ["330000000000", 2025, 1000]],
    )
    report = load_areas(folder, today=TODAY)
    assert report.problems == [
        Problem("areas", 1, "colour", "未知的列，请核对列名。"),
        Problem("areas", 1, "level（级别）", "缺少必需的列。"),
    ]  # population rows are not reported as unknown: the areas sheet could not be read
    assert not Area.objects.exists()


def test_a_gbk_csv_loads_like_utf8(tmp_path: Path) -> None:
    folder = csv_folder(tmp_path, areas=None)
    (folder / "areas.csv").write_bytes(csv_text(AREAS).encode("gbk"))
    report = load_areas(folder, today=TODAY)
    assert report.problems == [] and report.areas_created == len(AREAS) - 1


def test_a_csv_in_no_known_encoding_is_reported(tmp_path: Path) -> None:
    folder = csv_folder(tmp_path, areas=None)
    (folder / "areas.csv").write_bytes(csv_text(AREAS).encode("gbk") + b"\x80\xff")
    report = load_areas(folder, today=TODAY)
    assert [(p.sheet, p.row) for p in report.problems] == [("areas", None)]
    assert "既不是UTF-8，也不是GBK/GB18030" in report.problems[0].message


def test_unreadable_sources(tmp_path: Path) -> None:
    with pytest.raises(AreaLoadError, match="找不到"):
        load_areas(tmp_path / "missing.xlsx")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AreaLoadError, match="areas"):
        load_areas(empty)


def test_command_reports_and_exits_non_zero(world: World, tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["code", "name", "level"],
        ["320508001001", "别的名字", 5],
        ["320508001003", "甲三社区", 5],
    ]
    err = io.StringIO()
    with pytest.raises(CommandError, match="发现1个问题，未写入任何数据。") as info:
        call_command("load_areas", str(csv_folder(tmp_path, areas=rows)), stderr=err)
    assert info.value.returncode == 1
    assert "工作表“areas”第2行“name”列" in err.getvalue()
    assert not Area.objects.filter(code="320508001003").exists()


def test_command_success_and_dry_run(tmp_path: Path) -> None:
    folder = csv_folder(tmp_path, population=POPULATION)
    out = io.StringIO()
    call_command("load_areas", str(folder), "--dry-run", stdout=out)
    assert "试运行" in out.getvalue() and not Area.objects.exists()
    out = io.StringIO()
    call_command("load_areas", str(folder), stdout=out)
    assert "新增6个" in out.getvalue() and Area.objects.count() == 6
    with pytest.raises(CommandError, match="找不到"):
        call_command("load_areas", str(tmp_path / "nope.zip"))


def test_help_renders(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        call_command("load_areas", "--help")
    assert "导入行政区划" in capsys.readouterr().out
