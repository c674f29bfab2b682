"""The demo's map: the pilot city 芜湖市 on the real NBS 2023 division codes, with yearly populations.

The areas and the 2020 census figures come from the bundled extract (``casemgmt.areas.nbs2023``). The census
names counties only, and the reports need a figure for the years the demo covers, so the demo adds village
figures for those years: each county's census figure (the starting point until a county loads its own yearly
figures) split over its villages with random weights (deterministic for a seed), the same every year. A county
the census does not name (a development zone created after 2020) gets its part of what the city's figure leaves
after the named counties, as the generator weighs it (``devdata.synthetic.realmap``). These village figures
are invented — no open village-level population exists — but their sums are the census's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from casemgmt.areas import nbs2023
from casemgmt.areas.models import Area, AreaLevel, AreaPopulation
from casemgmt.areas.nbs2023_files import CENSUS_YEAR
from devdata.synthetic import realmap
from devdata.synthetic.areas import County

CITY = ("340200000000", "芜湖市")
VILLAGE_WEIGHT = (0.6, 1.4)


class MapError(Exception):
    """The real map cannot be loaded into this database; the message is for the operator."""


@dataclass(frozen=True)
class CountyMap:
    code: str
    name: str
    census: int  # its 2020 figure (or its share of the city's remainder)
    townships: dict[str, tuple[str, ...]]  # township code -> its village codes, in code order


def load_city() -> int:
    """The city's areas and census figures (a reload changes nothing); returns how many areas were new."""
    try:
        report = nbs2023.load_nbs2023(CITY[0][:4])
    except nbs2023.Nbs2023Error as exc:
        raise MapError(str(exc)) from exc
    if not report.ok:
        raise MapError("；".join(report.problems[:3]))
    return report.areas_created


def city_counties() -> list[CountyMap]:
    """The city's county-level areas with their townships' villages and their census figures (for a county the
    census does not name, its share of the city's figure: ``realmap.county_weights``)."""
    prefix = CITY[0][:4]
    counties = dict(Area.objects.filter(code__startswith=prefix, level=AreaLevel.COUNTY).values_list("code", "name"))
    weights = realmap.county_weights(counties, CENSUS_YEAR)
    townships: dict[str, dict[str, list[str]]] = {code: {} for code in counties}
    villages = Area.objects.filter(code__startswith=prefix, level=AreaLevel.VILLAGE).order_by("code")
    for village, township in villages.values_list("code", "parent_id"):
        townships[township[:6].ljust(12, "0")].setdefault(township, []).append(village)
    return [
        CountyMap(code, name, round(weights[code]), {t: tuple(v) for t, v in sorted(townships[code].items())})
        for code, name in sorted(counties.items())
    ]


def village_populations(counties: list[CountyMap], *, seed: int) -> dict[str, int]:
    """Each county's figure split over its villages."""
    figures: dict[str, int] = {}
    for county in counties:
        rng = random.Random(f"{seed}:{county.code}")
        villages = [v for vs in county.townships.values() for v in vs]
        weights = [rng.uniform(*VILLAGE_WEIGHT) for _ in villages]
        total = county.census
        scale = total / sum(weights)
        shares = [int(w * scale) for w in weights]
        if shares:
            shares[-1] += total - sum(shares)
        figures.update(zip(villages, shares, strict=True))
    return figures


def ensure_populations(counties: list[CountyMap], *, seed: int, years: range) -> int:
    """The village figures of *years* that are missing; returns how many were added."""
    prefix = CITY[0][:4]
    have = set(
        AreaPopulation.objects.filter(area__code__startswith=prefix, area__level=AreaLevel.VILLAGE, year__in=years)
        .values_list("area_id", "year")
    )  # fmt: skip
    figures = village_populations(counties, seed=seed)
    rows = [
        AreaPopulation(area_id=village, year=year, population=population)
        for year in years
        for village, population in figures.items()
        if (village, year) not in have
    ]
    AreaPopulation.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def patient_units(
    counties: list[CountyMap], *, own_townships: dict[str, list[str]], per_thousand: float, seed: int
) -> list[County]:
    """The generator's units: a township of its own for each of *own_townships* (county code -> township codes,
    whose patients their own doctor writes), and one unit for the rest of each county. Each unit holds
    *per_thousand* of its villages' residents; the given townships come first, in the order given."""
    people = village_populations(counties, seed=seed)
    first: list[County] = []
    rest: list[County] = []
    for county in counties:
        own = own_townships.get(county.code, [])
        for township in own:
            villages = county.townships[township]
            first.append(County(township, round(sum(people[v] for v in villages) * per_thousand / 1000), villages))
        others = tuple(v for t, vs in county.townships.items() if t not in own for v in vs)
        if others:
            rest.append(County(county.code, round(sum(people[v] for v in others) * per_thousand / 1000), others))
    first.sort(key=lambda unit: [t for ts in own_townships.values() for t in ts].index(unit.code))
    return [unit for unit in first + rest if unit.patients]
