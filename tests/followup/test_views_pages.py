"""The work list, the timeline, the medication page, rehabilitation, health checks, one follow-up and the
patient panel, through the web stack."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from casemgmt.audit.models import Action, AuditEvent
from followup.models import HealthCheck, RehabParticipation
from followup.rehab import services as rehab_services
from registry import codes as registry_codes
from registry.access.disclosure import remember_opening
from registry.models import Patient
from registry.patients import services as registry_services
from tests.base import TODAY, World, make_patient
from tests.followup.base import reached_data, record
from tests.followup.test_views_form import DEPOT, RISPERIDONE, post_data, stable_visit

pytestmark = pytest.mark.django_db


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def visit(patient: Patient, doctor: Any, *, days: int, due_in: int, risk: int = 0, classification: int = 3) -> None:
    """A reached follow-up ``days`` ago whose next date is ``due_in`` days after it."""
    day = days_ago(days)
    record(
        patient,
        doctor,
        reached_data(
            day,
            risk_level=risk,
            classification=classification,
            next_date=day + dt.timedelta(days=due_in),
            next_date_reason="测试",
        ),
    )


def not_reached(patient: Patient, doctor: Any, *, days: int) -> None:
    record(patient, doctor, {"date": days_ago(days), "mode": 3, "outcome": "NOT_REACHED"}, [])


def patient_in(world: World, year: int) -> Patient:
    return make_patient(world.doctor_a, world.village_a1, birth_date=dt.date(year, 1, 1))


def uuids(rows: list[Any]) -> list[Any]:
    return [row.uuid for row in rows]


# --- the work list ---------------------------------------------------------------------------------------


@pytest.fixture
def township(world: World) -> dict[str, Patient]:
    """Township A with an overdue patient of each kind, one due soon, one lost to three attempts."""
    long_overdue = patient_in(world, 1970)
    risky_overdue = patient_in(world, 1971)
    calm_overdue = patient_in(world, 1972)
    soon = patient_in(world, 1973)
    unreachable = patient_in(world, 1974)
    visit(long_overdue, world.doctor_a, days=60, due_in=30)  # 30 days overdue
    visit(risky_overdue, world.doctor_a, days=24, due_in=14, risk=4, classification=1)  # 10 days, risk 4
    visit(calm_overdue, world.doctor_a, days=24, due_in=14, risk=1, classification=2)  # 10 days, risk 1
    visit(soon, world.doctor_a, days=10, due_in=14)  # due in 4 days
    visit(unreachable, world.doctor_a, days=40, due_in=14)
    for days in (20, 15, 10):
        not_reached(unreachable, world.doctor_a, days=days)
    visit(world.patient_b, world.doctor_b, days=80, due_in=14, risk=5, classification=1)  # township B
    return {
        "long_overdue": long_overdue,
        "risky_overdue": risky_overdue,
        "calm_overdue": calm_overdue,
        "soon": soon,
        "unreachable": unreachable,
    }


def test_doctor_work_list_sections_and_order(world: World, township: dict[str, Patient]) -> None:
    response = logged_in(world.doctor_a).get(reverse("followup:worklist"))
    assert response.status_code == 200
    context = response.context
    t = township
    assert uuids(context["overdue"]) == [
        t["long_overdue"].uuid,
        t["unreachable"].uuid,  # 26 days overdue: attempts do not move the due date
        t["risky_overdue"].uuid,  # 10 days, risk 4 before risk 1
        t["calm_overdue"].uuid,
    ]
    assert context["overdue"][0].overdue_days == 30
    assert uuids(context["due_soon"]) == [t["soon"].uuid]
    assert uuids(context["unstable"]) == [t["risky_overdue"].uuid]
    assert uuids(context["not_reached"]) == [t["unreachable"].uuid]
    assert context["without_schedule"] == 1  # patient_a has never been followed up
    html = response.content.decode()
    assert world.patient_b.name not in html and str(world.patient_b.uuid) not in html
    assert t["long_overdue"].name in html and f'href="tel:{t["long_overdue"].phone}"' in html
    status_url = reverse("registry:status_change", kwargs={"patient_uuid": t["unreachable"].uuid})
    assert status_url in html and "连续3次未访到" in html


def test_work_list_is_audited_with_uuids_only(world: World, township: dict[str, Patient]) -> None:
    logged_in(world.doctor_a).get(reverse("followup:worklist"))
    event = AuditEvent.objects.latest("id")
    assert event.action == Action.LIST and event.detail == {"page": "worklist"}
    subjects = {str(s.patient_uuid) for s in event.subjects.all()}
    assert subjects == {str(p.uuid) for p in township.values()}
    assert all(p.name not in str(event.detail) for p in township.values())


def test_a_reached_follow_up_takes_the_patient_off_the_overdue_list(world: World, township: dict[str, Patient]) -> None:
    client = logged_in(world.doctor_a)
    patient = township["long_overdue"]
    url = reverse("followup:followup_new", kwargs={"patient_uuid": patient.uuid})
    assert client.post(url, post_data(stable_visit(), [RISPERIDONE])).status_code == 302
    overdue = client.get(reverse("followup:worklist")).context["overdue"]
    assert patient.uuid not in uuids(overdue)


def test_work_list_query_count_is_pinned(world: World, django_assert_num_queries: Any) -> None:
    """The same number of queries for 3 and for 12 patients in every section (no per-row query)."""

    def fill(count: int) -> None:
        for index in range(count):
            patient = patient_in(world, 1950 + Patient.objects.count() % 40 + index)
            visit(patient, world.doctor_a, days=20 + index, due_in=14, risk=index % 5, classification=1)
            for days in (5, 4, 3):
                not_reached(patient, world.doctor_a, days=days)

    client = logged_in(world.doctor_a)
    client.get(reverse("followup:worklist"))  # warm the session
    fill(3)
    # session, user, grants, memberships; 4 sections and one query of totals; the patients under close follow-up
    # after an emergency and their follow-ups; audit event and subjects; the session save (savepoint, update,
    # release)
    pinned = 16
    with django_assert_num_queries(pinned):
        assert len(client.get(reverse("followup:worklist")).context["overdue"]) == 3
    fill(9)
    with django_assert_num_queries(pinned):
        assert len(client.get(reverse("followup:worklist")).context["overdue"]) == 12


def test_area_staff_see_overdue_counts_per_township(world: World, township: dict[str, Patient]) -> None:
    response = logged_in(world.county_d).get(reverse("followup:worklist"))
    assert response.status_code == 200
    counts = {area.code: (overdue, total) for area, overdue, total in response.context["counts"]}
    assert counts == {world.township_a.code: (4, 6), world.township_b.code: (1, 1)}
    html = response.content.decode()
    assert "甲街道" in html and "乙街道" in html
    assert all(p.name not in html for p in township.values())  # aggregates only
    assert AuditEvent.objects.latest("id").detail["page"] == "overdue_counts"


# --- timeline, one follow-up, medication -------------------------------------------------------------------


def test_timeline_in_date_order(world: World) -> None:
    patient = world.patient_a
    record(patient, world.doctor_a, reached_data(days_ago(40), next_date=days_ago(40) + dt.timedelta(days=60)))
    record(
        patient,
        world.doctor_a,
        reached_data(days_ago(20), next_date=days_ago(20) + dt.timedelta(days=60)),
        [RISPERIDONE, DEPOT],
    )
    rehab_services.record_rehab_participation(
        actor=world.doctor_a, patient=patient, data={"provider_type": "clubhouse", "start_date": days_ago(10)}
    )
    rehab_services.record_health_check(
        actor=world.doctor_a, patient=patient, data={"date": days_ago(5), "consent": True}
    )
    registry_services.change_status(
        actor=world.doctor_a,
        patient=patient,
        to_status=registry_codes.Status.LOST,
        effective_date=days_ago(1),
        lost_reason=registry_codes.LostReason.MIGRANT_WORK,
    )
    response = logged_in(world.doctor_a).get(reverse("followup:timeline", kwargs={"patient_uuid": patient.uuid}))
    entries = response.context["entries"]
    assert [e.date for e in entries] == sorted((e.date for e in entries), reverse=True)
    kinds = [e.kind for e in entries]
    assert {"followup", "status", "medication", "rehab", "health_check"} <= set(kinds)
    html = response.content.decode()
    followup_link = reverse(
        "followup:followup_detail",
        kwargs={"patient_uuid": patient.uuid, "followup_uuid": entries[kinds.index("followup")].obj.uuid},
    )
    assert followup_link in html and "用药调整" in html


def test_one_follow_up_shows_every_recorded_item(world: World) -> None:
    followup = record(world.patient_a, world.doctor_a, reached_data(risk_level=1, symptoms=[1, 3]), [RISPERIDONE])
    url = reverse(
        "followup:followup_detail", kwargs={"patient_uuid": world.patient_a.uuid, "followup_uuid": followup.uuid}
    )
    html = logged_in(world.doctor_a).get(url).content.decode()
    for text in ("家庭访视", "幻觉、猜疑", "1级", "按医嘱规律用药", "利培酮 1-0-2 mg", "本次随访分类"):
        assert text in html, text


def test_medication_page(world: World) -> None:
    record(world.patient_a, world.doctor_a, reached_data(days_ago(40), adherence=2), [RISPERIDONE])
    record(world.patient_a, world.doctor_a, reached_data(days_ago(20), adherence=1), [DEPOT])
    response = logged_in(world.doctor_a).get(
        reverse("followup:medication", kwargs={"patient_uuid": world.patient_a.uuid})
    )
    context = response.context
    assert [row.drug for row in context["regimen"]] == ["棕榈酸帕利哌酮注射液"]
    assert [[row.drug for row in rows] for _f, rows in context["history"]] == [["棕榈酸帕利哌酮注射液"], ["利培酮"]]
    assert [(day, value) for day, value, _label, _css in context["adherence"]] == [(days_ago(40), 2), (days_ago(20), 1)]
    html = response.content.decode()
    assert "间断用药" in html and 'class="strip"' in html


# --- rehabilitation ------------------------------------------------------------------------------------------


def rehab_url(patient: Patient) -> str:
    return reverse("followup:rehab", kwargs={"patient_uuid": patient.uuid})


def test_rehab_participation_is_recorded(world: World) -> None:
    data = {"provider_type": "work_therapy", "provider_name": "街道工疗站", "start_date": days_ago(3).isoformat()}
    response = logged_in(world.doctor_a).post(rehab_url(world.patient_a), data)
    assert response.status_code == 302
    participation = RehabParticipation.objects.get()
    assert (participation.provider_type, participation.end_date, participation.recorded_by) == (
        "work_therapy",
        None,
        world.doctor_a,
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"start_date": days_ago(3).isoformat()}, "provider_type", "请选择康复机构类型。"),
        ({"provider_type": "home", "start_date": "昨天"}, "start_date", "请输入有效日期"),
        (
            {"provider_type": "home", "start_date": days_ago(3).isoformat(), "end_date": days_ago(5).isoformat()},
            "end_date",
            "结束日期不能早于开始日期。",
        ),
        ({"provider_type": "home", "start_date": (TODAY + dt.timedelta(days=2)).isoformat()}, "start_date", "晚于今天"),
    ],
)
def test_bad_rehab_input_writes_nothing(world: World, data: dict[str, str], field: str, message: str) -> None:
    response = logged_in(world.doctor_a).post(rehab_url(world.patient_a), data)
    assert response.status_code == 200
    assert any(message in str(e) for e in response.context["form"].errors[field])
    assert RehabParticipation.objects.count() == 0


def test_rehab_participation_is_ended(world: World) -> None:
    participation = rehab_services.record_rehab_participation(
        actor=world.doctor_a, patient=world.patient_a, data={"provider_type": "home", "start_date": days_ago(30)}
    )
    url = reverse("followup:rehab_end", kwargs={"patient_uuid": world.patient_a.uuid, "rehab_uuid": participation.uuid})
    client = logged_in(world.doctor_a)
    assert client.post(url, {"end_date": (TODAY + dt.timedelta(days=1)).isoformat()}).status_code == 302
    participation.refresh_from_db()
    assert participation.end_date is None  # a future end is refused with a message
    assert client.post(url, {"end_date": days_ago(40).isoformat()}).status_code == 302
    participation.refresh_from_db()
    assert participation.end_date is None  # before the start: refused
    assert client.post(url, {"end_date": TODAY.isoformat()}).status_code == 302
    participation.refresh_from_db()
    assert participation.end_date == TODAY
    response = client.post(url, {"end_date": TODAY.isoformat()}, follow=True)
    assert "该康复记录已结束。" in response.content.decode()


# --- health check --------------------------------------------------------------------------------------------


def check_url(patient: Patient) -> str:
    return reverse("followup:health_check", kwargs={"patient_uuid": patient.uuid})


def test_health_check_is_recorded(world: World) -> None:
    data = {"date": TODAY.isoformat(), "consent": "on", "blood_pressure": "120/80", "weight_kg": "65.5"}
    assert logged_in(world.doctor_a).post(check_url(world.patient_a), data).status_code == 302
    check = HealthCheck.objects.get()
    assert (check.blood_pressure, str(check.weight_kg), check.recorded_by) == ("120/80", "65.5", world.doctor_a)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"date": (TODAY + dt.timedelta(days=1)).isoformat(), "consent": "on"}, "date", "体检日期不能晚于今天。"),
        ({"date": "2000-01-01", "consent": "on"}, "date", "体检日期不能早于建档日期。"),
        ({"date": TODAY.isoformat(), "consent": "on", "weight_kg": "六十"}, "weight_kg", "体重必须是数字。"),
        ({"date": TODAY.isoformat(), "consent": "on", "weight_kg": "-3"}, "weight_kg", "体重须在1至500 kg之间。"),
        ({"date": TODAY.isoformat(), "ecg": "正常"}, "consent", "患者未同意体检时不能填写体检结果。"),
    ],
)
def test_bad_health_check_input_writes_nothing(world: World, data: dict[str, str], field: str, message: str) -> None:
    response = logged_in(world.doctor_a).post(check_url(world.patient_a), data)
    assert response.status_code == 200
    assert any(message in str(e) for e in response.context["form"].errors[field])
    assert HealthCheck.objects.count() == 0


def test_a_refused_health_check_is_recorded_alone(world: World) -> None:
    assert logged_in(world.doctor_a).post(check_url(world.patient_a), {"date": TODAY.isoformat()}).status_code == 302
    assert HealthCheck.objects.get().consent is False


# --- the patient panel ---------------------------------------------------------------------------------------


def detail(user: Any, patient: Patient, *, opened: bool = False) -> str:
    client = logged_in(user)
    if opened:
        session = client.session
        remember_opening(session, patient.uuid)
        session.save()
    response = client.get(reverse("registry:patient_detail", kwargs={"patient_uuid": patient.uuid}))
    assert response.status_code == 200
    return response.content.decode()


def test_the_panel_on_the_registry_page(world: World) -> None:
    visit(world.patient_a, world.doctor_a, days=30, due_in=14, risk=3, classification=1)
    timeline = reverse("followup:timeline", kwargs={"patient_uuid": world.patient_a.uuid})
    new = reverse("followup:followup_new", kwargs={"patient_uuid": world.patient_a.uuid})

    html = detail(world.doctor_a, world.patient_a)
    assert "followup-panel" in html and "3级" in html and "不稳定" in html and "已逾期 16 天" in html
    assert timeline in html and new in html

    police = detail(world.police_c, world.patient_a)  # the case team sees risk, class and due date only
    assert "3级" in police and "不稳定" in police and timeline not in police and new not in police

    masked = detail(world.county_d, world.patient_a)
    assert "3级" in masked and timeline not in masked and new not in masked
    opened = detail(world.county_d, world.patient_a, opened=True)
    assert timeline in opened and new not in opened


def test_the_panel_suggests_marking_lost_after_three_attempts(world: World) -> None:
    for days in (9, 6, 3):
        not_reached(world.patient_a, world.doctor_a, days=days)
    html = detail(world.doctor_a, world.patient_a)
    assert "已连续3次未访到" in html
    assert reverse("registry:status_change", kwargs={"patient_uuid": world.patient_a.uuid}) in html


def test_the_panel_can_be_included_on_any_page(world: World, rf: Any) -> None:
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.user = world.doctor_a
    request.session = logged_in(world.doctor_a).session
    html = render_to_string("followup/partials/patient_panel.html", {"patient": world.patient_a}, request=request)
    assert "尚无随访记录。" in html and "新增随访" in html
    assert render_to_string("followup/partials/patient_panel.html", {"patient": world.patient_a}).strip() == ""


def test_long_sections_show_the_first_rows_and_a_link_to_the_rest(
    world: World, township: dict[str, Patient], monkeypatch: Any
) -> None:
    from followup.visits import views

    monkeypatch.setattr(views, "SHOWN_PER_SECTION", 2)
    client = logged_in(world.doctor_a)
    response = client.get(reverse("followup:worklist"))
    assert len(response.context["overdue"]) == 2 and response.context["totals"]["overdue"] == 4
    assert "?more=overdue#overdue" in response.content.decode()
    subjects = {str(s.patient_uuid) for s in AuditEvent.objects.latest("id").subjects.all()}
    assert str(township["calm_overdue"].uuid) not in subjects  # only what was shown is logged as seen
    expanded = client.get(reverse("followup:worklist") + "?more=overdue")
    assert len(expanded.context["overdue"]) == 4 and len(expanded.context["due_soon"]) == 1
