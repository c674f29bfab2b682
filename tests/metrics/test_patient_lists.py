"""The masked patient lists behind each figure: they agree with the figure, are masked, paginated, audited,
limited to the patients the user may see, and cost a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from casemgmt.areas.models import Area, AreaLevel
from casemgmt.audit.models import Action, AuditEvent
from metrics.indicators.definitions import INDICATOR_NAMES, Options
from metrics.indicators.periods import parse_period
from metrics.reports.engine import compute_indicators
from metrics.reports.patient_lists import indicator_sets, member_ids
from registry.models import CustodySpan, Patient
from registry.patients.masking import mask_name, mask_national_id
from tests.base import TODAY, World, make_area, make_patient
from tests.followup.base import reached_data, record

pytestmark = pytest.mark.django_db
Y = TODAY.year - 1
PERIOD = str(Y)


@dataclass
class Lists:
    world: World
    patients: dict[str, Patient]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def lists(world: World) -> Lists:
    w = world
    registered = dt.date(Y - 1, 1, 10)
    p = {
        "regular": make_patient(w.doctor_a, w.village_a1, registered_on=registered),
        "managed": make_patient(w.doctor_a, w.village_a2, registered_on=registered),
        "r_only": make_patient(w.doctor_b, w.village_b1, registered_on=registered),
        "moved": make_patient(w.doctor_a, w.village_a1, registered_on=registered),
    }
    for month in (2, 5, 8, 11):
        record(p["regular"], w.doctor_a, reached_data(dt.date(Y, month, 10)))
    record(p["managed"], w.doctor_a, reached_data(dt.date(Y, 3, 10), adherence=2, family_support=False))
    # Transferred to another county after the cut-off: counted for 姑苏区 in Y, no longer visible to its staff.
    other_county = make_area("320509000000", "另一区", AreaLevel.COUNTY, w.city)
    other_village = make_area("320509001001", "丙一社区", AreaLevel.VILLAGE, make_area(
        "320509001000", "丙街道", AreaLevel.TOWNSHIP, other_county
    ))  # fmt: skip
    CustodySpan.objects.filter(patient=p["moved"], end_date__isnull=True).update(end_date=TODAY)
    CustodySpan.objects.create(patient=p["moved"], area=other_village, start_date=TODAY)
    Patient.objects.filter(pk=p["moved"].pk).update(village=other_village)
    return Lists(w, p)


def list_url(set_name: str, area: str = "320508", **extra: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"area": area, "period": PERIOD, "set": set_name, **extra}.items())
    return f"/reports/patients?{query}"


@pytest.mark.parametrize("options", [Options(), Options("interval-3m", "managed", "included")])
def test_every_list_agrees_with_its_figure(lists: Lists, options: Options) -> None:
    period = parse_period(PERIOD)
    for area in ("320508", "320508001"):
        document = compute_indicators(area, period, options)
        area_obj = Area.objects.get(code=area.ljust(12, "0"))
        for name in INDICATOR_NAMES:
            numerator_set, denominator_set = indicator_sets(name, options)
            figure = document["indicators"][name]
            assert len(member_ids(area_obj, period, options, numerator_set)) == figure["numerator"], name
            if denominator_set:
                assert len(member_ids(area_obj, period, options, denominator_set)) == figure["denominator"], name


def test_county_staff_sees_a_masked_list_without_patients_moved_out(lists: Lists) -> None:
    response = client_for(lists.world.county_d).get(list_url("registered"))
    assert response.status_code == 200
    text = response.content.decode()
    visible = [lists.patients[k] for k in ("regular", "managed", "r_only")] + [
        lists.world.patient_a,
        lists.world.patient_b,
    ]
    for patient in visible:
        assert mask_name(patient.name) in text and mask_national_id(patient.national_id) in text
        assert patient.national_id not in text and f">{patient.name}<" not in text
    assert mask_national_id(lists.patients["moved"].national_id) not in text
    assert "本集合共 6 人" in text and "其中 1 人已迁出您的辖区" in text and "在册 R" in text


def test_the_regular_list_holds_only_the_regularly_managed(lists: Lists) -> None:
    text = client_for(lists.world.county_d).get(list_url("regular")).content.decode()
    assert mask_national_id(lists.patients["regular"].national_id) in text
    assert mask_national_id(lists.patients["managed"].national_id) not in text
    assert "本集合共 1 人" in text and "规范管理 Reg" in text


def test_the_list_is_paginated_and_each_page_audited_with_its_patients(lists: Lists, settings: Any) -> None:
    settings.PATIENT_LIST_PAGE_SIZE = 2
    client = client_for(lists.world.county_d)
    seen: set[str] = set()
    for page in (1, 2, 3):
        response = client.get(list_url("registered", page=str(page)))
        assert response.status_code == 200
        event = AuditEvent.objects.filter(action=Action.LIST).latest("pk")
        assert event.detail == {
            "report": "indicator_patients",
            "area": "320508000000",
            "period": PERIOD,
            "set": "registered",
            "options": Options().as_dict(),
            "page": page,
            "results": 5,
        }
        subjects = {str(u) for u in event.subjects.values_list("patient_uuid", flat=True)}
        assert len(subjects) == (2 if page < 3 else 1)
        seen |= subjects
    expected = {str(p.uuid) for p in Patient.objects.visible_to(lists.world.county_d)}
    assert seen == expected


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_query_count_does_not_grow_with_the_rows(lists: Lists, settings: Any) -> None:
    client = client_for(lists.world.county_d)
    settings.PATIENT_LIST_PAGE_SIZE = 1
    one = _queries(client, list_url("registered"))
    settings.PATIENT_LIST_PAGE_SIZE = 25
    five = _queries(client, list_url("registered"))
    assert one == five
    # user, the session's second-factor device, memberships, area, facts (candidates, statuses, custody, follow-ups,
    # rehab, checks, cases, emergencies, end of chunks),
    # visibility (grants, patients), the page (grants, patients), audit (event, subjects), session save (3),
    # the navigation's count of break-glass accesses to acknowledge
    assert five == 24


@pytest.mark.parametrize("user", ["doctor_a", "police_c", "admin_e"])
def test_other_roles_are_refused(lists: Lists, user: str) -> None:
    assert client_for(getattr(lists.world, user)).get(list_url("registered")).status_code == 403


def test_an_area_outside_the_scope_is_not_found_and_bad_input_is_a_400(lists: Lists) -> None:
    client = client_for(lists.world.county_d)
    assert client.get(list_url("registered", area="3205")).status_code == 404
    assert client.get(list_url("registered", area="320509")).status_code == 404
    response = client.get(list_url("nobody"))
    assert response.status_code == 400 and "患者集合无效" in response.content.decode()
    assert client.get(list_url("registered", regular_management="weekly")).status_code == 400
    assert client.post(list_url("registered")).status_code == 405
    assert Client().get(list_url("registered")).status_code == 302
    assert not AuditEvent.objects.filter(detail__report="indicator_patients").exists()


def test_a_township_doctor_never_gets_a_list_but_township_area_staff_gets_only_theirs(lists: Lists) -> None:
    from tests.base import make_user

    staff = make_user("township_staff", "area_staff", lists.world.township_a)
    client = client_for(staff)
    assert client.get(list_url("registered")).status_code == 404  # the county is above their scope
    text = client.get(list_url("registered", area="320508001")).content.decode()
    assert mask_national_id(lists.patients["regular"].national_id) in text
    assert mask_national_id(lists.patients["r_only"].national_id) not in text  # township B


def test_the_report_links_every_figure_to_its_list_with_the_options(lists: Lists) -> None:
    params = {"area": "320508", "period": PERIOD, "medication_denominator": "managed"}
    text = client_for(lists.world.county_d).get("/reports/", params).content.decode()
    assert "/reports/patients?area=320508000000&amp;period=" in text
    assert "medication_denominator=managed&amp;deaths_in_period=excluded&amp;set=managed" in text
    assert "area=320508001000&amp;" in text and "set=regular" in text


def test_the_report_page_costs_the_same_queries_for_more_patients(world: World) -> None:
    # Every month of the trend already has a candidate patient (an empty month costs fewer queries).
    make_patient(world.doctor_a, world.village_a1, registered_on=dt.date(Y - 1, 3, 1))
    client = client_for(world.county_d)
    url = f"/reports/?area=320508&period={PERIOD}"
    before = _queries(client, url)
    for _n in range(4):
        make_patient(world.doctor_a, world.village_a2, registered_on=dt.date(Y - 1, 3, 1))
    assert _queries(client, url) == before
