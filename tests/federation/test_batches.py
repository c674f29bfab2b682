"""The national side's receiver and report, in one process: batches signed as a province would sign them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from federation import signing
from federation.envelope import digest
from federation.models import FederatedDocument
from federation.national import country_document
from federation.publish import batch_body, documents_for, period_keys, published_areas
from metrics.indicators.definitions import INDICATOR_NAMES
from metrics.indicators.options import default_options
from metrics.indicators.periods import parse_period
from tests.base import TODAY
from tests.federation.world import Federation, build_federation

pytestmark = pytest.mark.django_db
URL = "/api/v1/federation/batches"
PERIOD = str(TODAY.year)


@pytest.fixture
def federation(settings: Any) -> Federation:
    world = build_federation()
    settings.FEDERATION_PROVINCE_KEYS = world.trusted()
    return world


def body_of(province: str, period_key: str = PERIOD) -> bytes:
    period = parse_period(period_key)
    documents = documents_for(published_areas(province), period, default_options())
    return batch_body(province, period, default_options(), documents)


def post(body: bytes, province: str, seed: str, **headers: str) -> Any:
    return Client().post(
        URL,
        data=body,
        content_type="application/json",
        headers={signing.PROVINCE_HEADER: province, signing.SIGNATURE_HEADER: signing.sign(body, seed), **headers},
    )


def test_a_signed_batch_is_stored_and_sending_it_again_changes_nothing(federation: Federation) -> None:
    body = body_of("34")
    first = post(body, "34", federation.keys["34"][0])
    assert first.status_code == 200, first.content
    assert first.json() == {"created": 3, "updated": 0, "unchanged": 0, "stale": 0}  # province, city, county
    stored = {doc.area_code: doc for doc in FederatedDocument.objects.all()}
    assert set(stored) == {"340000000000", "340200000000", "340202000000"}
    assert stored["340000000000"].document["counts"]["registered"] == 6
    again = post(body, "34", federation.keys["34"][0])
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 3, "stale": 0}
    assert FederatedDocument.objects.count() == 3


def test_small_counts_of_counties_are_suppressed_before_they_leave(federation: Federation) -> None:
    post(body_of("32"), "32", federation.keys["32"][0])
    county = FederatedDocument.objects.get(area_code="320508000000").document
    assert county["counts"]["registered"] is None and "registered" in county["suppressed_counts"]
    assert county["indicators"]["management_rate"]["suppressed"] is True
    city = FederatedDocument.objects.get(area_code="320500000000").document
    assert city["counts"]["registered"] == 2  # above county level: shown


@pytest.mark.parametrize(
    ("tamper", "status"),
    [
        ("body", 403),  # changed after signing
        ("other_key", 403),  # signed with another province's key
        ("unknown_province", 403),
    ],
)
def test_a_batch_not_signed_by_its_province_is_refused(federation: Federation, tamper: str, status: int) -> None:
    body = body_of("34")
    seed = federation.keys["34"][0]
    province = "34"
    if tamper == "other_key":
        seed = federation.keys["32"][0]
    if tamper == "unknown_province":
        province = "11"
    signature = signing.sign(body, seed)
    if tamper == "body":
        body = body.replace(b'"registered":6', b'"registered":7')
    response = Client().post(
        URL,
        data=body,
        content_type="application/json",
        headers={signing.PROVINCE_HEADER: province, signing.SIGNATURE_HEADER: signature},
    )
    assert response.status_code == status
    assert "签名无效" in response.json()["error"]
    assert not FederatedDocument.objects.exists()


def test_a_province_cannot_publish_another_provinces_areas(federation: Federation) -> None:
    response = post(body_of("32"), "34", federation.keys["34"][0])  # Jiangsu's documents under Anhui's key
    assert response.status_code == 400
    assert "省份" in response.json()["error"]
    raw = json.loads(body_of("34"))
    raw["documents"][0]["area"]["code"] = "320508000000"
    response = post(json.dumps(raw).encode(), "34", federation.keys["34"][0])
    assert response.status_code == 400 and "不属于本省" in response.json()["error"]
    assert not FederatedDocument.objects.exists()


def test_anything_beyond_the_aggregates_is_dropped(federation: Federation) -> None:
    raw = json.loads(body_of("34"))
    raw["documents"][0]["patients"] = [{"name": "张三", "national_id": "110101199003076517"}]
    raw["documents"][0]["counts"]["note"] = "张三"
    raw["documents"][0]["area"]["id_number"] = "110101199003076517"
    response = post(json.dumps(raw, ensure_ascii=False).encode(), "34", federation.keys["34"][0])
    assert response.status_code == 200
    stored = json.dumps([doc.document for doc in FederatedDocument.objects.all()], ensure_ascii=False)
    assert "张三" not in stored and "110101199003076517" not in stored and "patients" not in stored


def test_an_older_batch_arriving_late_does_not_replace_a_newer_one(federation: Federation) -> None:
    newer = json.loads(body_of("34"))
    older = json.loads(json.dumps(newer))
    for document in older["documents"]:
        document["computed_at"] = "2000-01-01T00:00:00+08:00"
        document["counts"]["lost"] = 1
    seed = federation.keys["34"][0]
    assert post(json.dumps(newer).encode(), "34", seed).json()["created"] == 3
    late = post(json.dumps(older).encode(), "34", seed).json()
    assert late == {"created": 0, "updated": 0, "unchanged": 0, "stale": 3}
    assert FederatedDocument.objects.get(area_code="340000000000").digest == digest(
        FederatedDocument.objects.get(area_code="340000000000").document
    )
    assert FederatedDocument.objects.get(area_code="340000000000").document["counts"]["lost"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "JSON"),
        (b'{"format": "other"}', "格式"),
        (b'{"format": "jingfang-federation/1", "province": "34", "period": "2025-13x"}', "统计期"),
    ],
)
def test_a_malformed_batch_gets_a_chinese_message(federation: Federation, body: bytes, message: str) -> None:
    response = post(body, "34", federation.keys["34"][0])
    assert response.status_code == 400 and message in response.json()["error"]


def test_other_options_than_the_national_ones_are_refused(federation: Federation) -> None:
    raw = json.loads(body_of("34"))
    raw["options"]["deaths_in_period"] = "included"
    response = post(json.dumps(raw).encode(), "34", federation.keys["34"][0])
    assert response.status_code == 400 and "口径" in response.json()["error"]


def test_oversized_batches_and_other_methods_are_refused(federation: Federation, settings: Any) -> None:
    settings.FEDERATION_MAX_BATCH_BYTES = 100
    assert post(body_of("34"), "34", federation.keys["34"][0]).status_code == 413
    assert Client().get(URL).status_code == 405


def test_an_instance_that_is_not_national_has_no_such_endpoint(federation: Federation, settings: Any) -> None:
    settings.FEDERATION_PROVINCE_KEYS = []
    assert post(body_of("34"), "34", federation.keys["34"][0]).status_code == 404


def test_the_country_is_the_sum_of_the_provinces(federation: Federation) -> None:
    for province in ("32", "34"):
        assert post(body_of(province), province, federation.keys[province][0]).status_code == 200
    country = country_document(PERIOD, default_options(), name="全国", children=True)
    assert country is not None
    provinces = [FederatedDocument.objects.get(area_code=code).document for code in ("320000000000", "340000000000")]
    for name in INDICATOR_NAMES:
        numerator = sum(doc["indicators"][name]["numerator"] for doc in provinces)
        assert country["indicators"][name]["numerator"] == numerator
    assert country["counts"]["registered"] == 8
    assert [child["area"]["code"] for child in country["children"]] == ["320000000000", "340000000000"]
    assert country["provinces"] == ["32", "34"]


def test_every_slot_of_the_years_that_began() -> None:
    import datetime as dt

    keys = list(period_keys(dt.date(2026, 5, 20), 1))
    assert keys[:3] == ["2026", "2026-Q1", "2026-Q2"]
    assert "2026-05" in keys and "2026-YTD-05" in keys and "2026-06" not in keys and "2026-Q3" not in keys
    assert len(list(period_keys(dt.date(2026, 5, 20), 2))) == 1 + 4 + 24 + 1 + 2 + 10


def get_indicators(plain: str | None, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {plain}"} if plain else {}
    return Client().get("/api/v1/federation/indicators", params, headers=headers)


def test_the_national_report_is_served_to_staff_over_the_provinces_it_covers(federation: Federation) -> None:
    from casemgmt.accounts.models import Role
    from casemgmt.api.tokens import issue
    from casemgmt.audit.models import AuditEvent
    from tests.base import make_user

    for province in ("32", "34"):
        post(body_of(province), province, federation.keys[province][0])
    anhui = federation.world.province.__class__.objects.get(code="340000000000")
    national_staff = make_user("national_n", Role.AREA_STAFF, federation.world.province, anhui)
    anhui_staff = make_user("anhui_s", Role.AREA_STAFF, anhui)
    _, national_token = issue(national_staff, name="n", days=30)
    _, anhui_token = issue(anhui_staff, name="a", days=30)

    country = get_indicators(national_token, area="all", period=PERIOD, children="1")
    assert country.status_code == 200 and country.json()["counts"]["registered"] == 8
    assert len(country.json()["children"]) == 2
    assert AuditEvent.objects.filter(actor=national_staff, detail__report="federated_indicators").count() == 1
    assert get_indicators(anhui_token, area="all", period=PERIOD).status_code == 404  # does not cover Jiangsu
    own = get_indicators(anhui_token, area="3402", period=PERIOD)
    assert own.status_code == 200 and own.json()["area"]["name"] == "芜湖市" and own.json()["children"] == []
    assert get_indicators(anhui_token, area="32", period=PERIOD).status_code == 404
    assert get_indicators(anhui_token, area="3402", period="2026-13").status_code == 400
    assert get_indicators(None, area="all", period=PERIOD).status_code == 401
