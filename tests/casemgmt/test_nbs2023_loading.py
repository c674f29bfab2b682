"""load_areas --nbs2023: the real NBS 2023 tree of a prefix with its ancestors, census 2020 figures, the data's
quirks (development zones, placeholder cities, codes gone or renamed since 2020), idempotent, whole or nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from casemgmt.areas import codes
from casemgmt.areas.models import Area, AreaLevel, AreaPopulation
from casemgmt.areas.nbs2023 import Nbs2023Error, load_nbs2023
from casemgmt.areas.nbs2023_files import CENSUS_YEAR, EXTRACT_DIR, census_rows, level_rows
from casemgmt.areas.population import PopulationResult, population_of

pytestmark = pytest.mark.django_db
WUHU = "340200000000"


def snapshot() -> tuple[list[tuple[str, str, int, str | None]], list[tuple[str, int, int]]]:
    return (
        list(Area.objects.order_by("code").values_list("code", "name", "level", "parent_id")),
        list(AreaPopulation.objects.order_by("area_id", "year").values_list("area_id", "year", "population")),
    )


def census_figure(code6: str) -> int:
    return next(population for code, _name, population in census_rows() if code == code6)


def test_loads_the_pilot_city_with_its_ancestors() -> None:
    report = load_nbs2023("3402")
    assert report.ok
    counts = {level: Area.objects.filter(level=level).count() for level in AreaLevel.values}
    assert counts == {1: 1, 2: 1, 3: 9, 4: 79, 5: 950}  # data/README.md: 9 counties / 79 townships / 950 villages
    assert report.created_by_level == counts
    assert Area.objects.get(code="340000000000").name == "安徽省"
    assert Area.objects.get(code=WUHU).name == "芜湖市"
    county = Area.objects.get(code="340202000000")
    assert (county.name, county.level, county.parent_id) == ("镜湖区", AreaLevel.COUNTY, WUHU)
    for area in Area.objects.all():
        assert area.level == codes.level_of(area.code)
        assert area.parent_id == codes.parent_code(area.code)
    villages = {c.ljust(12, "0"): n for c, n in level_rows(EXTRACT_DIR, codes.VILLAGE) if c.startswith("3402")}
    assert dict(Area.objects.filter(level=AreaLevel.VILLAGE).values_list("code", "name")) == villages


def test_census_figures_for_the_city_and_its_counties() -> None:
    report = load_nbs2023("3402")
    figures = dict(AreaPopulation.objects.filter(year=CENSUS_YEAR).values_list("area_id", "population"))
    assert figures["340202000000"] == 478_658  # 镜湖区, data/README.md
    assert figures[WUHU] == census_figure("340200") == 3_644_420  # the city's own census total
    assert "340000000000" not in figures  # an ancestor outside the prefix gets no figure
    counties = {code: people for code, people in figures.items() if codes.level_of(code) == codes.COUNTY}
    expected = {
        code.ljust(12, "0"): people
        for code, _name, people in census_rows()
        if code.startswith("3402") and code not in {"340200", "340208"}
    }
    assert counties == expected
    assert population_of(WUHU, CENSUS_YEAR).total == 3_644_420  # the city's own figure wins over its children
    assert population_of("340202000000", CENSUS_YEAR).total == 478_658
    assert report.populations_created == len(figures)


def test_census_codes_gone_or_renamed_and_development_zones() -> None:
    report = load_nbs2023("3402")
    assert [(row.code, row.name) for row in report.census_skipped] == [("340208", "三山区")]  # merged in 2020
    assert not Area.objects.filter(code="340208000000").exists()
    assert ("340210000000", "芜湖县", "湾沚区") in report.census_renamed
    assert Area.objects.get(code="340210000000").name == "湾沚区"
    assert AreaPopulation.objects.get(area_id="340210000000").population == census_figure("340210")
    # statistics-only development zones are real areas with townships and villages
    zone = Area.objects.get(code="340272000000")
    assert zone.name == "安徽芜湖三山经济开发区"
    assert Area.objects.filter(code__startswith="340272", level=AreaLevel.VILLAGE).exists()
    assert AreaPopulation.objects.filter(area_id="340271000000").exists()  # this zone the census does name
    # the other has no figure: its prevalence is unknown, named, never zero
    assert report.counties_without_population == [("340272000000", "安徽芜湖三山经济开发区")]
    assert population_of("340272000000", CENSUS_YEAR).total is None


def test_a_countys_own_yearly_figures_override_the_census_from_their_year_on() -> None:
    load_nbs2023("340202")
    county = "340202000000"
    assert population_of(county, 2025) == PopulationResult(478_658, [], CENSUS_YEAR)  # the census carries on
    AreaPopulation.objects.create(area_id=county, year=2023, population=490_000)
    assert population_of(county, 2022).total == 478_658
    assert population_of(county, 2023) == PopulationResult(490_000, [], 2023)
    assert population_of(county, 2025).total == 490_000
    assert population_of(county, 2019).total is None  # nothing at or before 2019
    load_nbs2023("340202")
    assert population_of(county, 2025).total == 490_000  # reloading the census leaves it


def test_reloading_changes_nothing() -> None:
    load_nbs2023("3402")
    before = snapshot()
    again = load_nbs2023("3402")
    assert again.ok
    assert again.areas_created == 0
    assert again.populations_created == 0
    assert again.areas_unchanged == len(before[0])
    assert snapshot() == before


def test_a_wider_load_keeps_what_is_there() -> None:
    load_nbs2023("340202")
    assert Area.objects.filter(level=AreaLevel.COUNTY).count() == 1
    assert not AreaPopulation.objects.filter(area_id=WUHU).exists()  # the city is only an ancestor here
    report = load_nbs2023("3402")
    assert report.unchanged_by_level[codes.COUNTY] == 1
    assert report.created_by_level[codes.COUNTY] == 8
    assert AreaPopulation.objects.filter(area_id=WUHU).exists()


def test_a_stored_2020_figure_is_kept() -> None:
    load_nbs2023("340202")
    AreaPopulation.objects.filter(area_id="340202000000", year=CENSUS_YEAR).update(population=480_000)
    report = load_nbs2023("340202")
    assert report.populations_kept == 1
    assert AreaPopulation.objects.get(area_id="340202000000", year=CENSUS_YEAR).population == 480_000


def test_a_code_stored_under_another_name_writes_nothing() -> None:
    Area.objects.create(code="340000000000", name="安徽省", level=AreaLevel.PROVINCE)
    Area.objects.create(code=WUHU, name="别的市", level=AreaLevel.CITY, parent_id="340000000000")
    report = load_nbs2023("3402")
    assert not report.ok
    assert report.problems == ["区划代码340200000000已用于“别的市”，不能用于“芜湖市”：区划代码不得重复使用。"]
    assert Area.objects.count() == 2
    assert not AreaPopulation.objects.exists()


def test_dry_run_writes_nothing() -> None:
    report = load_nbs2023("3402", dry_run=True)
    assert report.ok
    assert report.created_by_level[codes.VILLAGE] == 950
    assert not Area.objects.exists()


def test_placeholder_cities() -> None:
    load_nbs2023("110101")
    assert Area.objects.get(code="110100000000").name == "市辖区"
    load_nbs2023("419001")
    city = Area.objects.get(code="419000000000")
    assert (city.name, city.level) == ("省直辖县级行政区划", AreaLevel.CITY)
    assert Area.objects.get(code="419001000000").name == "济源市"
    assert AreaPopulation.objects.get(area_id="419001000000").population == census_figure("419001")


def test_rows_whose_code_pads_to_their_parents_are_that_parent() -> None:
    report = load_nbs2023("4419")  # 东莞市: no counties, its townships hang under the city (county row 441900)
    assert report.ok
    assert report.same_as_parent == [("441900", "东莞市")]
    city = Area.objects.get(code="441900000000")
    assert (city.name, city.level) == ("东莞市", AreaLevel.CITY)
    townships = Area.objects.filter(level=AreaLevel.TOWNSHIP)
    assert townships.exists() and {t.parent_id for t in townships} == {"441900000000"}
    assert report.created_by_level[codes.COUNTY] == 0 and report.unchanged_by_level[codes.COUNTY] == 0
    report = load_nbs2023("350527")  # 金门县: its only township and village carry the county's own code
    assert report.same_as_parent == [("350527000", "金门县"), ("350527000000", "金门县")]
    assert Area.objects.get(code="350527000000").level == AreaLevel.COUNTY
    assert report.counties_without_population == [("350527000000", "金门县")]


@pytest.mark.parametrize("prefix", ["99", "3499", "340299"])
def test_an_unknown_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(Nbs2023Error, match=f"2023年统计用区划代码中没有区划“{prefix}”"):
        load_nbs2023(prefix)
    assert not Area.objects.exists()


@pytest.mark.parametrize("prefix", ["34a2", "34021", "3", "340202001", "00", "", "全国"])
def test_a_malformed_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(Nbs2023Error, match="应为2位（省）、4位（市）或6位（县/区）数字，或 all（全国）"):
        load_nbs2023(prefix)


def write_dist(folder: Path) -> Path:
    """A tiny ``dist/`` folder in the npm package's own layout (plain CSV, extra columns)."""
    folder.mkdir()
    files = {
        "provinces": 'code,name\n34,"安徽省"\n',
        "cities": 'code,name,provinceCode\n3402,"芜湖市",34\n',
        "areas": 'code,name,cityCode,provinceCode\n340202,"镜湖区",3402,34\n',
        "streets": 'code,name,areaCode,provinceCode,cityCode\n340202001,"赭山街道",340202,34,3402\n',
        "villages": (
            'code,name,streetCode,provinceCode,cityCode,areaCode\n340202001001,"甲社区",340202001,34,3402,340202\n'
        ),
    }
    for stem, text in files.items():
        (folder / f"{stem}.csv").write_text(text, encoding="utf-8")
    return folder


def test_command_reads_the_packages_own_files(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("load_areas", "--nbs2023", "34", "--source", str(write_dist(tmp_path / "dist")), stdout=out)
    assert Area.objects.count() == 5
    assert Area.objects.get(code="340202001001").name == "甲社区"
    assert AreaPopulation.objects.get(area_id="340202000000").population == 478_658
    text = out.getvalue()
    assert "导入完成。" in text
    assert "村/社区1个" in text
    assert "跳过" in text  # the census rows of 安徽 whose codes this tiny source lacks


def test_command_summary_and_errors(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("load_areas", "--nbs2023", "3402", stdout=out)
    text = out.getvalue()
    assert "村/社区950个（已存在0个）" in text
    assert "1个县级区划没有人口普查人口" in text
    assert "安徽芜湖三山经济开发区（340272）" in text
    assert "三山区（340208）" in text
    with pytest.raises(CommandError, match="没有区划“3499”"):
        call_command("load_areas", "--nbs2023", "3499")
    with pytest.raises(CommandError, match="格式不正确"):
        call_command("load_areas", "--nbs2023", "34021")
    with pytest.raises(CommandError, match="二者选一"):
        call_command("load_areas")
    with pytest.raises(CommandError, match="二者选一"):
        call_command("load_areas", "x.xlsx", "--nbs2023", "34")
    with pytest.raises(CommandError, match="找不到区划数据文件"):
        call_command("load_areas", "--nbs2023", "34", "--source", str(tmp_path))
