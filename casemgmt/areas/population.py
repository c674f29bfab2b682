"""Population of an area for a year: its own figure, else the sum of its children's (recursively).

A missing figure makes the total unknown, never zero; the areas lacking one are named.

Figures are not loaded every year (the 2020 census is the starting point of the real map, a county adds its own
yearly figures when it has them), so the population for year Y is that rule applied to the **latest year ≤ Y
for which it gives a total**: Y itself when every needed figure of Y is there, else the year before, and so on.
One year serves the whole area — figures of different years are never added together — and the result names
it. When no year gives a total, the areas lacking a figure in the latest year that has any are named.

This carrying forward is a named rule, ``AREA_POPULATION_CARRY_FORWARD`` (default on). Turned off, only year Y's
own figures count, as domain.md §3 reads literally: a year without figures makes 报告患病率 unknown. Reports name
the year whose figures they used when it is not Y (``population_year`` in the indicator document).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from casemgmt.areas import codes
from casemgmt.areas.history import in_force_on
from casemgmt.areas.models import Area, AreaPopulation
from casemgmt.readdb import read_alias

TreeOf = Callable[[int], dict[str | None, list[str]]]  # year -> the child codes of each code in force that year


@dataclass(frozen=True)
class PopulationResult:
    total: int | None
    missing: list[str] = field(default_factory=list)
    year: int | None = None  # the year whose figures gave the total (None when unknown or not resolved by year)


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


def resolve_latest(root: str, figures_by_year: dict[int, dict[str, int]], tree_of: TreeOf) -> PopulationResult:
    """Pure: :func:`resolve_population` for the latest year of *figures_by_year* that gives a total, each year over
    its own tree (``tree_of(year)``: the child codes of each code, as in force that year)."""
    latest: PopulationResult | None = None
    for year in sorted(figures_by_year, reverse=True):
        result = resolve_population(root, figures_by_year[year], tree_of(year))
        if result.total is not None:
            return PopulationResult(result.total, [], year)
        latest = latest or result
    return latest or resolve_population(root, {}, tree_of(max(figures_by_year, default=0)))


class Subtree:
    """The areas and population figures under one area, read once and shared by the areas under it: a report's
    area and each of its children resolve from the same reads (two queries for a township and its 20 villages,
    instead of two per village), each exactly as :func:`population_of` alone would."""

    def __init__(self, area_code: str, year: int) -> None:
        self.prefix = codes.significant_prefix(area_code)
        self.year = year
        self._figures = AreaPopulation.objects.using(read_alias()).filter(area__code__startswith=self.prefix)
        self._current = dict(self._figures.filter(year=year).values_list("area_id", "population"))
        self._earlier: list[tuple[str, int, int]] | None = None
        self._trees: dict[int, dict[str | None, list[str]]] = {}

    def tree_under(self, area_code: str, tree_year: int, figures: dict[str, int]) -> dict[str | None, list[str]]:
        """The child codes, as in force on *tree_year*'s 1 January, of every area a resolution of *area_code* over
        *figures* descends into. An area with a figure ends its branch, so its children are never read: a province
        whose counties have census figures reads its cities and counties, not its 20,000 villages. Areas read once
        stay read for the other areas of the subtree."""
        tree = self._trees.setdefault(tree_year, {})
        frontier = [area_code]
        while frontier:
            descend = [code for code in frontier if code not in figures]
            unread = [code for code in descend if code not in tree]
            if unread:
                self._read_children(tree, tree_year, unread)
            frontier = [child for code in descend for child in tree[code]]
        return tree

    def _read_children(self, tree: dict[str | None, list[str]], tree_year: int, unread: list[str]) -> None:
        """Into *tree*, in one query: the children of the provinces and cities of *unread* (one level down), and for
        a county or an area under one, the whole county's part of the subtree (a few hundred areas, which a
        resolution that reached them mostly needs: villages rarely have figures of their own)."""
        upper = [code for code in unread if codes.level_of(code) < codes.COUNTY]
        blocks = {code[:6] if len(self.prefix) < 6 else self.prefix for code in unread if code not in upper}
        wanted = Q(parent_id__in=upper)
        for block in blocks:
            wanted |= Q(code__startswith=block)
        areas = Area.objects.using(read_alias()).filter(
            wanted, in_force_on(dt.date(tree_year, 1, 1)), code__startswith=self.prefix
        )
        rows = list(areas.order_by("code").values_list("code", "parent_id"))
        read = set(unread) | {code for code, _ in rows if code.startswith(tuple(blocks))}  # even one not in force
        tree.update({code: [] for code in read})
        for code, parent in rows:
            if parent in read:
                tree[parent].append(code)

    def _earlier_figures(self) -> list[tuple[str, int, int]]:
        if self._earlier is None:
            self._earlier = list(self._figures.filter(year__lt=self.year).values_list("area_id", "year", "population"))
        return self._earlier

    def population(self, area_code: str) -> PopulationResult:
        """The population of *area_code* (the subtree's root or an area under it) for the subtree's year."""
        prefix = codes.significant_prefix(area_code)
        if not prefix.startswith(self.prefix):  # a child whose code lies outside its parent's (kept after a move)
            return Subtree(area_code, self.year).population(area_code)
        year = self.year
        current = {code: n for code, n in self._current.items() if code.startswith(prefix)}
        if current:
            result = resolve_population(area_code, current, self.tree_under(area_code, year, current))
            if result.total is not None:
                return PopulationResult(result.total, [], year)
        if not settings.AREA_POPULATION_CARRY_FORWARD:
            return resolve_population(area_code, current, self.tree_under(area_code, year, current))
        by_year: dict[int, dict[str, int]] = {year: current} if current else {}
        for code, figure_year, population in self._earlier_figures():
            if code.startswith(prefix):
                by_year.setdefault(figure_year, {})[code] = population
        if not by_year:  # no figure at all up to that year: every area lacks one
            return resolve_population(area_code, {}, self.tree_under(area_code, year, {}))
        return resolve_latest(
            area_code, by_year, lambda tree_year: self.tree_under(area_code, tree_year, by_year.get(tree_year, {}))
        )


def population_of(area_code: str, year: int) -> PopulationResult:
    """When the year's own figures give the total: that year's figures, and the areas under the area down to those
    with a figure (one query per level above the county, one for a county's part); when they do not, one more for
    the earlier years' figures and the areas of each earlier year's tree tried. The areas summed for a year are
    those in force on its 1 January (``casemgmt.areas.history``): a change mid-year leaves
    the old areas in their parents' sums for that year and brings the new ones in from the next."""
    return Subtree(area_code, year).population(area_code)


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
