"""Population for a year without its own figures (``AREA_POPULATION_CARRY_FORWARD``): the latest earlier year's
figures, named in the document and on the page; the rule turned off leaves the prevalence unknown."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from casemgmt.areas.models import AreaPopulation
from casemgmt.areas.population import Subtree, population_of
from metrics.indicators.options import default_options
from metrics.indicators.periods import parse_period
from metrics.reports.engine import compute, find_area
from tests.base import TODAY, World

pytestmark = pytest.mark.django_db
YEAR = TODAY.year


@pytest.fixture
def earlier_figures_only(world: World) -> World:
    """The world's villages hold figures for this year; move them two years back."""
    AreaPopulation.objects.filter(year=YEAR).update(year=YEAR - 2)
    return world


def test_the_latest_earlier_year_serves_and_is_named(earlier_figures_only: World) -> None:
    document = compute(find_area("320508"), parse_period(str(YEAR)), default_options(), children=True).document()
    assert document["indicators"]["reported_prevalence"]["denominator"] == 12000
    assert document["population_year"] == YEAR - 2
    assert all(child["population_year"] == YEAR - 2 for child in document["children"])


def test_the_years_own_figures_are_not_named(world: World) -> None:
    document = compute(find_area("320508"), parse_period(str(YEAR)), default_options()).document()
    assert document["indicators"]["reported_prevalence"]["denominator"] == 12000
    assert "population_year" not in document


def test_turned_off_only_the_years_own_figures_count(earlier_figures_only: World, settings: Any) -> None:
    settings.AREA_POPULATION_CARRY_FORWARD = False
    document = compute(find_area("320508"), parse_period(str(YEAR)), default_options()).document()
    assert document["indicators"]["reported_prevalence"]["value"] is None
    assert document["missing_population"] and "population_year" not in document


def test_the_report_page_says_which_years_population_it_used(earlier_figures_only: World) -> None:
    client = Client()
    client.force_login(earlier_figures_only.county_d)
    page = client.get("/reports/", {"area": "320508", "period": str(YEAR)})
    assert page.status_code == 200
    assert f"按{YEAR - 2}年常住人口计算" in page.content.decode()


@pytest.mark.parametrize("carry_forward", [True, False], ids=["carried forward", "the year's own only"])
@pytest.mark.parametrize(
    "figures", ["this year", "two years back", "one village this year, the rest two years back", "none"]
)
def test_an_area_and_its_children_read_once_resolve_as_each_alone(
    world: World, settings: Any, figures: str, carry_forward: bool
) -> None:
    settings.AREA_POPULATION_CARRY_FORWARD = carry_forward
    stored = AreaPopulation.objects.filter(year=YEAR)
    if figures == "two years back":
        stored.update(year=YEAR - 2)
    elif figures.startswith("one village"):
        stored.exclude(area_id=world.village_a1.code).update(year=YEAR - 2)
    elif figures == "none":
        stored.delete()
    areas = ["320508000000", world.township_a.code, world.township_b.code, world.village_a1.code]
    areas += [world.village_a2.code, world.village_b1.code, "320000000000"]  # the last one outside the subtree
    together = Subtree("320508000000", YEAR)
    assert [together.population(code) for code in areas] == [population_of(code, YEAR) for code in areas]


def test_a_resolution_reads_the_tree_only_down_to_the_areas_with_a_figure(world: World) -> None:
    """A province whose county has a figure resolves without reading the county's townships and villages (the
    whole country's report would otherwise read 665,000 areas); below the figure nothing is read."""
    AreaPopulation.objects.filter(year=YEAR).delete()
    AreaPopulation.objects.create(area_id="320508000000", year=YEAR, population=12000)
    province = Subtree("320000000000", YEAR)
    assert province.population("320000000000").total == 12000
    read = province.tree_under("320000000000", YEAR, {"320508000000": 12000})
    assert "320508000000" in read["320500000000"]  # the city's children were read
    assert "320508000000" not in read and world.township_a.code not in read  # the county's were not
    assert population_of(world.township_a.code, YEAR).missing == [world.village_a1.code, world.village_a2.code]
