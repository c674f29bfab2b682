"""The national report, served from the provinces' published documents (issue 17 §5).

The national instance holds no patient: a province's (or city's, county's) report is the document the province
published; the country's is the sum of the province documents of the period — numerators, denominators and
counts added, every rate recomputed from the sums exactly as ``metrics.indicators.definitions.Ratio`` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from django.db.models import QuerySet

from federation.envelope import COUNT_KEYS, AreaPart, Counts, Document, DocumentBase, Figure, PeriodRef, options_key
from federation.models import FederatedDocument
from metrics.indicators.definitions import INDICATOR_NAMES, RULE_SET, Options

COUNTRY_CODE = "000000000000"
PER_MILLE = frozenset({"reported_prevalence"})


class CountryDocument(DocumentBase):
    """The sum of the province documents of a period."""

    provinces: list[str]


def _documents(period_key: str, options: Options) -> QuerySet[FederatedDocument]:
    return FederatedDocument.objects.filter(period_key=period_key, options_key=options_key(options.as_dict()))


def stored_document(area_code: str, period_key: str, options: Options) -> Document | None:
    """The document a province published for *area_code* (its children included), or None."""
    row = _documents(period_key, options).filter(area_code=area_code).only("document").first()
    return None if row is None else cast("Document", dict(row.document))


def province_documents(period_key: str, options: Options) -> list[Document]:
    rows = _documents(period_key, options).filter(level=1).order_by("area_code").only("document")
    return [cast("Document", dict(row.document)) for row in rows]


def _add(total: int | None, value: int | None) -> int | None:
    return None if total is None or value is None else total + value


def sum_figures(name: str, figures: Iterable[Figure]) -> Figure:
    numerator: int | None = 0
    denominator: int | None = 0
    for figure in figures:
        numerator = _add(numerator, figure["numerator"])
        denominator = _add(denominator, figure["denominator"])
    scale = 1000 if name in PER_MILLE else 100
    value = None if numerator is None or not denominator else numerator / denominator * scale
    return {"numerator": numerator, "denominator": denominator, "value": value}


def _count(counts: Counts, key: str) -> int | None:
    value = counts.get(key)
    return None if isinstance(value, dict) else value


def sum_counts(all_counts: list[Counts]) -> Counts:
    totals: dict[str, int | None] = {key: 0 for key in COUNT_KEYS}
    causes: dict[str, int | None] = {}
    for each in all_counts:
        for key in COUNT_KEYS:
            totals[key] = _add(totals[key], _count(each, key))
        by_cause = each.get("deaths_by_cause", {})
        for cause, value in by_cause.items() if isinstance(by_cause, dict) else ():
            causes[cause] = _add(causes.get(cause, 0), value)
    counts: Counts = dict(totals)
    counts["deaths_by_cause"] = dict(sorted(causes.items(), key=lambda item: int(item[0])))
    return counts


def _area_part(document: Document) -> AreaPart:
    part: AreaPart = {"area": document["area"], "indicators": document["indicators"], "counts": document["counts"]}
    if "missing_population" in document:
        part["missing_population"] = document["missing_population"]
    if "population_year" in document:
        part["population_year"] = document["population_year"]
    return part


def country_document(period_key: str, options: Options, *, name: str, children: bool = False) -> CountryDocument | None:
    """The country's document: the sum of every province's; None when no province has published the period."""
    provinces = province_documents(period_key, options)
    if not provinces:
        return None
    cutoffs = sorted(doc["period"]["cutoff"] for doc in provinces if "cutoff" in doc["period"])
    period: PeriodRef = {"start": provinces[0]["period"]["start"], "end": provinces[0]["period"]["end"]}
    if cutoffs:
        period["cutoff"] = cutoffs[0]
    document: CountryDocument = {
        "area": {"code": COUNTRY_CODE, "name": name, "level": 0},
        "period": period,
        "rule_set": RULE_SET,
        "options": options.as_dict(),
        "computed_at": max(doc["computed_at"] for doc in provinces),
        "indicators": {
            indicator: sum_figures(indicator, (doc["indicators"][indicator] for doc in provinces))
            for indicator in INDICATOR_NAMES
        },
        "counts": sum_counts([doc["counts"] for doc in provinces]),
        "children": [_area_part(doc) for doc in provinces] if children else [],
        "provinces": [doc["area"]["code"][:2] for doc in provinces],
    }
    missing = [code for doc in provinces for code in doc.get("missing_population", [])]
    if missing:
        document["missing_population"] = missing
    as_of = sorted(doc["as_of"] for doc in provinces if "as_of" in doc)
    if as_of:
        document["as_of"] = as_of[0]  # the oldest province's
    return document
