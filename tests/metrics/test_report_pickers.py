"""The report's pickers: areas offered only within the user's scope, periods serialised to the existing keys."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils.datastructures import MultiValueDict

from metrics.indicators.periods import parse_period
from metrics.reports.forms import QueryError, period_key
from metrics.reports.pickers import area_choices, period_fields
from tests.base import TODAY, World, make_user

pytestmark = pytest.mark.django_db
Y = TODAY.year - 1


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def area_options(html: str) -> dict[str, bool]:
    """code -> selected, of the area select."""
    select = re.search(r'<select id="id_area".*?</select>', html, re.S)
    assert select
    return {code: bool(sel) for code, sel in re.findall(r'<option value="(\d{12})"( selected)?', select.group(0))}


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"period_kind": "year", "period_year": "2025"}, "2025"),
        ({"period_kind": "quarter", "period_year": "2025", "period_quarter": "3"}, "2025-Q3"),
        ({"period_kind": "month", "period_year": "2025", "period_month": "7"}, "2025-07"),
        ({"period_kind": "ytd", "period_year": "2025", "period_month": "8"}, "2025-YTD-08"),
        ({"period_kind": "year", "period_year": "2025", "period_month": "8"}, "2025"),  # unused fields ignored
        ({"period": "2024-Q1", "period_kind": "year", "period_year": "2025"}, "2024-Q1"),  # a link's key wins
        ({}, ""),  # this year
    ],
)
def test_the_period_pickers_serialise_to_the_period_keys(params: dict[str, str], key: str) -> None:
    assert period_key(MultiValueDict({k: [v] for k, v in params.items()})) == key


def test_an_unknown_period_kind_is_refused() -> None:
    with pytest.raises(QueryError):
        period_key(MultiValueDict({"period_kind": ["week"], "period_year": ["2025"]}))


@pytest.mark.parametrize("key", ["2025", "2025-Q3", "2025-07", "2025-YTD-08"])
def test_the_picker_values_round_trip(key: str) -> None:
    fields = period_fields(parse_period(key))
    params = {
        "period_kind": fields.kind,
        "period_year": str(fields.year),
        "period_quarter": str(fields.quarter),
        "period_month": str(fields.month),
    }
    assert period_key(MultiValueDict({k: [v] for k, v in params.items()})) == key


def test_county_staff_are_offered_their_county_and_its_townships(world: World) -> None:
    html = client_for(world.county_d).get("/reports/").content.decode()
    assert area_options(html) == {"320508000000": True, "320508001000": False, "320508002000": False}


def test_one_level_down_the_chain_stays_and_the_children_follow(world: World) -> None:
    html = client_for(world.county_d).get("/reports/", {"area": "320508001"}).content.decode()
    assert area_options(html) == {
        "320508000000": False,
        "320508001000": True,
        "320508001001": False,
        "320508001002": False,
    }


def test_ancestors_above_the_scope_are_never_offered(world: World) -> None:
    township_staff = make_user("township_staff", "area_staff", world.township_b)
    choices = area_choices(township_staff, world.village_b1)
    assert [c.code for c in choices] == ["320508002000", "320508002001"]
    city_staff = make_user("city_staff", "area_staff", world.city)
    codes = [c.code for c in area_choices(city_staff, world.county)]
    assert codes == ["320500000000", "320508000000", "320508001000", "320508002000"]


def test_several_memberships_offer_each_root(world: World) -> None:
    staff = make_user("two_townships", "area_staff", world.township_a, world.township_b)
    choices = area_choices(staff, world.township_a)
    assert [(c.code, c.depth, c.selected) for c in choices] == [
        ("320508001000", 0, True),
        ("320508001001", 1, False),
        ("320508001002", 1, False),
        ("320508002000", 0, False),
    ]


def test_the_page_takes_the_pickers_and_shows_the_chosen_period(world: World) -> None:
    params = {"area": "320508", "period_kind": "quarter", "period_year": str(Y), "period_quarter": "2"}
    response = client_for(world.county_d).get("/reports/", params)
    assert response.status_code == 200
    text = response.content.decode()
    assert f"{Y}年第2季度" in text and f'<option value="{Y}" selected>' in text
    assert f"period={Y}-Q2" in text  # the drill-down and export links carry the key
    bad = client_for(world.county_d).get("/reports/", {**params, "period_quarter": "5"})
    assert bad.status_code == 400 and "季度须为" in bad.content.decode()
