"""Who may see an area's indicators."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from metrics.reports.access import may_view_area
from tests.base import World

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "area", "allowed"),
    [
        ("county_d", "320508000000", True),
        ("county_d", "320508001000", True),
        ("county_d", "320500000000", False),  # the city is wider than the county
        ("doctor_a", "320508001001", True),
        ("doctor_a", "320508001000", True),
        ("doctor_a", "320508000000", False),
        ("doctor_b", "320508001000", False),
        ("police_c", "320508001000", False),  # case-team members see their cases, not aggregates
        ("admin_e", "320508000000", False),
    ],
)
def test_may_view_area(world: World, persona: str, area: str, allowed: bool) -> None:
    assert may_view_area(getattr(world, persona), area) is allowed


def test_anonymous_and_inactive_see_nothing(world: World) -> None:
    assert not may_view_area(AnonymousUser(), "320508000000")  # type: ignore[arg-type]  # refused at run time too
    world.county_d.is_active = False
    assert not may_view_area(world.county_d, "320508000000")
