"""Area populations by year: administrators edit, area staff view their own jurisdiction, others get 404."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from casemgmt.areas.models import AreaPopulation
from casemgmt.areas.population import population_of
from casemgmt.audit.models import Action, AuditEvent
from tests.base import TODAY, World

LIST = reverse("areas:population_list")


def edit(code: str, year: int = TODAY.year) -> str:
    return reverse("areas:population_edit", kwargs={"code": code, "year": year})


def test_administrator_walks_down_the_tree(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    page = client.get(LIST).content.decode()
    assert "江苏省" in page
    page = client.get(LIST, {"area": world.county.code, "year": str(TODAY.year)}).content.decode()
    assert "甲街道" in page and "乙街道" in page and edit(world.township_a.code) in page
    assert client.get(LIST, {"area": world.county.code, "year": "abc"}).status_code == 200
    assert "年份不能早于" in client.get(LIST, {"year": "1900"}).content.decode()
    assert client.get(LIST, {"area": "999999999999"}).status_code == 404
    assert client.get(LIST, {"area": "x"}).status_code == 404


def test_an_areas_children_resolve_from_one_read_as_each_alone(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    AreaPopulation.objects.filter(area=world.village_b1, year=TODAY.year).update(year=TODAY.year - 1)
    response = client.get(LIST, {"area": world.county.code, "year": str(TODAY.year)})
    rows = [response.context["area_row"], *response.context["rows"]]
    assert [row.area.code for row in rows] == [world.county.code, world.township_a.code, world.township_b.code]
    assert [row.resolved for row in rows] == [population_of(row.area.code, TODAY.year) for row in rows]
    assert rows[2].resolved.year == TODAY.year - 1  # township B carried forward from its village's last figure


def test_administrator_edits_a_population_and_it_is_audited(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    assert client.get(edit(world.village_a1.code)).status_code == 200
    response = client.post(edit(world.village_a1.code), {"population": "12345"})
    assert response.status_code == 302
    assert AreaPopulation.objects.get(area=world.village_a1, year=TODAY.year).population == 12345
    response = client.post(edit(world.village_a1.code, 2019), {"population": "500"})
    assert AreaPopulation.objects.get(area=world.village_a1, year=2019).population == 500
    events = list(AuditEvent.objects.filter(action=Action.POPULATION_CHANGE).order_by("id"))
    assert events[1].detail == {"area": world.village_a1.code, "year": 2019, "before": None, "after": 500}
    assert events[0].detail["after"] == 12345 and events[0].actor == world.admin_e


def test_bad_populations_get_chinese_field_messages(world: World, client: Client) -> None:
    client.force_login(world.admin_e)
    for value, message in (("abc", "请输入整数人数"), ("-5", "至少为1"), ("", "请填写"), ("99999999999", "不能超过")):
        response = client.post(edit(world.village_a1.code), {"population": value})
        assert response.status_code == 200
        assert any(message in error for error in response.context["form"].errors["population"]), value
    assert client.get(edit(world.village_a1.code, 1800)).status_code == 404
    assert client.get(edit("123")).status_code == 404
    assert not AuditEvent.objects.filter(action=Action.POPULATION_CHANGE).exists()


def test_area_staff_view_their_county_read_only(world: World, client: Client) -> None:
    client.force_login(world.county_d)
    page = client.get(LIST).content.decode()
    assert "姑苏区" in page and "江苏省" not in page
    page = client.get(LIST, {"area": world.county.code}).content.decode()
    assert "甲街道" in page and "/manage/populations/320508001000/" not in page
    assert client.get(LIST, {"area": world.province.code}).status_code == 404
    assert client.get(edit(world.township_a.code)).status_code == 404
    assert client.post(edit(world.township_a.code), {"population": "1"}).status_code == 404


def test_doctors_and_case_members_get_404_anonymous_log_in(world: World, client: Client) -> None:
    for user in (world.doctor_a, world.police_c):
        client.force_login(user)
        assert client.get(LIST).status_code == 404
        assert client.post(edit(world.village_a1.code), {"population": "1"}).status_code == 404
    anonymous = Client()
    assert anonymous.get(LIST)["Location"].startswith(reverse("login"))
    assert anonymous.post(edit(world.village_a1.code), {"population": "1"})["Location"].startswith(reverse("login"))
    assert not AuditEvent.objects.filter(action=Action.POPULATION_CHANGE).exists()
