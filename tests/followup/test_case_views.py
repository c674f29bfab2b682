"""Case pages: the access matrix for every role (200 / 404 / 403 / 405), the limited view of the case team,
the clinical pages answering 404 to it, messages, repeats, and pinned query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from casemgmt.accounts.models import Role
from casemgmt.audit.models import AuditEvent
from followup.cases import services as case_services
from followup.models import Case, CaseMember, CaseRole
from registry.models import PatientUserObjectPermission
from tests.base import TODAY, World, grant, make_patient, make_user
from tests.followup.case_base import add, client_for, open_case, unstable_data
from tests.followup.test_views_form import RISPERIDONE, new_url, post_data

pytestmark = pytest.mark.django_db

# name -> (allowed methods, kind): "read" pages for the team, "contact" for team and doctors, "manage" for doctors
CASE_VIEWS: dict[str, tuple[set[str], str]] = {
    "case_detail": ({"GET"}, "read"),
    "case_contact_new": ({"POST"}, "contact"),
    "case_member_add": ({"POST"}, "manage"),
    "case_member_remove": ({"POST"}, "manage"),
    "case_plan": ({"GET", "POST"}, "manage"),
    "case_close": ({"POST"}, "manage"),
}
ALLOWED = (200, 302)
# persona -> expected status per kind (None: allowed)
MATRIX: dict[str, dict[str, int | None]] = {
    "doctor_a": {"read": None, "contact": None, "manage": None},
    "doctor_a2": {"read": None, "contact": None, "manage": None},
    "doctor_b": {"read": 404, "contact": 404, "manage": 404},
    "county_d": {"read": 403, "contact": 403, "manage": 403},
    "police_c": {"read": None, "contact": None, "manage": 403},  # on the team
    "admin_e": {"read": 404, "contact": 404, "manage": 404},
    "removed": {"read": 404, "contact": 404, "manage": 404},
    "expired": {"read": 404, "contact": 404, "manage": 404},
    "not_on_team": {"read": 404, "contact": 404, "manage": 404},  # a grant on the patient, no membership
}
CLINICAL = ("timeline", "medication", "rehab", "health_check", "followup_new")


@pytest.fixture
def case(world: World) -> Case:
    case = open_case(world)
    add(world, case, world.police_c)
    case_services.add_member(
        actor=world.doctor_a, case=case, role=CaseRole.FAMILY, person_name="王秀英", person_phone="138", today=TODAY
    )
    return case


def persona(world: World, case: Case, name: str) -> Any:
    if hasattr(world, name):
        return getattr(world, name)
    user = make_user(name, Role.CASE_MEMBER, world.county)
    if name == "not_on_team":
        grant(world.patient_a, user, world.doctor_a)
        return user
    member = add(world, case, user, CaseRole.GRID)
    if name == "removed":
        case_services.remove_member(actor=world.doctor_a, member=member)
    else:
        PatientUserObjectPermission.objects.filter(user=user).update(expires_at=timezone.now() - dt.timedelta(hours=1))
    return user


def case_url(name: str, case: Case) -> str:
    kwargs: dict[str, Any] = {"case_uuid": case.uuid}
    if name == "case_member_remove":
        kwargs["member_uuid"] = case.members.get(user__isnull=True).uuid
    return reverse(f"followup:{name}", kwargs=kwargs)


@pytest.mark.parametrize("who", list(MATRIX))
@pytest.mark.parametrize("name", list(CASE_VIEWS))
def test_access_matrix(world: World, case: Case, who: str, name: str) -> None:
    client = client_for(persona(world, case, who))
    methods, kind = CASE_VIEWS[name]
    expected = MATRIX[who][kind]
    for method in sorted(methods):
        status = client.generic(method, case_url(name, case)).status_code
        if expected is None:
            assert status in ALLOWED, (who, name, method, status)
        else:
            assert status == expected, (who, name, method, status)


@pytest.mark.parametrize("name", list(CASE_VIEWS))
def test_wrong_methods_get_405(world: World, case: Case, name: str) -> None:
    client = client_for(world.doctor_a)
    for method in {"GET", "POST", "PUT", "DELETE", "PATCH"} - CASE_VIEWS[name][0]:
        assert client.generic(method, case_url(name, case)).status_code == 405, method


@pytest.mark.parametrize("who", list(MATRIX))
def test_the_team_never_reaches_the_clinical_pages(world: World, case: Case, who: str) -> None:
    user = persona(world, case, who)
    client = client_for(user)
    for name in CLINICAL:
        status = client.get(reverse(f"followup:{name}", kwargs={"patient_uuid": world.patient_a.uuid})).status_code
        if who in ("doctor_a", "doctor_a2"):
            assert status == 200, name
        elif who == "county_d":
            assert status in (302, 403), name  # asked for a reason first, or read-only
        else:
            assert status == 404, (who, name)
    followup = world.patient_a.followups.get()
    detail = reverse(
        "followup:followup_detail", kwargs={"patient_uuid": world.patient_a.uuid, "followup_uuid": followup.uuid}
    )
    supplementary = reverse("registry:supplementary_edit", kwargs={"patient_uuid": world.patient_a.uuid})
    if who not in ("doctor_a", "doctor_a2", "county_d"):
        assert client.get(detail).status_code == 404
        assert client.get(supplementary).status_code == 404


def test_case_list_for_each_role(world: World, case: Case) -> None:
    url = reverse("followup:case_list")
    doctor = client_for(world.doctor_a).get(url)
    assert doctor.status_code == 200 and [r.uuid for r in doctor.context["rows"]] == [case.uuid]
    assert world.patient_a.name in doctor.content.decode()
    police = client_for(world.police_c).get(url)
    assert police.status_code == 200 and police.context["mine"]
    assert [r.uuid for r in police.context["rows"]] == [case.uuid]
    assert "我的个案" in police.content.decode()
    assert client_for(world.doctor_b).get(url).context["rows"] == []
    assert client_for(world.county_d).get(url).status_code == 403
    assert client_for(world.admin_e).get(url).status_code == 403
    assert client_for(world.doctor_a).post(url).status_code == 405
    assert client_for(persona(world, case, "removed")).get(url).context["rows"] == []
    assert client_for(persona(world, case, "expired")).get(url).context["rows"] == []


def test_the_member_sees_the_limited_view_only(world: World, case: Case) -> None:
    case_services.update_plan(
        actor=world.doctor_a,
        case=case,
        values={"goals": "防止复发", "risk_prevention": "每周走访", "review_date": TODAY + dt.timedelta(days=30)},
        today=TODAY,
    )
    response = client_for(world.police_c).get(case_url("case_detail", case))
    body = response.content.decode()
    assert response.status_code == 200 and not response.context["full"]
    assert world.patient_a.name in body and world.patient_a.national_id in body
    assert "监护人" in body and "防止复发" in body and "每周走访" in body
    assert "登记联系记录" in body
    for clinical in ("随访时间线", "用药", "添加成员", "结案原因", "编辑方案", "个人信息补充表"):
        assert clinical not in body, clinical
    event = AuditEvent.objects.filter(detail__page="case").latest("id")
    assert event.detail["disclosure"] == "limited"
    assert world.patient_a.name not in str(event.detail)


def test_the_doctor_manages_the_team(world: World, case: Case) -> None:
    grid = make_user("grid_f", Role.CASE_MEMBER, world.county)
    client = client_for(world.doctor_a)
    page = client.get(case_url("case_detail", case))
    assert page.context["full"] and "添加成员" in page.content.decode()
    response = client.post(case_url("case_member_add", case), {"role": "grid", "user": grid.pk}, follow=True)
    assert "已将 grid_f 加入团队" in response.content.decode()
    again = client.post(case_url("case_member_add", case), {"role": "grid", "user": grid.pk})
    assert again.status_code == 200 and "已在团队中，无需重复添加" in again.content.decode()
    assert CaseMember.objects.filter(case=case, user=grid).count() == 1
    empty = client.post(case_url("case_member_add", case), {"role": "grid"})
    assert "请选择系统用户" in empty.content.decode()
    member = case.members.get(user=grid)
    remove = reverse("followup:case_member_remove", kwargs={"case_uuid": case.uuid, "member_uuid": member.uuid})
    assert "其查看权限已收回" in client.post(remove, follow=True).content.decode()
    assert "该成员已移出团队" in client.post(remove, follow=True).content.decode()
    assert client_for(grid).get(case_url("case_detail", case)).status_code == 404


def test_contacts_plan_and_closing_through_the_pages(world: World, case: Case) -> None:
    police = client_for(world.police_c)
    data = {"date": TODAY.isoformat(), "mode": "1", "who": "监护人", "findings": "服药规律", "actions": "继续观察"}
    response = police.post(case_url("case_contact_new", case), data, follow=True)
    assert "联系记录已保存" in response.content.decode() and "服药规律" in response.content.decode()
    bad = police.post(case_url("case_contact_new", case), {**data, "date": (TODAY + dt.timedelta(days=2)).isoformat()})
    assert bad.status_code == 200 and "联系日期不能晚于今天" in bad.content.decode()
    doctor = client_for(world.doctor_a)
    plan = doctor.post(case_url("case_plan", case), {"goals": "稳定", "review_date": "2000-01-01"})
    assert "方案评估日期不能早于今天" in plan.content.decode()
    no_reason = doctor.post(case_url("case_close", case), {"reason": ""})
    assert "请选择结案原因" in no_reason.content.decode()
    other = doctor.post(case_url("case_close", case), {"reason": "other"})
    assert "请填写结案说明" in other.content.decode()
    closed = doctor.post(case_url("case_close", case), {"reason": "stable_twice"}, follow=True)
    assert "个案已结案" in closed.content.decode()
    twice = client_for(world.doctor_a2).post(case_url("case_close", case), {"reason": "death"}, follow=True)
    assert "无需重复结案" in twice.content.decode()
    assert police.get(case_url("case_detail", case)).status_code == 404  # the grant ended with the case
    history = doctor.get(case_url("case_detail", case))
    assert history.status_code == 200 and "服药规律" in history.content.decode()


def test_saving_an_unstable_follow_up_tells_the_doctor(world: World) -> None:
    data = post_data(unstable_data(TODAY), [RISPERIDONE])
    response = client_for(world.doctor_a).post(new_url(world.patient_a), data, follow=True)
    assert response.status_code == 200
    case = Case.objects.get(patient=world.patient_a)
    body = response.content.decode()
    assert "已为该患者开启个案管理（随访分类为不稳定、危险性评估3级及以上）" in body
    assert reverse("followup:case_detail", kwargs={"case_uuid": case.uuid}) in body


def test_the_patient_page_links_the_case(world: World, case: Case) -> None:
    detail = reverse("registry:patient_detail", kwargs={"patient_uuid": world.patient_a.uuid})
    link = reverse("followup:case_detail", kwargs={"case_uuid": case.uuid})
    assert link in client_for(world.doctor_a).get(detail).content.decode()
    assert link in client_for(world.police_c).get(detail).content.decode()
    user = persona(world, case, "not_on_team")
    assert link not in client_for(user).get(detail).content.decode()


def more_cases(world: World, count: int) -> None:
    for _ in range(count):
        patient = make_patient(world.doctor_a, world.village_a2)
        case = open_case(world, patient)
        add(world, case, world.police_c)


@pytest.mark.parametrize("extra", [0, 3])
def test_case_list_query_counts_are_pinned(
    world: World, case: Case, extra: int, django_assert_num_queries: Any
) -> None:
    more_cases(world, extra)
    url = reverse("followup:case_list")
    doctor, police = client_for(world.doctor_a), client_for(world.police_c)
    # session, user, memberships, cases (patients, villages and care states joined), grants + the cases of other
    # areas' teams, audit event + subjects, the session saved in a savepoint (3)
    with django_assert_num_queries(11):
        assert len(doctor.get(url).context["rows"]) == 1 + extra
    # the same, with the grants of the visibility rule in place of the memberships
    with django_assert_num_queries(9):
        assert len(police.get(url).context["rows"]) == 1 + extra


def test_case_page_query_count_is_pinned(world: World, case: Case, django_assert_max_num_queries: Any) -> None:
    client = client_for(world.doctor_a)
    client.get(case_url("case_detail", case))
    with django_assert_max_num_queries(25):
        client.get(case_url("case_detail", case))


def test_a_doctor_on_another_townships_team_does_not_get_the_patient_on_the_work_list(world: World, case: Case) -> None:
    """A membership from before the member picker was limited to the patient's own doctors (issue 14 §8)."""
    CaseMember.objects.create(case=case, role=CaseRole.PSYCHIATRIST, user=world.doctor_b, added_by=world.doctor_a)
    grant(world.patient_a, world.doctor_b, world.doctor_a)
    client = client_for(world.doctor_b)
    assert client.get(case_url("case_detail", case)).status_code == 200  # the limited view
    assert not client.get(case_url("case_detail", case)).context["full"]
    body = client.get(reverse("followup:worklist")).content.decode()
    assert world.patient_a.name not in body
    listing = client.get(reverse("followup:case_list")).context
    assert listing["rows"] == []  # not their area ...
    assert [r.uuid for r in listing["team_rows"]] == [case.uuid]  # ... but their team


def test_case_pages_render_in_english(world: World, case: Case) -> None:
    from django.conf import settings as conf

    for user, names in ((world.doctor_a, ("case_detail", "case_plan")), (world.police_c, ("case_detail",))):
        client = client_for(user)
        client.cookies[conf.LANGUAGE_COOKIE_NAME] = "en"
        assert client.get(reverse("followup:case_list")).status_code == 200
        for name in names:
            response = client.get(case_url(name, case))
            assert response.status_code == 200 and 'lang="en"' in response.content.decode(), name


def test_posts_to_a_closed_case_say_why(world: World, case: Case) -> None:
    case_services.close_case(actor=world.doctor_a, case=case, reason="stable_twice", today=TODAY)
    client = client_for(world.doctor_a)
    data = {"date": TODAY.isoformat(), "mode": "1", "who": "监护人", "findings": "情况"}
    response = client.post(case_url("case_contact_new", case), data, follow=True)
    assert "该个案已结案，不能再登记联系记录" in response.content.decode()
    grid = make_user("grid_f", Role.CASE_MEMBER, world.county)
    response = client.post(case_url("case_member_add", case), {"role": "grid", "user": grid.pk}, follow=True)
    assert "该个案已结案，不能再添加成员" in response.content.decode()
    bad = client.post(case_url("case_member_add", case), {"role": "grid", "user": "x1"})
    assert bad.status_code == 200 and "已在团队中" not in bad.content.decode()


def test_the_member_picker_on_the_page_offers_the_patients_county_only(world: World, case: Case) -> None:
    """issue 14 §3: a case-team account of another county, or of none, is not offered on the case page."""
    from casemgmt.areas.models import AreaLevel
    from tests.base import make_area

    other_county = make_area("320509000000", "另一区", AreaLevel.COUNTY, world.city)
    elsewhere = make_user("police_x", Role.CASE_MEMBER, other_county)
    unaffiliated = make_user("police_none", Role.CASE_MEMBER)
    local = make_user("police_here", Role.CASE_MEMBER, world.county)
    page = client_for(world.doctor_a).get(case_url("case_detail", case)).content.decode()
    assert f'<option value="{local.pk}"' in page
    assert f'<option value="{elsewhere.pk}"' not in page and f'<option value="{unaffiliated.pk}"' not in page
    client = client_for(world.doctor_a)
    response = client.post(case_url("case_member_add", case), {"role": "police", "user": elsewhere.pk})
    assert not CaseMember.objects.filter(case=case, user=elsewhere).exists()
    assert response.status_code in (200, 302)
