"""Status changes with their reasons, and closure (注销) as a request that a second person confirms or rejects."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from casemgmt.audit.models import Action, AuditEvent
from registry import codes
from registry.models import ClosureRequest, Patient, StatusChange
from registry.patients import services
from tests.base import TODAY, World

pytestmark = pytest.mark.django_db
FUTURE = (TODAY + dt.timedelta(days=1)).isoformat()


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def status_url(patient: Patient) -> str:
    return reverse("registry:status_change", kwargs={"patient_uuid": patient.uuid})


def review_url(closure: ClosureRequest) -> str:
    return reverse(
        "registry:closure_review", kwargs={"patient_uuid": closure.patient.uuid, "closure_uuid": closure.uuid}
    )


def reload(patient: Patient) -> Patient:
    return Patient.objects.visible_to(patient.created_by).get(pk=patient.pk)


def writes() -> tuple[int, ...]:
    """Rows a refused change must not add; the page it re-shows is logged as a view (issue 14 finding 9)."""
    changes = AuditEvent.objects.exclude(action=Action.VIEW)
    return (StatusChange.objects.count(), ClosureRequest.objects.count(), changes.count())


def post_status(user: Any, patient: Patient, **values: Any) -> Any:
    data = {"effective_date": TODAY.isoformat(), **{k: str(v) for k, v in values.items()}}
    return logged_in(user).post(status_url(patient), data)


def request_closure(world: World) -> ClosureRequest:
    return services.request_closure(
        actor=world.doctor_a, patient=world.patient_a, effective_date=TODAY, reason=codes.ClosureReason.DUPLICATE
    )


def test_status_page_offers_the_allowed_transitions(world: World) -> None:
    response = logged_in(world.doctor_a).get(status_url(world.patient_a))
    offered = [value for value, _label in response.context["form"].fields["to_status"].choices if value]
    assert offered == [codes.Status.LOST, codes.Status.REFUSED, codes.Status.DEAD, codes.Status.CLOSED]


def test_lost_with_a_reason(world: World) -> None:
    response = post_status(
        world.doctor_a, world.patient_a, to_status=codes.Status.LOST, lost_reason=codes.LostReason.MIGRANT_WORK
    )
    assert response.status_code == 302
    patient = reload(world.patient_a)
    assert (patient.status, patient.status_since) == (codes.Status.LOST, TODAY)
    change = patient.status_changes.latest("id")
    assert change.lost_reason == codes.LostReason.MIGRANT_WORK and change.actor == world.doctor_a
    assert AuditEvent.objects.latest("id").action == Action.STATUS_CHANGE


def test_death_with_physical_cause(world: World) -> None:
    response = post_status(
        world.doctor_a,
        world.patient_a,
        to_status=codes.Status.DEAD,
        death_cause=codes.DeathCause.PHYSICAL,
        death_subcause=codes.PhysicalDeathCause.HEART,
    )
    assert response.status_code == 302
    assert reload(world.patient_a).status == codes.Status.DEAD


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"to_status": codes.Status.LOST}, "请选择失访原因"),
        ({"to_status": codes.Status.DEAD}, "请选择死亡原因"),
        ({"to_status": codes.Status.DEAD, "death_cause": codes.DeathCause.PHYSICAL}, "请选择具体疾病类别"),
        ({"to_status": codes.Status.CLOSED}, "请选择注销原因"),
        ({"to_status": ""}, "请选择新的状态"),
        ({"to_status": codes.Status.ACTIVE}, "选择一个有效的选项"),  # already ACTIVE
        ({"to_status": codes.Status.REFUSED, "effective_date": FUTURE}, "不能晚于今天"),
        ({"to_status": codes.Status.REFUSED, "effective_date": "2000-01-01"}, "不能早于建档日期"),
        ({"to_status": codes.Status.REFUSED, "note": "说" * 201}, "200"),
    ],
)
def test_bad_status_changes_show_a_message_and_write_nothing(
    world: World, values: dict[str, Any], message: str
) -> None:
    before = writes()
    response = post_status(world.doctor_a, world.patient_a, **values)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert writes() == before
    assert reload(world.patient_a).status == codes.Status.ACTIVE
    shown = AuditEvent.objects.latest("id")
    assert (shown.action, shown.detail.get("redisplay")) == (Action.VIEW, True)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"to_status": codes.Status.LOST, "lost_reason": "abc"}, "lost_reason"),
        ({"to_status": codes.Status.CLOSED, "closure_reason": "77"}, "closure_reason"),
        (
            {"to_status": codes.Status.DEAD, "death_cause": codes.DeathCause.PHYSICAL, "death_subcause": "999"},
            "death_subcause",
        ),
    ],
)
def test_an_invalid_reason_gets_one_message_not_two(world: World, values: dict[str, Any], field: str) -> None:
    before = writes()
    response = post_status(world.doctor_a, world.patient_a, **values)
    assert response.status_code == 200
    assert len(response.context["form"].errors[field]) == 1
    assert writes() == before


def test_closing_creates_a_request_not_a_closure(world: World) -> None:
    response = post_status(
        world.doctor_a, world.patient_a, to_status=codes.Status.CLOSED, closure_reason=codes.ClosureReason.MOVED_OUT
    )
    assert response.status_code == 302
    closure = ClosureRequest.objects.get(patient=world.patient_a)
    assert closure.decision == ClosureRequest.Decision.PENDING and closure.requested_by == world.doctor_a
    assert reload(world.patient_a).status == codes.Status.ACTIVE
    again = logged_in(world.doctor_a).get(status_url(world.patient_a))
    assert codes.Status.CLOSED not in [value for value, _ in again.context["form"].fields["to_status"].choices]
    assert "已有待审核的注销申请" in again.content.decode()


def test_a_second_doctor_confirms_a_closure(world: World) -> None:
    closure = request_closure(world)
    page = logged_in(world.doctor_a2).get(review_url(closure))
    assert "确认注销" in page.content.decode()
    response = logged_in(world.doctor_a2).post(review_url(closure), {"decision": "confirm"})
    assert response.status_code == 302
    closure.refresh_from_db()
    assert closure.decision == ClosureRequest.Decision.CONFIRMED and closure.decided_by == world.doctor_a2
    patient = reload(world.patient_a)
    assert patient.status == codes.Status.CLOSED
    change = patient.status_changes.latest("id")
    assert (change.actor, change.confirmed_by) == (world.doctor_a, world.doctor_a2)


def test_county_staff_may_reject_a_closure(world: World) -> None:
    closure = request_closure(world)
    response = logged_in(world.county_d).post(review_url(closure), {"decision": "reject"})
    assert response.status_code == 302
    closure.refresh_from_db()
    assert closure.decision == ClosureRequest.Decision.REJECTED
    assert reload(world.patient_a).status == codes.Status.ACTIVE


def test_the_requester_cannot_confirm_their_own_closure(world: World) -> None:
    closure = request_closure(world)
    client = logged_in(world.doctor_a)
    page = client.get(review_url(closure)).content.decode()
    assert "您是申请人" in page and 'value="confirm"' not in page
    before = writes()
    response = client.post(review_url(closure), {"decision": "confirm"})
    assert response.status_code == 200
    assert "另一人审核" in response.content.decode()
    assert writes() == before
    closure.refresh_from_db()
    assert closure.decision == ClosureRequest.Decision.PENDING


def test_a_decided_closure_cannot_be_decided_again(world: World) -> None:
    closure = request_closure(world)
    logged_in(world.doctor_a2).post(review_url(closure), {"decision": "reject"})
    response = logged_in(world.county_d).post(review_url(closure), {"decision": "confirm"})
    assert response.status_code == 200
    assert "已驳回" in response.content.decode()
    closure.refresh_from_db()
    assert closure.decision == ClosureRequest.Decision.REJECTED


def test_a_bad_decision_value_is_refused(world: World) -> None:
    closure = request_closure(world)
    before = writes()
    response = logged_in(world.doctor_a2).post(review_url(closure), {"decision": "maybe"})
    assert response.status_code == 200
    assert "请选择确认或驳回" in response.content.decode()
    assert writes() == before


def test_county_staff_review_page_is_masked(world: World) -> None:
    closure = request_closure(world)
    html = logged_in(world.county_d).get(review_url(closure)).content.decode()
    assert world.patient_a.name not in html and "确认注销" in html


@pytest.mark.parametrize(
    ("query", "to_status", "reason"),
    [
        ("?to=LOST&lost_reason=4", "LOST", 4),
        ("?to=LOST&lost_reason=99", "LOST", None),  # an unknown reason is not proposed
        ("?to=NOPE&lost_reason=4", None, None),  # nor a status that does not exist
        ("?to=ACTIVE", None, None),  # nor one the patient cannot move to (already active)
    ],
)
def test_a_link_may_propose_a_change_but_never_makes_it(world: World, query: str, to_status: Any, reason: Any) -> None:
    client = Client()
    client.force_login(world.doctor_a)
    url = reverse("registry:status_change", kwargs={"patient_uuid": world.patient_a.uuid})
    response = client.get(url + query)
    form = response.context["form"]
    assert (form.initial.get("to_status"), form.initial.get("lost_reason")) == (to_status, reason)
    world.patient_a.refresh_from_db()
    assert world.patient_a.status == "ACTIVE"
