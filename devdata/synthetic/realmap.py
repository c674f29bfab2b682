"""Synthetic patients on the real map: a real province (or the whole country) loaded from the NBS 2023 codes with
its 2020 census populations (``casemgmt.areas.nbs2023``), patients placed per county in proportion to its
population, each in one of the county's real villages.

- How many: ``PER_THOUSAND`` (4.6‰, the registered prevalence of a programme that meets its ≥ 4.5‰ target) of
  the residents, or a given total shared out in the same proportions (largest remainders, so the counts add up
  exactly and follow the code order on ties).
- A county's weight is its latest stored population figure (the census, or the county's own later figure). A
  county-level area without any (most statistics-only development zones, districts created after 2020) still
  has residents: it weighs an even share of what its city's own figure leaves over beyond the city's counties
  with a figure (芜湖: 3,644,420 − the eight others = 184,553 for 340272, about the old 三山区), or, when the city
  has no figure or nothing is left over, the mean of its city's counties with a figure (of its province's when
  none has one). So the weights of a city add up to its census total, and the default count is 4.6‰ of the
  residents the census counted. Such an area is given no population figure: its 报告患病率 stays unknown, as
  the data says (its city's and province's are known from their own census figures).
- The plan is a few numbers and the village codes per county (620,573 codes for the whole country, some tens of
  megabytes); patients are built and written batch by batch by ``run``, never all held at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from casemgmt.areas import codes
from casemgmt.areas.models import Area, AreaLevel, AreaPopulation
from casemgmt.areas.nbs2023 import Nbs2023Error, Nbs2023Report, load_nbs2023
from casemgmt.areas.nbs2023_files import EXTRACT_DIR, level_rows
from devdata.synthetic.areas import County

PER_THOUSAND = 4.6
WHOLE_COUNTRY = ""


def is_real_province(province: str) -> bool:
    """Whether the 2023 division codes have this province (71 Taiwan, 81/82 and 90–99 are not in them)."""
    return any(code == province for code, _name in level_rows(EXTRACT_DIR, codes.PROVINCE, prefix=province))


def load_tree(prefix: str) -> Nbs2023Report:
    """The real tree of *prefix* ("" for the whole country) with its census figures; reloading changes nothing."""
    try:
        report = load_nbs2023(prefix or "all")
    except Nbs2023Error as exc:  # an unknown code: the operator's message
        raise ValueError(str(exc)) from exc
    if not report.ok:
        raise ValueError("；".join(report.problems))
    return report


def county_weights(counties: Iterable[str], year: int) -> dict[str, float]:
    """Weight of each county-level unit (12-digit codes): its latest figure at or before *year*; for one without,
    an even share of what its city's figure leaves over beyond its counties' figures, else the mean of its city's
    counties with a figure, else of its province's; 0 when there is nothing to go by.

    A unit is a county, or a city without counties whose townships hang directly under it (441900 东莞市)."""
    units = sorted(counties)
    figures = _latest_figures(units, year)
    known = {code: figures[code] for code in units if code in figures}
    unknown = [code for code in units if code not in known]
    by_city = _means(known, digits=4)
    by_province = _means(known, digits=2)
    weights: dict[str, float] = {code: float(population) for code, population in known.items()}
    for code in unknown:
        city = code[:4].ljust(12, "0")
        missing_in_city = sum(1 for other in unknown if other[:4] == code[:4])
        left_over = figures.get(city, 0) - sum(p for other, p in known.items() if other[:4] == code[:4])
        if left_over > 0:
            weights[code] = left_over / missing_in_city
        else:
            weights[code] = by_city.get(code[:4], by_province.get(code[:2], 0.0))
    return dict(sorted(weights.items()))


def _latest_figures(units: list[str], year: int) -> dict[str, int]:
    """The latest figure at or before *year* of each unit and of each unit's city, where there is one."""
    wanted = sorted({*units, *(code[:4].ljust(12, "0") for code in units)})
    figures: dict[str, int] = {}
    for start in range(0, len(wanted), 5000):
        stored = AreaPopulation.objects.filter(area_id__in=wanted[start : start + 5000], year__lte=year)
        for code, population in stored.order_by("area_id", "year").values_list("area_id", "population"):
            figures[code] = population  # the latest year comes last
    return figures


def _means(figures: dict[str, int], *, digits: int) -> dict[str, float]:
    groups: dict[str, list[int]] = defaultdict(list)
    for code, population in figures.items():
        groups[code[:digits]].append(population)
    return {key: sum(values) / len(values) for key, values in groups.items()}


def apportion(total: int, weights: dict[str, float]) -> dict[str, int]:
    """*total* shared out in proportion to *weights* (largest remainders; ties in key order): sums to *total*."""
    whole = sum(weights.values())
    if whole <= 0:
        return dict.fromkeys(weights, 0)
    shares = {key: total * weight / whole for key, weight in weights.items()}
    counts = {key: int(share) for key, share in shares.items()}
    left = total - sum(counts.values())
    by_remainder = sorted(shares, key=lambda key: (-(shares[key] - counts[key]), key))
    for key in by_remainder[:left]:
        counts[key] += 1
    return counts


def villages_by_county(prefix: str) -> dict[str, tuple[str, ...]]:
    """The village codes of every county-level unit under *prefix* (a county, or a city without counties such as
    441900 东莞市, whose villages' codes have 00 as their county segment), in code order, streamed."""
    villages: dict[str, list[str]] = defaultdict(list)
    rows: Iterable[str] = (
        Area.objects.filter(level=AreaLevel.VILLAGE, code__startswith=prefix)
        .order_by("code")
        .values_list("code", flat=True)
        .iterator(chunk_size=20_000)
    )
    for code in rows:
        villages[code[:6].ljust(12, "0")].append(code)
    return {county: tuple(codes_) for county, codes_ in villages.items()}


def plan_counties(prefix: str, *, patients: int | None, year: int) -> list[County]:
    """The counties that get patients, with how many and their villages; *patients* None: 4.6‰ of residents."""
    villages = villages_by_county(prefix)
    weights = county_weights(villages, year)
    total = round(sum(weights.values()) * PER_THOUSAND / 1000) if patients is None else patients
    counts = apportion(total, weights)
    return [County(code=code, patients=count, villages=villages[code]) for code, count in counts.items() if count]
