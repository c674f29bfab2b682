from __future__ import annotations

import pytest

from casemgmt.areas import codes
from casemgmt.areas.population import PopulationResult, collapse_missing, resolve_latest, resolve_population


@pytest.mark.parametrize(
    ("code", "level", "prefix"),
    [
        ("320000000000", codes.PROVINCE, "32"),
        ("320500000000", codes.CITY, "3205"),
        ("320508000000", codes.COUNTY, "320508"),
        ("320508019000", codes.TOWNSHIP, "320508019"),
        ("320508019044", codes.VILLAGE, "320508019044"),
    ],
)
def test_levels_and_prefixes(code: str, level: int, prefix: str) -> None:
    assert codes.level_of(code) == level
    assert codes.significant_prefix(code) == prefix
    assert codes.code_from_prefix(prefix) == code


def test_ancestors_are_the_code_with_lower_segments_zeroed() -> None:
    assert codes.ancestor_codes("320508019044") == [
        "320508019000", "320508000000", "320500000000", "320000000000",
    ]  # fmt: skip


def test_missing_city_segment_skips_to_the_province() -> None:
    assert codes.parent_code("320008000000") == "320000000000"


@pytest.mark.parametrize(
    "bad",
    [
        "32050801904",
        "3205080190440",
        "00050801904x",
        "000000000000",
        "abc",
        "３２０５０８０１９０４４",
        "320508019044\n",
    ],
)
def test_malformed_codes(bad: str) -> None:
    assert not codes.is_valid_code(bad) or bad == ""
    with pytest.raises(codes.AreaCodeError):
        codes.level_of(bad)


def test_prefixes_are_ascii_digits() -> None:
    with pytest.raises(codes.AreaCodeError):
        codes.code_from_prefix("３２０５")


def test_is_within() -> None:
    assert codes.is_within("320508019044", "320508000000")
    assert not codes.is_within("320509019044", "320508000000")


CHILDREN: dict[str | None, list[str]] = {"C": ["T1", "T2"], "T1": ["V1", "V2"], "T2": ["V3"]}


def test_population_is_own_figure_or_sum_of_children() -> None:
    assert resolve_population("C", {"C": 100}, CHILDREN).total == 100
    assert resolve_population("C", {"V1": 1, "V2": 2, "V3": 3}, CHILDREN).total == 6
    assert resolve_population("C", {"T1": 10, "V3": 3}, CHILDREN).total == 13


def test_missing_population_is_unknown_and_named_never_zero() -> None:
    result = resolve_population("C", {"V1": 1, "V2": 2}, CHILDREN)
    assert result.total is None
    assert result.missing == ["V3"]


def test_population_comes_from_the_latest_year_that_gives_a_total() -> None:
    tree = lambda year: CHILDREN  # noqa: E731  (one tree every year)
    census = {"C": 100}
    partial = {"V1": 1, "V2": 2}  # V3 lacks a figure for that year
    complete = {"T1": 10, "V3": 3}
    assert resolve_latest("C", {2020: census, 2024: partial}, tree) == PopulationResult(100, [], 2020)
    assert resolve_latest("C", {2020: census, 2023: complete, 2024: partial}, tree).total == 13
    assert resolve_latest("C", {2020: census, 2023: complete, 2024: partial}, tree).year == 2023
    unknown = resolve_latest("C", {2022: {"V3": 3}, 2024: partial}, tree)
    assert (unknown.total, unknown.missing, unknown.year) == (None, ["V3"], None)  # the latest year's gaps
    assert resolve_latest("C", {}, tree).missing == ["V1", "V2", "V3"]


def test_missing_populations_collapse_to_the_area_whose_children_all_lack_one() -> None:
    tree: dict[str | None, list[str]] = {"C": ["T1", "T2"], "T1": ["V1", "V2"], "T2": ["V3", "V4"]}
    assert collapse_missing(["V1", "V2", "V3"], "C", tree) == ["T1", "V3"]
    assert collapse_missing(["V1", "V2", "V3", "V4"], "C", tree) == ["C"]
    assert collapse_missing(["V1", "V2"], "T1", tree) == ["T1"]  # never above the report's area
    assert collapse_missing([], "C", tree) == []
