"""Population of an area for a year: its own figure, else the sum of its children's (recursively).

A missing figure makes the total unknown, never zero; the areas lacking one are named.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from casemgmt.areas import codes
from casemgmt.areas.history import in_force_on
from casemgmt.areas.models import Area, AreaPopulation
from casemgmt.readdb import read_alias


@dataclass(frozen=True)
class PopulationResult:
    total: int | None
    missing: list[str] = field(default_factory=list)


def resolve_population(
    root: str, year_figures: dict[str, int], children_of: dict[str | None, list[str]]
) -> PopulationResult:
    """Pure resolution over plain data: figures by code and the child codes of each code."""
    if root in year_figures:
        return PopulationResult(year_figures[root])
    children = children_of.get(root, [])
    if not children:
        return PopulationResult(None, [root])
    total = 0
    missing: list[str] = []
    for child in children:
        result = resolve_population(child, year_figures, children_of)
        missing.extend(result.missing)
        total += result.total or 0
    return PopulationResult(None if missing else total, missing)


def population_of(area_code: str, year: int) -> PopulationResult:
    """Two queries for any area: the subtree's codes, and that year's figures. The areas summed are those in force
    on 1 January (``casemgmt.areas.history``): a change mid-year leaves the old areas in their parents' sums for
    that year and brings the new ones in from the next."""
    prefix = codes.significant_prefix(area_code)
    children_of: dict[str | None, list[str]] = {}
    areas = Area.objects.using(read_alias()).filter(in_force_on(dt.date(year, 1, 1)), code__startswith=prefix)
    for code, parent in areas.values_list("code", "parent_id"):
        children_of.setdefault(parent, []).append(code)
    figures = dict(
        AreaPopulation.objects.using(read_alias())
        .filter(area__code__startswith=prefix, year=year)
        .values_list("area_id", "population")
    )
    return resolve_population(area_code, figures, children_of)


def collapse_missing(missing: list[str], root: str, children_of: dict[str | None, list[str]]) -> list[str]:
    """Pure: an area all of whose children lack a population stands for them (never above *root*)."""
    parent_of = {child: parent for parent, kids in children_of.items() for child in kids}
    wanted = set(missing)
    while True:
        parents = {parent_of.get(code) for code in wanted if code != root}
        complete = {p for p in parents if p is not None and set(children_of.get(p, [])) <= wanted}
        if not complete:
            return sorted(wanted)
        wanted = {code for code in wanted if parent_of.get(code) not in complete} | complete


def name_missing(missing: list[str], root: str) -> list[str]:
    """The areas under *root* lacking a population, for people: "城关镇 (320508001000)".

    When every child of an area lacks one, the area is named once instead of its children (48 villages of one
    township read as that township). A code without a stored area is shown as it is.
    """
    if not missing:
        return []
    names: dict[str, str] = {}
    children_of: dict[str | None, list[str]] = {}
    areas = Area.objects.using(read_alias()).filter(code__startswith=codes.significant_prefix(root))
    rows = areas.values_list("code", "parent_id", "name")
    for code, parent, name in rows:
        names[code] = name
        children_of.setdefault(parent, []).append(code)
    return [
        f"{names[code]} ({code})" if code in names else code for code in collapse_missing(missing, root, children_of)
    ]
