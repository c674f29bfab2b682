"""Targets are data: the preloaded national values, the most specific area wins, years bound validity."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError

from metrics.indicators.definitions import INDICATOR_NAMES
from metrics.indicators.targets import is_met, targets_for
from metrics.models import Target

pytestmark = pytest.mark.django_db


def test_national_targets_are_preloaded_with_sources() -> None:
    found = targets_for("320508", 2020)
    assert {name: (t.value, t.unit) for name, t in found.items()} == {
        "reported_prevalence": (Decimal("4.50"), "‰"),
        "regular_management_rate": (Decimal("80.00"), "%"),
        "medication_rate": (Decimal("80.00"), "%"),
        "regular_medication_rate": (Decimal("60.00"), "%"),
        "schizophrenia_medication_rate": (Decimal("80.00"), "%"),
        "rehabilitation_rate": (Decimal("50.00"), "%"),
        "family_support_rate": (Decimal("50.00"), "%"),
    }
    assert set(found) <= set(INDICATOR_NAMES)
    assert all(t.source for t in found.values())


def test_years_bound_validity() -> None:
    assert targets_for("32", 2019)["rehabilitation_rate"].value == Decimal("60")  # 2018 plan only
    assert "reported_prevalence" not in targets_for("32", 2019)
    later = targets_for("32", 2023)
    assert "medication_rate" not in later and "family_support_rate" not in later  # plan ended 2021
    assert later["rehabilitation_rate"].value == Decimal("50")


def test_a_province_target_overrides_the_national_one_for_its_areas_only() -> None:
    Target.objects.create(
        indicator="regular_management_rate", area_code="32", first_year=2024, value=Decimal("85"), source="省方案"
    )
    assert targets_for("320508", 2025)["regular_management_rate"].value == Decimal("85")
    assert targets_for("32", 2025)["regular_management_rate"].area_code == "32"
    assert targets_for("330102", 2025)["regular_management_rate"].value == Decimal("80")
    assert targets_for("320508", 2023)["regular_management_rate"].value == Decimal("80")  # not yet valid


def test_is_met() -> None:
    target = Target(indicator="x", first_year=2020, value=Decimal("80"), source="s")
    assert is_met(target, 80.0) is True
    assert is_met(target, 79.99) is False
    assert is_met(target, None) is None
    assert is_met(None, 90.0) is None


def test_year_range_is_checked_by_the_database() -> None:
    with pytest.raises(IntegrityError):
        Target.objects.create(indicator="x", first_year=2022, last_year=2020, value=Decimal("1"), source="s")
