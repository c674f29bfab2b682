"""Small-count suppression of aggregate reports that leave the county (domain.md §12).

The rule (pure, table-tested in tests/metrics/test_suppression.py):

- It **applies** to an export when the threshold is positive (``METRICS_SUPPRESS_BELOW``, default 5; 0 turns it
  off) and the export leaves the county: the report's area lies above county level (a city or province report),
  or the requesting user's scope is above county level (a city or province member pulling a county's figures).
  A county's own staff exporting their county keep every figure: the figures stay inside the county.
- When it applies, a **person count** of an area at county level or below (county, township, village) that lies
  between 1 and threshold − 1 is shown as "<5" (numerators, denominators and the period's counts), and every
  rate computed from a suppressed count is hidden. Counts of areas above county level are large enough not to
  identify anyone and are shown. Zero is shown: "nobody" identifies no one. The resident population (the
  denominator of 报告患病率) is not a person count of patients and is never suppressed.
- The PDF leaves out the monthly trend chart when a figure of the report's own area was suppressed (a small
  area's monthly rates would reveal the hidden counts).
- The on-screen report is unchanged: it is shown only to staff whose scope already covers the masked line lists.

Known limit: this is primary suppression only. A suppressed cell can sometimes be recovered by subtraction
(a county total minus its other townships, or R minus M); complementary suppression is not attempted.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from casemgmt.areas.codes import COUNTY

# Indicators whose denominator is not a count of patients (never suppressed).
POPULATION_DENOMINATOR = frozenset({"reported_prevalence"})


@dataclass(frozen=True)
class Suppression:
    """A decided policy: ``below`` = 0 means nothing is suppressed."""

    below: int = 0

    @property
    def active(self) -> bool:
        return self.below > 0

    @property
    def mark(self) -> str:
        return f"<{self.below}"

    def hides(self, count: int | None, area_level: int) -> bool:
        """Whether a person count of an area of *area_level* must not be shown."""
        return self.active and area_level >= COUNTY and count is not None and 0 < count < self.below


NONE = Suppression(0)


def leaves_county(report_level: int, scope_levels: Iterable[int]) -> bool:
    """The report goes above the county: a city/province area, or a requester whose scope is above county."""
    return report_level < COUNTY or any(level < COUNTY for level in scope_levels)


def policy_for(*, below: int, report_level: int, scope_levels: Iterable[int]) -> Suppression:
    """The policy of one export; ``below`` <= 0 disables suppression."""
    if below <= 0 or not leaves_county(report_level, scope_levels):
        return NONE
    return Suppression(below)


def suppress_figure(figure: dict[str, Any], name: str, area_level: int, policy: Suppression) -> dict[str, Any]:
    """One indicator of the JSON document: suppressed counts become null with ``"suppressed": true``."""
    hidden = policy.hides(figure["numerator"], area_level) or (
        name not in POPULATION_DENOMINATOR and policy.hides(figure["denominator"], area_level)
    )
    if not hidden:
        return figure
    result = {"numerator": None, "denominator": None, "value": None, "suppressed": True}
    if name in POPULATION_DENOMINATOR or not policy.hides(figure["denominator"], area_level):
        result["denominator"] = figure["denominator"]
    if not policy.hides(figure["numerator"], area_level):
        result["numerator"] = figure["numerator"]
    return result


def _suppress_counts(counts: dict[str, Any], area_level: int, policy: Suppression) -> tuple[dict[str, Any], list[str]]:
    result: dict[str, Any] = {}
    hidden: list[str] = []
    for key, value in counts.items():
        if isinstance(value, dict):
            inner, inner_hidden = _suppress_counts(value, area_level, policy)
            result[key] = inner
            hidden += [f"{key}.{name}" for name in inner_hidden]
        elif isinstance(value, int) and policy.hides(value, area_level):
            result[key] = None
            hidden.append(key)
        else:
            result[key] = value
    return result, hidden


def _suppress_area(body: dict[str, Any], level: int, policy: Suppression) -> None:
    body["indicators"] = {
        name: suppress_figure(figure, name, level, policy) for name, figure in body["indicators"].items()
    }
    body["counts"], hidden = _suppress_counts(body["counts"], level, policy)
    if hidden:
        body["suppressed_counts"] = hidden


def suppress_document(document: dict[str, Any], policy: Suppression) -> dict[str, Any]:
    """The exchange.md §2 document with the policy applied (additive keys only: ``suppression``,
    ``suppressed`` on a figure, ``suppressed_counts`` on an area). The input is not changed."""
    if not policy.active:
        return document
    result = copy.deepcopy(document)
    _suppress_area(result, result["area"]["level"], policy)
    for child in result.get("children", []):
        _suppress_area(child, child["area"]["level"], policy)
    result["suppression"] = {"below": policy.below, "min_level": COUNTY}
    return result
