"""The patient list: search over encrypted identity, filters, pagination, masking, audit and query counts."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from casemgmt.audit.models import Action, AuditEvent
from registry import codes
from registry.models import Patient
from tests.base import World
from tests.base import make_patient as base_make_patient

pytestmark = pytest.mark.django_db
LIST = reverse("registry:patient_list")


_births = (dt.date(1950, 1, 1) + dt.timedelta(days=n) for n in itertools.count())


def make_patient(actor: Any, village: Any, **overrides: Any) -> Patient:
    """A patient with a birth date of its own, so that the synthetic ID numbers never collide."""
    overrides.setdefault("birth_date", next(_births))
    return base_make_patient(actor, village, **overrides)


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def shown(response: Any) -> list[Any]:
    return [row.uuid for row in response.context["rows"]]


def search_url(client: Client, params: dict[str, Any]) -> str:
    """Searches are POSTed and shown at ?s=<token>; the URL to GET for these parameters."""
    if "q" not in params:
        return LIST + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
    response = client.post(LIST, params)
    assert response.status_code == 302
    return str(response["Location"])


def audit_text() -> str:
    """Everything audit rows hold besides UUIDs, to check that no identity leaked into them."""
    return json.dumps([[e.action, e.purpose, e.detail] for e in AuditEvent.objects.all()], ensure_ascii=False)


# --- search --------------------------------------------------------------------------------------------------


def test_exact_id_number_search(world: World) -> None:
    number = world.patient_a.national_id
    response = logged_in(world.doctor_a).post(LIST, {"q": number.lower()}, follow=True)
    assert shown(response) == [world.patient_a.uuid]
    assert response.context["result"].kind == "national_id"


def test_id_number_with_a_wrong_check_digit_says_so(world: World) -> None:
    number = world.patient_a.national_id
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    response = logged_in(world.doctor_a).post(LIST, {"q": wrong}, follow=True)
    assert shown(response) == []
    assert "校验不通过" in response.content.decode()


def test_id_number_of_another_township_finds_nothing(world: World) -> None:
    response = logged_in(world.doctor_a).post(LIST, {"q": world.patient_b.national_id}, follow=True)
    assert shown(response) == []


def test_phone_ending_and_full_phone(world: World) -> None:
    client = logged_in(world.doctor_a)
    phone = world.patient_a.phone
    assert world.patient_a.uuid in shown(client.post(LIST, {"q": phone[-4:]}, follow=True))
    assert shown(client.post(LIST, {"q": phone}, follow=True)) == [world.patient_a.uuid]
    assert shown(client.post(LIST, {"q": world.patient_b.phone}, follow=True)) == []


def test_too_few_digits_asks_for_more(world: World) -> None:
    response = logged_in(world.doctor_a).post(LIST, {"q": "12"}, follow=True)
    assert shown(response) == []
    assert response.context["result"].notice


def test_name_search_exact_and_partial(world: World) -> None:
    exact = make_patient(world.doctor_a, world.village_a1, name="欧阳明华")
    partial = make_patient(world.doctor_a, world.village_a2, name="李明华")
    make_patient(world.doctor_a, world.village_a2, name="王建国")
    client = logged_in(world.doctor_a)
    assert shown(client.post(LIST, {"q": "欧阳明华"}, follow=True)) == [exact.uuid]
    # Exact matches come first, then substring matches newest first.
    assert set(shown(client.post(LIST, {"q": "明华"}, follow=True))) == {exact.uuid, partial.uuid}
    assert shown(client.post(LIST, {"q": " 欧阳 明华 "}, follow=True)) == [exact.uuid]


def test_name_search_stays_inside_visibility(world: World) -> None:
    other = make_patient(world.doctor_b, world.village_b1, name="赵子涵")
    assert shown(logged_in(world.doctor_a).post(LIST, {"q": "赵子涵"}, follow=True)) == []
    assert shown(logged_in(world.doctor_b).post(LIST, {"q": "子涵"}, follow=True)) == [other.uuid]


def test_name_scan_is_capped_and_says_so_but_exact_names_are_still_found(world: World, settings: Any) -> None:
    settings.PATIENT_NAME_SCAN_LIMIT = 2
    oldest = make_patient(world.doctor_a, world.village_a1, name="孙悟空", registered_on=world.patient_a.registered_on)
    for _ in range(3):
        make_patient(world.doctor_a, world.village_a1, name="猪八戒")
    client = logged_in(world.doctor_a)
    partial = client.post(LIST, {"q": "悟空"}, follow=True)
    assert partial.context["result"].capped
    assert "只查找了最近建档的 2 份档案" in partial.content.decode()
    assert oldest.uuid not in shown(partial)
    assert shown(client.post(LIST, {"q": "孙悟空"}, follow=True)) == [oldest.uuid]


def test_phone_scan_is_capped_and_says_so(world: World, settings: Any) -> None:
    settings.PATIENT_NAME_SCAN_LIMIT = 1
    for _ in range(2):
        make_patient(world.doctor_a, world.village_a1, phone="13900005678")
    response = logged_in(world.doctor_a).post(LIST, {"q": "5678"}, follow=True)
    assert response.context["result"].capped
    html = response.content.decode()
    assert "手机号检索只核对了最近建档的 1 份候选档案" in html and "姓名模糊检索" not in html


# --- filters and pages ---------------------------------------------------------------------------------------


def test_filters_village_disorder_status(world: World) -> None:
    a2 = make_patient(world.doctor_a, world.village_a2, disorder=codes.Disorder.BIPOLAR)
    refused = make_patient(world.doctor_a, world.village_a1, consent=0)
    client = logged_in(world.doctor_a)
    assert shown(client.get(LIST, {"village": world.village_a2.code})) == [a2.uuid]
    assert shown(client.get(LIST, {"disorder": codes.Disorder.BIPOLAR})) == [a2.uuid]
    assert shown(client.get(LIST, {"status": codes.Status.REFUSED})) == [refused.uuid]


def test_village_select_lists_only_the_users_villages(world: World) -> None:
    response = logged_in(world.doctor_a).get(LIST)
    html = response.content.decode()
    assert world.village_a1.name in html and world.village_a2.name in html
    assert world.village_b1.name not in html


def test_bad_filter_values_are_reported_not_500(world: World) -> None:
    response = logged_in(world.doctor_a).get(
        LIST, {"status": "NOPE", "disorder": "x", "village": world.village_b1.code, "page": "abc"}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"status", "disorder", "village"}
    assert shown(response) == [world.patient_a.uuid]  # invalid filters are ignored


def test_pending_closure_filter(world: World) -> None:
    from registry.patients import services

    other = make_patient(world.doctor_a, world.village_a1)
    services.request_closure(
        actor=world.doctor_a, patient=other, effective_date=other.registered_on, reason=codes.ClosureReason.DUPLICATE
    )
    response = logged_in(world.doctor_a2).get(LIST, {"pending_closure": "on"})
    assert shown(response) == [other.uuid]
    assert response.context["rows"][0].pending_closure


def test_pagination(world: World, settings: Any) -> None:
    settings.PATIENT_LIST_PAGE_SIZE = 2
    for _ in range(4):
        make_patient(world.doctor_a, world.village_a1)
    client = logged_in(world.doctor_a)
    first, last = client.get(LIST), client.get(LIST, {"page": 3})
    assert len(shown(first)) == 2 and len(shown(last)) == 1
    assert client.get(LIST, {"page": 99}).context["page"].number == 3
    assert 'page=2"' in first.content.decode()
    pages = {*shown(first), *shown(client.get(LIST, {"page": 2})), *shown(last)}
    assert len(pages) == 5


def test_pagination_of_name_search_keeps_the_query(world: World, settings: Any) -> None:
    settings.PATIENT_LIST_PAGE_SIZE = 2
    for _ in range(3):
        make_patient(world.doctor_a, world.village_a1, name="周杰")
    client = logged_in(world.doctor_a)
    url = search_url(client, {"q": "周杰"})
    response = client.get(url + "&page=2")
    assert len(shown(response)) == 1
    token = url.split("s=")[1]
    assert f"s={token}&amp;page=1" in response.content.decode()
    assert "周杰" not in url and "%E5%91%A8" not in response.content.decode()


def test_a_term_typed_into_the_address_is_not_echoed_into_the_links(world: World, settings: Any) -> None:
    """?q=<an ID number> in the URL (a bookmark, a hand-edited link) is ignored and never repeated in the
    pagination links, where it would spread into more URLs and logs."""
    settings.PATIENT_LIST_PAGE_SIZE = 2
    for _ in range(3):
        make_patient(world.doctor_a, world.village_a1)
    id_number = world.patient_a.national_id
    body = logged_in(world.doctor_a).get(LIST, {"q": id_number}).content.decode()
    assert "page=2" in body
    assert id_number not in body and "q=" not in body


# --- masking and audit ---------------------------------------------------------------------------------------


def test_county_staff_see_masked_identity(world: World) -> None:
    response = logged_in(world.county_d).get(LIST)
    html = response.content.decode()
    assert set(shown(response)) == {world.patient_a.uuid, world.patient_b.uuid}
    for patient in (world.patient_a, world.patient_b):
        assert patient.name not in html
        assert patient.national_id not in html
        assert patient.national_id[:4] + "*" * 10 + patient.national_id[-4:] in html


def test_doctor_sees_names_and_id_numbers(world: World) -> None:
    html = logged_in(world.doctor_a).get(LIST).content.decode()
    assert world.patient_a.name in html and world.patient_a.national_id in html


def test_one_list_event_with_the_uuids_shown(world: World) -> None:
    before = AuditEvent.objects.count()
    logged_in(world.county_d).get(LIST)
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.filter(actor=world.county_d).get()
    assert event.action == Action.LIST
    assert {s.patient_uuid for s in event.subjects.all()} == {world.patient_a.uuid, world.patient_b.uuid}


def test_search_events_hold_no_search_terms(world: World) -> None:
    client = logged_in(world.doctor_a)
    patient = world.patient_a
    terms = [patient.name, patient.name[1:], patient.national_id, patient.phone, patient.phone[-4:]]
    for term in terms:
        client.post(LIST, {"q": term}, follow=True)
    actions = AuditEvent.objects.filter(actor=world.doctor_a).exclude(action=Action.CREATE).values_list("action")
    assert {action for (action,) in actions} == {Action.SEARCH, Action.IDENTITY_PROBE}  # the ID number: a probe
    text = audit_text()
    for term in terms:
        assert term not in text


# --- query counts --------------------------------------------------------------------------------------------


def _count_queries(client: Client, params: dict[str, Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = search_url(client, params)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "params",
    [{}, {"status": "ACTIVE", "village": "320508001001"}, {"q": "周杰"}, {"q": "1234"}, {"q": "NATIONAL_ID"}],
    ids=["plain", "filtered", "name", "phone", "national_id"],
)
def test_query_count_does_not_grow_with_rows_or_page_size(world: World, settings: Any, params: dict[str, Any]) -> None:
    first = make_patient(world.doctor_a, world.village_a1, name="周杰", phone="13900001234")
    if params.get("q") == "NATIONAL_ID":
        params = {"q": first.national_id}
    client = logged_in(world.doctor_a)
    client.get(LIST)  # the session row exists from here on, as for every later request
    settings.PATIENT_LIST_PAGE_SIZE = 2
    few = _count_queries(client, params)
    for _ in range(6):
        make_patient(world.doctor_a, world.village_a1, name="周杰", phone="13900001234")
    settings.PATIENT_LIST_PAGE_SIZE = 5
    many = _count_queries(client, params)
    assert few == many


# Every page: session, user, memberships, live grants, the villages of the filter, then the search and the page,
# then the audit event and its subjects, then the session save (savepoint, update, release).
# A search by ID number also finds the number's holder wherever they are and audits the probe (issue 14 §2).
PINNED = {"plain": 12, "national_id": 15, "name": 13, "phone": 12}


def test_pinned_query_counts_of_the_list_page(world: World, django_assert_num_queries: Any) -> None:
    for _ in range(5):
        make_patient(world.doctor_a, world.village_a1, name="张三丰")
    client = logged_in(world.doctor_a)
    client.get(LIST)
    by_id = search_url(client, {"q": world.patient_a.national_id})
    by_name = search_url(client, {"q": "张"})
    by_phone = search_url(client, {"q": world.patient_a.phone[-4:]})
    with django_assert_num_queries(PINNED["plain"]):  # count + page rows
        client.get(LIST)
    with django_assert_num_queries(PINNED["national_id"]):  # count + page rows + holder + probe event, subjects
        client.get(by_id)
    with django_assert_num_queries(PINNED["name"]):  # exact candidates + bounded scan + page rows, no count
        client.get(by_name)
    with django_assert_num_queries(PINNED["phone"]):  # candidates + page rows, no count
        client.get(by_phone)


@pytest.mark.parametrize(
    ("text", "kind", "term"),
    [
        ("", "none", ""),
        ("   ", "none", ""),
        ("11010519491231002x", "national_id", "11010519491231002X"),
        ("110105 19491231 0021", "national_id", "110105194912310021"),
        ("1234", "phone", "1234"),
        ("138-0000-1234", "phone", "13800001234"),
        ("１２３４", "phone", "1234"),  # full-width digits from a Chinese keyboard
        ("123", "too_short", "123"),
        ("张三", "name", "张三"),
        ("Zhang San", "name", "ZHANGSAN"),
    ],
)
def test_classify_the_search_box(text: str, kind: str, term: str) -> None:
    from registry.patients.search import classify

    assert classify(text) == (kind, term)


# --- search terms never in URLs ------------------------------------------------------------------------------


def test_search_terms_are_posted_and_never_appear_in_the_url(world: World) -> None:
    client = logged_in(world.doctor_a)
    number = world.patient_a.national_id
    response = client.post(LIST, {"q": number, "status": "ACTIVE"})
    assert response.status_code == 302
    location = response["Location"]
    assert number not in location and "q=" not in location
    assert "status=ACTIVE" in location
    assert shown(client.get(location)) == [world.patient_a.uuid]


def test_the_session_row_holds_search_terms_only_encrypted(world: World) -> None:
    from django.contrib.sessions.models import Session

    client = logged_in(world.doctor_a)
    patient = world.patient_a
    terms = [patient.national_id, patient.name, patient.phone]
    for term in terms:
        client.post(LIST, {"q": term})
    stored = json.dumps(Session.objects.get(session_key=client.session.session_key).get_decoded(), ensure_ascii=False)
    for term in terms:
        assert term not in stored


def test_a_tampered_search_token_counts_as_expired(world: World) -> None:
    from registry.patients.search import SESSION_KEY

    client = logged_in(world.doctor_a)
    location = search_url(client, {"q": world.patient_a.national_id})
    token = location.split("s=")[1]
    session = client.session
    searches = session[SESSION_KEY]
    searches["other"] = searches.pop(token)  # a sealed term moved to another token does not decrypt
    session[SESSION_KEY] = searches
    session.save()
    response = client.get(LIST, {"s": "other"})
    assert response.status_code == 200
    assert "检索已过期" in response.content.decode()


def test_a_term_put_in_the_url_by_hand_is_ignored(world: World) -> None:
    client = logged_in(world.doctor_a)
    make_patient(world.doctor_a, world.village_a1)
    assert len(shown(client.get(LIST, {"q": world.patient_a.national_id}))) == 2


def test_an_unknown_or_expired_search_token_says_so(world: World) -> None:
    response = logged_in(world.doctor_a).get(LIST, {"s": "no-such-token"})
    assert response.status_code == 200
    assert "检索已过期" in response.content.decode()


def test_a_case_team_member_sees_identity_and_village_only(world: World) -> None:
    """issue 14 §5 / domain.md §8: no diagnosis category, status, age or registration date, and no filter that
    would reveal them (a disorder filter is ignored, not applied)."""
    client = logged_in(world.police_c)
    body = client.get(LIST).content.decode()
    assert world.patient_a.name in body
    for hidden in (
        "诊断类别",
        "建档日期",
        "年龄",
        'name="disorder"',
        'name="status"',
        world.patient_a.get_disorder_display(),
    ):
        assert hidden not in body, hidden
    other_disorder = next(code for code in range(1, 7) if code != world.patient_a.disorder)
    probed = client.get(LIST, {"disorder": other_disorder}).content.decode()
    assert world.patient_a.name in probed  # the filter did not apply: nothing learnt about the diagnosis
