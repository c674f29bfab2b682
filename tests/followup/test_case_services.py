"""Case services (domain.md §8): the opening rule, opening from follow-ups, the team and its grants, the plan,
contacts, closing, repeats and races, the case spans the indicators count."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any, cast

import pytest
from django.db import connection
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import Role
from casemgmt.audit.models import AuditEvent
from followup.cases import services as case_services
from followup.models import Case, CaseCloseReason, CaseContactMode, CaseMember, CaseOpenReason, CaseRole
from metrics.indicators.periods import parse_period
from metrics.reports.engine import compute_indicators
from registry.models import Patient, PatientUserObjectPermission, SupplementaryForm
from registry.patients import services as registry_services
from registry.signals import patient_facts_changed
from tests.base import TODAY, World, build_world, make_user
from tests.followup.base import attempt_data, record
from tests.followup.case_base import YESTERDAY, add, fresh, open_case, stable_data, unstable_data

pytestmark = pytest.mark.django_db

UNSTABLE, BASIC, STABLE = 1, 2, 3


# --- the pure rules --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("classification", "risk", "history", "reasons"),
    [
        (UNSTABLE, 1, False, ["unstable"]),
        (BASIC, 3, False, ["risk"]),
        (UNSTABLE, 5, False, ["unstable", "risk"]),
        (STABLE, 0, True, ["history"]),
        (BASIC, 2, False, []),
        (STABLE, 0, False, []),
        (None, None, False, []),
        (UNSTABLE, 4, True, ["unstable", "risk", "history"]),
    ],
)
def test_opening_rule(classification: int | None, risk: int | None, history: bool, reasons: list[str]) -> None:
    assert case_services.open_reasons(classification=classification, risk_level=risk, trouble_history=history) == (
        reasons
    )


@pytest.mark.parametrize(
    ("recent", "suggest"),
    [
        ([STABLE, STABLE], True),
        ([STABLE, STABLE, UNSTABLE], True),
        ([STABLE, BASIC], False),
        ([BASIC, STABLE], False),
        ([STABLE], False),
        ([], False),
        ([STABLE, None], False),
    ],
)
def test_closing_is_suggested_after_two_stable_follow_ups(recent: list[int | None], suggest: bool) -> None:
    assert case_services.suggests_closing(recent) is suggest


# --- opening ---------------------------------------------------------------------------------------------------


def test_an_unstable_follow_up_opens_one_case(world: World) -> None:
    heard: list[tuple[int, ...]] = []

    def listen(**kwargs: Any) -> None:
        heard.append(kwargs["patient_ids"])

    patient_facts_changed.connect(listen)
    try:
        case = open_case(world)
    finally:
        patient_facts_changed.disconnect(listen)
    assert case.opened_on == YESTERDAY and case.opened_reasons == ["unstable", "risk"]
    assert case.opened_by == world.doctor_a and case.is_open
    assert (world.patient_a.pk,) in heard  # the indicators hear of the opening
    event = AuditEvent.objects.get(detail__case=str(case.uuid), detail__step="open")
    assert [str(s.patient_uuid) for s in event.subjects.all()] == [str(world.patient_a.uuid)]
    again = record(world.patient_a, world.doctor_a, unstable_data(TODAY))
    assert case_services.opened_by_followup(again) is None
    assert Case.objects.filter(patient=world.patient_a).count() == 1


def test_risk_three_opens_and_a_stable_or_missed_visit_does_not(world: World) -> None:
    record(world.patient_b, world.doctor_b, stable_data())
    record(world.patient_b, world.doctor_b, attempt_data(), medications=[])
    assert not Case.objects.exists()
    followup = record(world.patient_b, world.doctor_b, unstable_data(TODAY, classification=UNSTABLE, risk_level=3))
    opened = case_services.opened_by_followup(followup)
    assert opened is not None and opened.opened_reasons == ["unstable", "risk"]


def test_a_history_of_trouble_opens_a_case_once(world: World) -> None:
    SupplementaryForm.objects.filter(patient=world.patient_a).update(disaster=1)
    first = record(world.patient_a, world.doctor_a, stable_data(YESTERDAY - dt.timedelta(days=1)))
    case = case_services.opened_by_followup(first)
    assert case is not None and case.opened_reasons == [CaseOpenReason.HISTORY]
    case_services.close_case(actor=world.doctor_a, case=case, reason=CaseCloseReason.STABLE_TWICE, today=TODAY)
    # The old history does not reopen a closed case at the next stable visit ...
    assert case_services.opened_by_followup(record(world.patient_a, world.doctor_a, stable_data())) is None
    # ... a new 肇事 recorded on a follow-up does.
    again = case_services.opened_by_followup(record(world.patient_a, world.doctor_a, stable_data(TODAY, trouble=1)))
    assert again is not None and again.opened_reasons == ["history"]
    assert Case.objects.filter(patient=world.patient_a, closed_on__isnull=True).count() == 1


def test_a_case_already_open_and_closing_twice(world: World) -> None:
    case = open_case(world)
    with pytest.raises(case_services.CaseError, match="结案原因"):
        case_services.close_case(actor=world.doctor_a, case=case, reason="nonsense", today=TODAY)
    with pytest.raises(case_services.CaseError, match="结案说明"):
        case_services.close_case(actor=world.doctor_a, case=case, reason=CaseCloseReason.OTHER, today=TODAY)
    with pytest.raises(case_services.CaseError, match="只有患者所在辖区"):
        case_services.close_case(actor=world.doctor_b, case=case, reason=CaseCloseReason.DEATH, today=TODAY)
    other = CaseCloseReason.OTHER
    case_services.close_case(actor=world.doctor_a, case=case, reason=other, note="随子女外迁", today=TODAY)
    with pytest.raises(case_services.CaseError, match="无需重复结案"):
        case_services.close_case(actor=world.doctor_a2, case=case, reason=CaseCloseReason.DEATH, today=TODAY)
    closed = fresh(case)
    assert (closed.closed_on, closed.close_reason, closed.close_note) == (TODAY, "other", "随子女外迁")
    assert AuditEvent.objects.filter(detail__case=str(case.uuid), detail__step="close").count() == 1


def test_closing_is_suggested_on_the_case(world: World) -> None:
    case = open_case(world, day=TODAY - dt.timedelta(days=30))
    record(world.patient_a, world.doctor_a, stable_data(TODAY - dt.timedelta(days=14)))
    assert not case_services.closing_suggested(case)
    record(world.patient_a, world.doctor_a, stable_data(TODAY))
    assert case_services.closing_suggested(case)


# --- the team and its grants -----------------------------------------------------------------------------------


def police(world: World) -> Any:
    """A second case-team account without any grant yet (police_c has one on patient_a in the test world)."""
    return make_user("grid_f", Role.CASE_MEMBER, world.county)


def grant_of(user: Any, patient: Patient) -> PatientUserObjectPermission:
    return PatientUserObjectPermission.objects.get(user=user, content_object=patient)


def visible(user: Any, patient: Patient) -> bool:
    return Patient.objects.visible_to(user).filter(pk=patient.pk).exists()


def test_adding_a_member_grants_exactly_that_patient(world: World) -> None:
    grid = police(world)
    case = open_case(world)
    assert not visible(grid, world.patient_a)
    member = add(world, case, grid, CaseRole.GRID)
    grant = grant_of(grid, world.patient_a)
    assert member.grant == grant
    assert (grant.granted_by, grant.reason) == (world.doctor_a, "个案管理团队")
    expected = TODAY + dt.timedelta(days=90 + 1)  # CASE_GRANT_DAYS without a review date (end of that day)
    assert timezone.localtime(grant.expires_at).date() == expected
    assert set(Patient.objects.visible_to(grid)) == {world.patient_a}
    event = AuditEvent.objects.get(detail__case=str(case.uuid), detail__step="grant")
    assert event.detail["member_user"] == str(grid.uuid)


def test_the_patients_doctors_get_no_grant_and_others_do(world: World) -> None:
    case = open_case(world)
    colleague = add(world, case, world.doctor_a2, CaseRole.PREVENTION_DOCTOR)
    assert colleague.grant is None
    grid = police(world)
    outsider = add(world, case, grid)
    assert outsider.grant is not None and visible(grid, world.patient_a)
    for refused in (world.county_d, world.doctor_b):  # area staff; another township's doctor (issue 14 §8)
        with pytest.raises(case_services.CaseError, match="只能添加"):
            add(world, case, refused)
    with pytest.raises(case_services.CaseError, match="只有患者所在辖区"):
        add(world, case, world.police_c, actor=world.doctor_b)


def test_an_external_member_is_stored_encrypted(world: World) -> None:
    case = open_case(world)
    member = case_services.add_member(
        actor=world.doctor_a,
        case=case,
        role=CaseRole.FAMILY,
        person_name="王秀英",
        person_phone="13800001111",
        today=TODAY,
    )
    assert member.grant is None and CaseMember.objects.get(pk=member.pk).person_name == "王秀英"
    with connection.cursor() as cursor:
        cursor.execute("SELECT person_name, person_phone FROM followup_casemember WHERE id = %s", [member.pk])
        stored = cursor.fetchone()
    assert "王秀英" not in stored[0] and "13800001111" not in stored[1]
    with pytest.raises(case_services.CaseError, match="联系电话"):
        case_services.add_member(
            actor=world.doctor_a, case=case, role=CaseRole.FAMILY, person_name="李", person_phone="abc", today=TODAY
        )
    with pytest.raises(case_services.CaseError, match="请选择系统用户"):
        case_services.add_member(actor=world.doctor_a, case=case, role=CaseRole.FAMILY, today=TODAY)


def test_the_same_member_twice_is_one_membership(world: World) -> None:
    grid = police(world)
    case = open_case(world)
    add(world, case, grid)
    with pytest.raises(case_services.CaseError, match="已在团队中，无需重复添加"):
        add(world, case, grid)
    assert CaseMember.objects.filter(case=case, user=grid).count() == 1


def test_removing_a_member_ends_the_grant_and_is_audited(world: World) -> None:
    grid = police(world)
    case = open_case(world)
    member = add(world, case, grid)
    case_services.remove_member(actor=world.doctor_a, member=member)
    assert not visible(grid, world.patient_a)
    ended = grant_of(grid, world.patient_a).expires_at
    assert ended is not None and ended <= timezone.now()  # kept as history, no longer live
    assert AuditEvent.objects.filter(detail__case=str(case.uuid), detail__step="revoke").count() == 1
    with pytest.raises(case_services.CaseError, match="已移出团队"):
        case_services.remove_member(actor=world.doctor_a, member=member)
    again = add(world, case, grid)  # may join again: a new membership, the grant renewed
    assert again.grant == member.grant and visible(grid, world.patient_a)
    assert CaseMember.objects.filter(case=case, user=grid).count() == 2


def test_closing_the_case_ends_every_grant(world: World) -> None:
    grid = police(world)
    case = open_case(world)
    psychiatrist = make_user("psy_g", Role.CASE_MEMBER, world.county)  # the specialist's case-team account
    add(world, case, grid)
    add(world, case, psychiatrist, CaseRole.PSYCHIATRIST)
    case_services.close_case(actor=world.doctor_a, case=case, reason=CaseCloseReason.STABLE_TWICE, today=TODAY)
    assert not visible(grid, world.patient_a) and not visible(psychiatrist, world.patient_a)
    assert AuditEvent.objects.filter(detail__case=str(case.uuid), detail__step="revoke").count() == 2
    assert list(case_services.my_cases(grid)) == []
    with pytest.raises(case_services.CaseError, match="已结案"):
        add(world, case, world.police_c)


def test_an_expired_grant_takes_the_case_away(world: World) -> None:
    grid = police(world)
    case = open_case(world)
    add(world, case, grid)
    assert list(case_services.my_cases(grid)) == [case]
    PatientUserObjectPermission.objects.filter(user=grid).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert list(case_services.my_cases(grid)) == []
    request = cast(AuthenticatedHttpRequest, RequestFactory().get("/"))
    request.user = grid
    with pytest.raises(Http404):
        case_services.get_case_for_user(request, case.uuid)


@pytest.mark.parametrize("margin", [None, 14])
def test_the_plan_moves_the_grants_to_its_review_date(world: World, settings: Any, margin: int | None) -> None:
    """A grant ends with the review date (the end of that day); a margin after it only when configured."""
    if margin is not None:
        settings.CASE_GRANT_MARGIN_DAYS = margin
    grid = police(world)
    case = open_case(world)
    add(world, case, grid)
    review = TODAY + dt.timedelta(days=30)
    values = {"goals": "病情稳定", "treatment": "规律服药", "risk_prevention": "每周电话", "review_date": review}
    case_services.update_plan(actor=world.doctor_a, case=case, values=values, today=TODAY)
    saved = fresh(case)
    assert (saved.goals, saved.review_date, saved.plan_updated_by) == ("病情稳定", review, world.doctor_a)
    expires = timezone.localtime(grant_of(grid, world.patient_a).expires_at).date()
    assert expires == review + dt.timedelta(days=(margin or 0) + 1)  # midnight after the review date (+ margin)
    with pytest.raises(case_services.CaseError, match="不能早于今天"):
        case_services.update_plan(actor=world.doctor_a, case=case, values={"review_date": YESTERDAY}, today=TODAY)
    with pytest.raises(case_services.CaseError, match="只有患者所在辖区"):
        case_services.update_plan(actor=grid, case=case, values=values, today=TODAY)


def test_grant_days_are_configurable(world: World, settings: Any) -> None:
    settings.CASE_GRANT_DAYS = 7
    grid = police(world)
    add(world, open_case(world), grid)
    assert timezone.localtime(grant_of(grid, world.patient_a).expires_at).date() == TODAY + dt.timedelta(days=8)


# --- contacts --------------------------------------------------------------------------------------------------


def contact(**overrides: Any) -> dict[str, Any]:
    return {"date": TODAY, "mode": CaseContactMode.VISIT, "who": "监护人", "findings": "情绪平稳", **overrides}


def test_members_and_doctors_record_contacts(world: World) -> None:
    grid = police(world)
    case = open_case(world)
    add(world, case, grid)
    saved = case_services.record_contact(actor=grid, case=case, values=contact(actions="嘱按时服药"), today=TODAY)
    assert (saved.findings, saved.actions, saved.recorded_by) == ("情绪平稳", "嘱按时服药", grid)
    case_services.record_contact(actor=world.doctor_a, case=case, values=contact(), today=TODAY)
    with pytest.raises(case_services.CaseError, match="只有团队成员"):
        case_services.record_contact(actor=world.police_c, case=case, values=contact(), today=TODAY)
    assert case.contacts.count() == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"date": TODAY + dt.timedelta(days=1)}, "不能晚于今天"),
        ({"date": YESTERDAY - dt.timedelta(days=1)}, "不能早于开案日期"),
        ({"date": None}, "请填写联系日期"),
        ({"who": " "}, "请填写联系对象"),
        ({"findings": ""}, "请填写发现的情况"),
    ],
)
def test_bad_contacts_are_refused(world: World, overrides: dict[str, Any], message: str) -> None:
    case = open_case(world)
    with pytest.raises(case_services.CaseError, match=message):
        case_services.record_contact(actor=world.doctor_a, case=case, values=contact(**overrides), today=TODAY)
    assert not case.contacts.exists()


# --- lists, overview and the indicators ------------------------------------------------------------------------


def test_lists_and_overview_queries(world: World) -> None:
    case = open_case(world, day=TODAY - dt.timedelta(days=20))
    open_case(world, world.patient_b, day=TODAY - dt.timedelta(days=3))
    Case.objects.filter(pk=case.pk).update(review_date=YESTERDAY)
    assert list(case_services.jurisdiction_cases(world.doctor_a)) == [case]
    townships = case_services.open_cases_per_township(["320508"])
    assert [(area.code, n) for area, n in townships] == [("320508001000", 1), ("320508002000", 1)]
    assert case_services.open_cases_per_township(["320508002"])[0][0].name == "乙街道"
    assert list(case_services.overdue_reviews(["320508"], TODAY)) == [case]
    assert list(case_services.unstable_without_followup(["320508"], TODAY)) == [world.patient_a]
    assert list(case_services.unstable_without_followup(["320508002"], TODAY)) == []


def test_case_spans_and_the_open_cases_count(world: World) -> None:
    case = open_case(world, day=TODAY - dt.timedelta(days=10))
    pk = world.patient_a.pk
    assert case_services.case_spans([pk, world.patient_b.pk], TODAY) == {pk: ((case.opened_on, None),)}
    assert case_services.case_spans([pk], case.opened_on - dt.timedelta(days=1)) == {}
    period = parse_period(str(TODAY.year))
    if case.opened_on.year == TODAY.year:
        assert compute_indicators("320508", period)["counts"]["open_cases"] == 1
    case_services.close_case(actor=world.doctor_a, case=case, reason=CaseCloseReason.STABLE_TWICE, today=TODAY)
    assert case_services.case_spans([pk], TODAY) == {pk: ((case.opened_on, TODAY),)}
    assert case_services.case_spans([pk], TODAY - dt.timedelta(days=1)) == {pk: ((case.opened_on, None),)}
    assert compute_indicators("320508", period)["counts"]["open_cases"] == 0  # closed on the cut-off day


# --- races -----------------------------------------------------------------------------------------------------


def race(target: Any, args: list[tuple[Any, ...]]) -> list[str]:
    barrier = threading.Barrier(len(args))
    outcomes: list[str] = []

    def run(*values: Any) -> None:
        try:
            barrier.wait(timeout=10)
            target(*values)
            outcomes.append("ok")
        except case_services.CaseError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=a) for a in args]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_doctors_adding_the_same_member_at_once_make_one_membership() -> None:
    world = build_world()
    grid = make_user("grid_f", Role.CASE_MEMBER, world.county)
    case = open_case(world)
    outcomes = race(lambda actor: add(world, case, grid, actor=actor), [(world.doctor_a,), (world.doctor_a2,)])
    assert outcomes.count("ok") == 1
    assert any("无需重复添加" in o for o in outcomes)
    assert CaseMember.objects.filter(case=case, user=grid, removed_at__isnull=True).count() == 1
    assert PatientUserObjectPermission.objects.filter(user=grid).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_closing_at_once_closes_once() -> None:
    world = build_world()
    case = open_case(world)

    def close(actor: Any) -> None:
        case_services.close_case(actor=actor, case=case, reason=CaseCloseReason.STABLE_TWICE, today=TODAY)

    outcomes = race(close, [(world.doctor_a,), (world.doctor_a2,)])
    assert outcomes.count("ok") == 1
    assert any("无需重复结案" in o for o in outcomes)
    assert AuditEvent.objects.filter(detail__case=str(case.uuid), detail__step="close").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_unstable_follow_ups_at_once_open_one_case() -> None:
    world = build_world()

    def save(actor: Any) -> None:
        record(world.patient_a, actor, unstable_data())

    outcomes = race(save, [(world.doctor_a,), (world.doctor_a2,)])
    assert outcomes == ["ok", "ok"]
    assert Case.objects.filter(patient=world.patient_a, closed_on__isnull=True).count() == 1


def test_the_open_case_constraint_holds_without_the_service(world: World) -> None:
    from django.db import IntegrityError, transaction

    open_case(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(patient=world.patient_a, opened_on=TODAY, opened_by=world.doctor_a)


def test_the_one_active_membership_constraint_holds_without_the_service(world: World) -> None:
    from django.db import IntegrityError, transaction

    case = open_case(world)
    add(world, case, world.police_c)
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseMember.objects.create(case=case, role=CaseRole.GRID, user=world.police_c, added_by=world.doctor_a)


def test_a_recorded_death_closes_the_case_and_ends_the_grants(world: World) -> None:
    grid = police(world)
    case = open_case(world, day=TODAY - dt.timedelta(days=5))
    add(world, case, grid)
    death = attempt_data(TODAY, outcome="DEAD", death_date=TODAY - dt.timedelta(days=2), death_cause=2)
    record(world.patient_a, world.doctor_a, death, medications=[])
    closed = fresh(case)
    assert (closed.closed_on, closed.close_reason) == (TODAY - dt.timedelta(days=2), "death")
    assert not visible(grid, world.patient_a)


def test_expired_memberships_are_ended_and_audited(world: World) -> None:
    from io import StringIO

    from django.core.management import call_command

    grid = police(world)
    case = open_case(world)
    member = add(world, case, grid)
    keep = add(world, case, world.police_c)
    assert case_services.end_expired_memberships(now=timezone.now()) == 0
    past = timezone.now() - dt.timedelta(hours=1)
    PatientUserObjectPermission.objects.filter(user=grid).update(expires_at=past)
    out = StringIO()
    call_command("end_expired_case_grants", stdout=out)
    assert "1 个" in out.getvalue()
    ended = CaseMember.objects.get(pk=member.pk)
    assert ended.removed_at == past and CaseMember.objects.get(pk=keep.pk).removed_at is None
    event = AuditEvent.objects.get(detail__case=str(case.uuid), detail__cause="expired")
    assert event.actor is None and event.detail["member_user"] == str(grid.uuid)
    assert case_services.end_expired_memberships(now=timezone.now()) == 0  # once
    assert [m.user for m in case_services.team(case)] == [world.police_c]


def test_the_beat_task_runs_the_same_service(world: World, settings: Any) -> None:
    from followup.cases.tasks import end_expired_case_grants

    grid = police(world)
    member = add(world, open_case(world), grid)
    PatientUserObjectPermission.objects.filter(user=grid).update(expires_at=timezone.now())
    assert end_expired_case_grants() == 1  # called in-process; beat sends it to a worker
    assert CaseMember.objects.get(pk=member.pk).removed_at is not None
    assert "followup.tasks.end_expired_case_grants" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}


def test_a_death_on_the_status_page_closes_the_case_and_ends_the_grants(world: World) -> None:
    grid = police(world)
    case = open_case(world, day=TODAY - dt.timedelta(days=5))
    add(world, case, grid)
    registry_services.change_status(
        actor=world.doctor_a,
        patient=world.patient_a,
        to_status="DEAD",
        effective_date=TODAY - dt.timedelta(days=1),
        death_cause=2,
    )
    closed = fresh(case)
    assert (closed.closed_on, closed.close_reason, closed.closed_by) == (
        TODAY - dt.timedelta(days=1),
        CaseCloseReason.DEATH,
        world.doctor_a,
    )
    assert not visible(grid, world.patient_a)


def test_a_confirmed_closure_of_the_record_closes_the_case(world: World) -> None:
    grid = police(world)
    case = open_case(world, day=TODAY - dt.timedelta(days=5))
    add(world, case, grid)
    closure = registry_services.request_closure(
        actor=world.doctor_a, patient=world.patient_a, effective_date=TODAY, reason=1
    )
    assert fresh(case).closed_on is None and visible(grid, world.patient_a)  # a request alone changes nothing
    registry_services.decide_closure(actor=world.doctor_a2, closure=closure, confirm=True)
    closed = fresh(case)
    assert (closed.closed_on, closed.close_reason) == (TODAY, CaseCloseReason.RECORD_CLOSED)
    assert not visible(grid, world.patient_a)


def test_a_lost_patient_keeps_the_case_and_a_record_without_a_case_is_fine(world: World) -> None:
    case = open_case(world, day=TODAY - dt.timedelta(days=5))
    registry_services.change_status(
        actor=world.doctor_a, patient=world.patient_a, to_status="LOST", effective_date=TODAY, lost_reason=1
    )
    assert fresh(case).closed_on is None
    registry_services.change_status(
        actor=world.doctor_b, patient=world.patient_b, to_status="DEAD", effective_date=TODAY, death_cause=2
    )
    assert not Case.objects.filter(patient=world.patient_b).exists()


def test_the_member_picker_offers_case_team_accounts_and_the_patients_own_doctors(world: World) -> None:
    """issue 14 §8: another township's doctor is neither offered nor accepted (a place would grant the patient)."""
    case = open_case(world)
    offered = set(case_services.member_users(case))
    assert world.police_c in offered and world.doctor_a2 in offered
    assert world.doctor_b not in offered and world.county_d not in offered and world.admin_e not in offered
    with pytest.raises(case_services.CaseError, match="患者所在辖区精防医生"):
        add(world, case, world.doctor_b)
    assert not case.members.filter(user=world.doctor_b).exists()


def test_the_picker_offers_only_case_team_accounts_affiliated_with_the_patients_county(world: World) -> None:
    """issue 14 §3: a case-team account belongs to a county (an area membership that gives no visibility); the
    picker offers the patient's county's case-team accounts and the patient's township doctors only."""
    from casemgmt.areas.models import AreaLevel
    from tests.base import make_area, make_user

    other_county = make_area("320509000000", "另一区", AreaLevel.COUNTY, world.city)
    elsewhere = make_user("police_x", Role.CASE_MEMBER, other_county)
    unaffiliated = make_user("police_none", Role.CASE_MEMBER)
    case = open_case(world)
    offered = set(case_services.member_users(case))
    assert world.police_c in offered and world.doctor_a2 in offered
    assert elsewhere not in offered and unaffiliated not in offered
    with pytest.raises(case_services.CaseError, match="患者所在辖区"):
        add(world, case, elsewhere)
    with pytest.raises(case_services.CaseError, match="患者所在辖区"):
        add(world, case, unaffiliated)
