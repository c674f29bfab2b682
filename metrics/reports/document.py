"""The indicator JSON document of exchange.md §2 — a public contract: keys only ever added, never changed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

from metrics.indicators.definitions import RULE_SET, Options, Ratio, Tally, indicators
from metrics.indicators.periods import SHANGHAI, Period


@dataclass(frozen=True)
class AreaRef:
    code: str
    name: str
    level: int


DEATH_CAUSES = tuple(range(1, 7))  # domain.md §4.3; 0 = cause not recorded (migrated records only)


def deaths_by_cause(tally: Tally) -> dict[str, int]:
    """Every cause code is present (zeros too) so consumers see a stable shape; "0" only when it occurs."""
    causes = DEATH_CAUSES if 0 not in tally.deaths_by_cause else (0, *DEATH_CAUSES)
    return {str(cause): tally.deaths_by_cause[cause] for cause in causes}


class RatioJSON(TypedDict):
    """One indicator: its numerator, denominator (None: population unknown) and value (None: no denominator)."""

    numerator: int
    denominator: int | None
    value: float | None


class AreaRefJSON(TypedDict):
    code: str
    name: str
    level: int


class CountsJSON(TypedDict):
    registered: int
    managed: int
    at_home: int
    new_registrations: int
    deaths: int
    overdue_at_cutoff: int
    open_cases: int
    emergencies: int
    deaths_by_cause: dict[str, int]
    minor_trouble: int
    trouble: int
    disaster: int
    lost: int


class AreaJSON(TypedDict):
    """One area's part of the document (the area itself, and each child)."""

    area: AreaRefJSON
    indicators: dict[str, RatioJSON]
    counts: CountsJSON
    missing_population: NotRequired[list[str]]
    population_year: NotRequired[int]


def ratio_json(ratio: Ratio) -> RatioJSON:
    return {"numerator": ratio.numerator, "denominator": ratio.denominator, "value": ratio.value}


@dataclass(frozen=True)
class AreaResult:
    area: AreaRef
    tally: Tally
    population: int | None
    missing_population: tuple[str, ...] = ()
    population_year: int | None = None  # the year whose figures gave the population, when resolved by year


def area_json(result: AreaResult, options: Options, *, year: int | None = None) -> AreaJSON:
    counts = result.tally.counts
    rates = indicators(result.tally, result.population, options)
    body: AreaJSON = {
        "area": {"code": result.area.code, "name": result.area.name, "level": result.area.level},
        "indicators": {
            # An unknown population: the registered count is known, the denominator and the rate are not.
            name: ratio_json(ratio)
            if ratio
            else {"numerator": counts["registered"], "denominator": None, "value": None}
            for name, ratio in rates.items()
        },
        "counts": {
            "registered": counts["registered"],
            "managed": counts["managed"],
            "at_home": counts["at_home"],
            "new_registrations": counts["new_registration"],
            "deaths": sum(result.tally.deaths_by_cause.values()),
            "overdue_at_cutoff": counts["overdue"],
            "open_cases": counts["open_case"],
            "emergencies": counts["emergencies"],
            # Additive keys beyond the contract's minimum:
            "deaths_by_cause": deaths_by_cause(result.tally),
            "minor_trouble": counts["minor_trouble"],
            "trouble": counts["trouble"],
            "disaster": counts["disaster"],
            "lost": counts["lost"],
        },
    }
    if result.population is None:
        body["missing_population"] = list(result.missing_population)
    elif year is not None and result.population_year is not None and result.population_year != year:
        body["population_year"] = result.population_year  # additive: an earlier year's figures were used
    return body


def build_document(
    *,
    result: AreaResult,
    period: Period,
    options: Options,
    children: list[AreaResult] | None = None,
    computed_at: dt.datetime | None = None,
) -> dict[str, Any]:
    computed_at = (computed_at or dt.datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    own = area_json(result, options, year=period.population_year)
    document: dict[str, Any] = {
        "area": own["area"],
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "rule_set": RULE_SET,
        "options": options.as_dict(),
        "computed_at": computed_at.replace(microsecond=0).isoformat(),
        "indicators": own["indicators"],
        "counts": own["counts"],
        "children": [area_json(child, options, year=period.population_year) for child in children or []],
    }
    if "missing_population" in own:
        document["missing_population"] = own["missing_population"]
    if "population_year" in own:
        document["population_year"] = own["population_year"]
    if period.cutoff_date != period.end:
        document["period"]["cutoff"] = period.cutoff_date.isoformat()  # additive: a period still running
    return document
