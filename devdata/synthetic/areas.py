"""The area tree of a synthetic province: counties of about 2,500 patients grouped into cities, each county with
its townships and villages, and a resident population for every area and year (domain.md §3).

Sizes follow design.md §7: a county holds about 2,000–2,500 patients, a city (12 counties) about 30,000. The
populations make the registered prevalence land near the national 4–6 per thousand.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from casemgmt.areas.models import Area, AreaLevel, AreaPopulation
from devdata.synthetic.writer import Writer

PATIENTS_PER_COUNTY = 2_500
COUNTIES_PER_CITY = 12
TOWNSHIPS_PER_COUNTY = (8, 16)
VILLAGES_PER_TOWNSHIP = (8, 20)
PREVALENCE_PER_THOUSAND = (4.0, 6.0)  # registered patients per 1,000 residents


@dataclass(frozen=True)
class County:
    code: str
    patients: int  # how many patients the generator places here
    villages: tuple[str, ...]  # village codes, in code order


def plan_counties(*, province: str, patients: int, rng: random.Random) -> list[County]:
    """How many patients each county gets and its villages; plain data, deterministic for the generator."""
    count = max(1, round(patients / PATIENTS_PER_COUNTY))
    if count > 99 * 99:
        raise ValueError("too many counties for one province")
    weights = [rng.uniform(0.7, 1.3) for _ in range(count)]
    total = sum(weights)
    sizes = [int(patients * w / total) for w in weights]
    sizes[-1] += patients - sum(sizes)
    counties = []
    for index, size in enumerate(sizes):
        city, county = divmod(index, COUNTIES_PER_CITY)
        code6 = f"{province}{city + 1:02d}{county + 1:02d}"
        villages = tuple(
            f"{code6}{t:03d}{v:03d}"
            for t in range(1, rng.randint(*TOWNSHIPS_PER_COUNTY) + 1)
            for v in range(1, rng.randint(*VILLAGES_PER_TOWNSHIP) + 1)
        )
        counties.append(County(code=code6 + "000000", patients=size, villages=villages))
    return counties


def create_areas(
    *, province: str, counties: list[County], years: list[int], rng: random.Random, writer: Writer
) -> None:
    """Insert the tree and the populations of every area for every year (villages up; parents are sums)."""
    province_code = province.ljust(12, "0")
    areas: list[tuple[str, str, int, str | None]] = [(province_code, "合成省", AreaLevel.PROVINCE, None)]
    populations: dict[str, int] = {}
    cities: set[str] = set()
    for county in counties:
        city_code = county.code[:4].ljust(12, "0")
        if city_code not in cities:
            cities.add(city_code)
            areas.append((city_code, f"合成市{city_code[2:4]}", AreaLevel.CITY, province_code))
        areas.append((county.code, f"合成县{county.code[2:6]}", AreaLevel.COUNTY, city_code))
        per_village = county.patients / max(len(county.villages), 1)
        townships: set[str] = set()
        for village in county.villages:
            township = village[:9].ljust(12, "0")
            if township not in townships:
                townships.add(township)
                areas.append((township, f"合成镇{township[4:9]}", AreaLevel.TOWNSHIP, county.code))
            areas.append((village, f"合成村{village[6:]}", AreaLevel.VILLAGE, township))
            residents = round(per_village * 1000 / rng.uniform(*PREVALENCE_PER_THOUSAND))
            for ancestor in (village, township, county.code, city_code, province_code):
                populations[ancestor] = populations.get(ancestor, 0) + residents
    writer.write(Area, ("code", "name", "level", "parent_id"), areas)
    rows: list[tuple[str, int, int]] = []
    for index, year in enumerate(years):
        growth = 1 + 0.004 * index  # a slowly growing population
        rows.extend((code, year, round(people * growth)) for code, people in populations.items())
    writer.write(AreaPopulation, ("area_id", "year", "population"), rows)
