"""Emergency pages: allowed, foreign jurisdiction (404), read-only (403), wrong method (405); Chinese errors;
masked identity for county staff; the close follow-up flag on the patient page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followup.emergencies import services
from followup.models import Emergency
from registry.patients.masking import mask_name
from tests.base import PASSWORD, World

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def form_data(**overrides: Any) -> dict[str, Any]:
    occurred = timezone.localtime() - dt.timedelta(hours=2)
    data = {
        "occurred_at": occurred.strftime("%Y-%m-%dT%H:%M"),
        "place": "家中",
        "situations": ["self_harm", "relapse"],
        "risk_level": "4",
        "reported_by": "家属",
        "participants": "精防医生",
        "measures": ["crisis"],
        "disposition": "refer",
        "hospital": "",
        "consent": "2",
        "complete": "on",
    }
    data.update(overrides)
    return data


def make(world: World, patient: Any = None, hours_ago: float = 2, **extra: Any) -> Emergency:
    actor = world.doctor_b if patient is not None and patient == world.patient_b else world.doctor_a
    if patient is None and not extra:
        extra = {"area": world.village_a1, "person_name": "王小明"}
    return services.record_emergency(
        actor=actor,
        values={"occurred_at": timezone.now() - dt.timedelta(hours=hours_ago), "place": "路边"},
        handler=None,
        complete=False,
        now=timezone.now(),
        patient=patient,
        **extra,
    )


def detail(e: Emergency) -> str:
    return reverse("followup:emergency_detail", kwargs={"emergency_uuid": e.uuid})


def edit(e: Emergency) -> str:
    return reverse("followup:emergency_edit", kwargs={"emergency_uuid": e.uuid})


def link(e: Emergency) -> str:
    return reverse("followup:emergency_link", kwargs={"emergency_uuid": e.uuid})


def new_for(patient: Any) -> str:
    return reverse("followup:emergency_new_for_patient", kwargs={"patient_uuid": patient.uuid})


def test_record_for_a_patient_and_see_the_flag(world: World) -> None:
    client = client_for(world.doctor_a)
    assert client.get(new_for(world.patient_a)).status_code == 200
    response = client.post(new_for(world.patient_a), form_data(), follow=True)
    assert response.status_code == 200
    emergency = Emergency.objects.get()
    assert emergency.completed_at is not None and emergency.situations == ["self_harm", "relapse"]
    assert "应急处置后密切随访" in response.content.decode()
    page = client.get(reverse("registry:patient_detail", kwargs={"patient_uuid": world.patient_a.uuid}))
    assert "应急处置后密切随访" in page.content.decode()
    listing = client.get(reverse("followup:emergency_list")).content.decode()
    assert "应急处置后密切随访" in listing and world.patient_a.name in listing


def test_chinese_errors_and_nothing_written(world: World) -> None:
    client = client_for(world.doctor_a)
    response = client.post(new_for(world.patient_a), form_data(situations=[], measures=["medication"], occurred_at="x"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "请输入有效的日期和时间" in body
    response = client.post(new_for(world.patient_a), form_data(situations=[], measures=["medication"]))
    body = response.content.decode()
    assert "请至少选择一种情形" in body and "采取药物处置时请填写药物" in body
    assert not Emergency.objects.exists()


def test_unregistered_person_record_and_link(world: World) -> None:
    client = client_for(world.doctor_a)
    url = reverse("followup:emergency_new")
    assert client.get(url).status_code == 200
    data = form_data(person_name="王小明", person_national_id="", area=world.village_b1.code)
    assert "请选择本辖区的村(居)" in client.post(url, data).content.decode()
    data["area"] = world.village_a1.code
    data.pop("complete")
    response = client.post(url, data, follow=True)
    assert "尚未完成" in response.content.decode()
    emergency = Emergency.objects.get()
    assert emergency.patient is None and emergency.person_name == "王小明"
    bad = client.post(link(emergency), {"national_id": world.patient_a.national_id}, follow=True)
    assert "已关联到患者档案" in bad.content.decode()
    assert Emergency.objects.get().patient == world.patient_a


def test_edit_completes_and_then_is_final(world: World) -> None:
    emergency = make(world, world.patient_a)
    client = client_for(world.doctor_a)
    assert client.get(edit(emergency)).status_code == 200
    client.post(edit(emergency), form_data())
    assert Emergency.objects.get().completed_at is not None
    response = client.get(edit(emergency), follow=True)
    assert "不能再修改" in response.content.decode()


def test_county_staff_see_masked_and_cannot_write(world: World) -> None:
    emergency = make(world, world.patient_a, hours_ago=30)
    client = client_for(world.county_d)
    listing = client.get(reverse("followup:emergency_list")).content.decode()
    assert mask_name(world.patient_a.name) in listing and world.patient_a.name not in listing
    assert "超过24小时" in listing
    page = client.get(detail(emergency)).content.decode()
    assert world.patient_a.name not in page and "路边" not in page
    assert client.get(edit(emergency)).status_code == 403
    assert client.post(link(emergency)).status_code == 403
    assert client.get(reverse("followup:emergency_new")).status_code == 403
    assert client.get(new_for(world.patient_a)).status_code == 403


def test_foreign_jurisdiction_gets_404(world: World) -> None:
    emergency = make(world, world.patient_a)
    person = make(world)
    client = client_for(world.doctor_b)
    for e in (emergency, person):
        assert client.get(detail(e)).status_code == 404
        assert client.get(edit(e)).status_code == 404
        assert client.post(link(e)).status_code == 404
    assert client.get(new_for(world.patient_a)).status_code == 404


def test_case_member_gets_404(world: World) -> None:
    """Outside the limited view a case-team member is told nothing exists (issue 13 §6), not refused (403)."""
    emergency = make(world, world.patient_a)
    client = client_for(world.police_c)
    assert client.get(reverse("followup:emergency_list")).status_code == 404
    assert client.get(detail(emergency)).status_code == 404
    assert client.get(new_for(world.patient_a)).status_code == 404


def test_a_case_team_grant_opens_no_emergency_record(world: World) -> None:
    """issue 14 §1: doctor_b (another township) holding a case-team grant on patient_a (given before the member
    picker was limited to the patient's own doctors) sees the limited view only — emergency records are clinical
    history."""
    from tests.base import grant

    grant(world.patient_a, world.doctor_b, world.doctor_a)
    emergency = make(world, world.patient_a)
    client = client_for(world.doctor_b)
    listing = client.get(reverse("followup:emergency_list"))
    assert listing.status_code == 200 and str(emergency.uuid) not in listing.content.decode()
    assert world.patient_a.name not in listing.content.decode()
    for response in (client.get(detail(emergency)), client.get(edit(emergency)), client.post(link(emergency))):
        assert response.status_code == 404
    assert world.patient_a.name not in client.get(detail(emergency)).content.decode()


def test_wrong_methods_get_405(world: World) -> None:
    emergency = make(world, world.patient_a)
    client = client_for(world.doctor_a)
    assert client.post(reverse("followup:emergency_list")).status_code == 405
    assert client.post(detail(emergency)).status_code == 405
    assert client.get(link(emergency)).status_code == 405
    assert client.put(edit(emergency)).status_code == 405
    assert client.put(reverse("followup:emergency_new")).status_code == 405
    assert client.delete(new_for(world.patient_a)).status_code == 405


def test_list_query_count_is_pinned(world: World, django_assert_max_num_queries: Any) -> None:
    for _n in range(6):
        make(world, world.patient_a)
        make(world)
    client = client_for(world.doctor_a)
    with django_assert_max_num_queries(18):
        assert client.get(reverse("followup:emergency_list")).status_code == 200


def test_edit_form_is_prefilled(world: World) -> None:
    emergency = make(world, world.patient_a)
    body = client_for(world.doctor_a).get(edit(emergency)).content.decode()
    assert 'value="路边"' in body
