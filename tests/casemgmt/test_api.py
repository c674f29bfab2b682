"""The machine API (/api/v1/): token authentication, the account's own visibility, roles, audit, rate limit and
JSON errors (issue 16 §6)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from casemgmt.accounts.models import ApiToken, User
from casemgmt.audit.models import Action, AuditEvent, AuditSubject
from tests.base import TODAY, World, make_user
from tests.followup.base import reached_data, record

pytestmark = pytest.mark.django_db


def token_for(user: User, *, days: int = 30) -> str:
    from casemgmt.api import tokens

    return tokens.issue(user, name="测试", days=days)[1]


def call(token: str | None, path: str, params: dict[str, str] | None = None, client: Client | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return (client or Client()).get(path, params or {}, headers=headers)


def unstable(world: World) -> None:
    """patient_a on doctor_a's work list (unstable, due within days)."""
    record(world.patient_a, world.doctor_a, reached_data(classification=1, next_date=TODAY + dt.timedelta(days=3)))


# --- authentication --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/indicators", "/api/v1/patients", "/api/v1/worklist"])
def test_no_token_is_401_json_with_the_bearer_challenge(world: World, path: str) -> None:
    response = call(None, path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Content-Type"] == "application/json" and "令牌" in response.json()["error"]


@pytest.mark.parametrize("header", ["Bearer jf_00000000_nothing", "Bearer x", "Basic abc", "Bearer jf_\x01_x"])
def test_an_unknown_or_malformed_token_is_401(world: World, header: str) -> None:
    response = Client().get("/api/v1/worklist", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


def test_a_wrong_secret_with_a_real_prefix_is_401(world: World) -> None:
    token = token_for(world.doctor_a)
    assert call(token[:-2] + "zz", "/api/v1/worklist").status_code == 401
    assert call(token, "/api/v1/worklist").status_code == 200


def test_a_session_cookie_alone_does_not_authenticate(world: World) -> None:
    client = Client()
    client.force_login(world.doctor_a)
    assert client.get("/followup/worklist/").status_code == 200  # the session works for the pages
    response = client.get("/api/v1/worklist")
    assert response.status_code == 401 and response["Content-Type"] == "application/json"
    assert not AuditEvent.objects.filter(detail__via="api").exists()


def test_a_revoked_token_is_401(world: World) -> None:
    from casemgmt.api import tokens

    token = token_for(world.doctor_a)
    assert call(token, "/api/v1/worklist").status_code == 200
    row = ApiToken.objects.get(user=world.doctor_a)
    assert tokens.revoke(world.doctor_a, row.pk) is not None
    assert call(token, "/api/v1/worklist").status_code == 401


def test_an_expired_token_is_401(world: World) -> None:
    token = token_for(world.doctor_a)
    ApiToken.objects.filter(user=world.doctor_a).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert call(token, "/api/v1/worklist").status_code == 401


def test_a_deactivated_account_s_token_is_401(world: World) -> None:
    token = token_for(world.doctor_a)
    User.objects.filter(pk=world.doctor_a.pk).update(is_active=False)
    assert call(token, "/api/v1/worklist").status_code == 401


def test_only_the_digest_is_stored_and_use_is_stamped(world: World) -> None:
    token = token_for(world.doctor_a)
    row = ApiToken.objects.get(user=world.doctor_a)
    assert token.startswith(f"jf_{row.prefix}_") and token not in row.digest and row.last_used_at is None
    call(token, "/api/v1/worklist")
    row.refresh_from_db()
    assert row.last_used_at is not None


# --- roles and visibility --------------------------------------------------------------------------------------


def test_case_member_and_admin_tokens_are_403(world: World) -> None:
    from casemgmt.api import tokens

    with pytest.raises(PermissionError):
        tokens.issue(world.police_c, name="x", days=1)
    # A token issued while the account was a doctor: the role changed since.
    token = token_for(world.doctor_b)
    for role in ("case_member", "admin"):
        User.objects.filter(pk=world.doctor_b.pk).update(role=role)
        for path in ("/api/v1/worklist", "/api/v1/indicators", "/api/v1/patients"):
            response = call(token, path, {"area": "320508", "set": "registered"})
            assert response.status_code == 403, (role, path)
            assert response["Content-Type"] == "application/json"


def test_a_doctor_may_not_read_indicators_and_area_staff_have_no_work_list(world: World) -> None:
    assert call(token_for(world.doctor_a), "/api/v1/indicators").status_code == 403
    assert call(token_for(world.county_d), "/api/v1/worklist").status_code == 403


def test_another_township_s_doctor_gets_404_for_the_other_area(world: World) -> None:
    unstable(world)
    token_b = token_for(world.doctor_b)
    other = call(token_b, "/api/v1/worklist", {"area": world.township_a.code})
    missing = call(token_b, "/api/v1/worklist", {"area": "320508009"})
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    own = call(token_b, "/api/v1/worklist").json()
    assert str(world.patient_a.uuid) not in str(own)
    token_a = token_for(world.doctor_a)
    body = call(token_a, "/api/v1/worklist", {"area": world.township_a.code}).json()
    assert [item["uuid"] for item in body["unstable"]] == [str(world.patient_a.uuid)]
    assert body["unstable"][0]["name"] == world.patient_a.name  # the identity as the page shows it to the doctor


def test_township_staff_get_404_for_another_township(world: World) -> None:
    officer = make_user("township_b_staff", "area_staff", world.township_b)
    token = token_for(officer)
    for path in ("/api/v1/indicators", "/api/v1/patients"):
        other = call(token, path, {"area": world.township_a.code, "period": str(TODAY.year), "set": "registered"})
        missing = call(token, path, {"area": "320508009", "period": str(TODAY.year), "set": "registered"})
        assert other.status_code == missing.status_code == 404, path
        assert other.json() == missing.json()
    own = call(token, "/api/v1/patients", {"area": world.township_b.code, "set": "registered"}).json()
    assert [row["uuid"] for row in own["patients"]] == [str(world.patient_b.uuid)]


def test_bad_parameters_are_400_in_chinese(world: World) -> None:
    token = token_for(world.county_d)
    for path, params in [
        ("/api/v1/indicators", {"period": "2025-Q9"}),
        ("/api/v1/indicators", {"area": "abc"}),
        ("/api/v1/indicators", {"area": "3205\x00"}),
        ("/api/v1/patients", {"set": "nobody"}),
        ("/api/v1/patients", {"set": "registered", "page": "x"}),
        ("/api/v1/patients", {"set": "registered", "page": "999"}),
    ]:
        response = call(token, path, params)
        assert response.status_code == 400, (path, params)
        assert any("\u4e00" <= char <= "\u9fff" for char in response.json()["error"])
    assert call(token_for(world.doctor_a), "/api/v1/worklist", {"area": "12x"}).status_code == 400


def test_unknown_paths_and_other_methods_answer_json(world: World) -> None:
    for path in ("/api/v1/nothing/here", "/api/v2/worklist", "/api/"):
        response = Client().get(path)
        assert response.status_code == 404 and response["Content-Type"] == "application/json", path
    token = token_for(world.doctor_a)
    response = Client().post("/api/v1/worklist", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 405 and response["Content-Type"] == "application/json"


# --- the documents and their audit -----------------------------------------------------------------------------


def test_the_indicator_document_is_the_exchange_document(world: World) -> None:
    session = Client()
    session.force_login(world.county_d)
    params = {"area": "320508", "period": str(TODAY.year), "children": "1"}
    page = session.get("/reports/api/indicators", params).json()
    body = call(token_for(world.county_d), "/api/v1/indicators", params).json()
    page.pop("computed_at"), body.pop("computed_at")
    assert body == page
    event = AuditEvent.objects.filter(detail__via="api").get()
    assert event.action == Action.LIST and event.actor == world.county_d and event.detail["report"] == "indicators_api"


def test_every_patient_data_response_is_audited(world: World) -> None:
    unstable(world)
    county_token = token_for(world.county_d)
    body = call(county_token, "/api/v1/patients", {"area": "320508", "set": "registered"}).json()
    listed = {row["uuid"] for row in body["patients"]}
    assert listed == {str(world.patient_a.uuid), str(world.patient_b.uuid)}
    assert body["masked"] and world.patient_a.name not in str(body)  # masked like the page
    event = AuditEvent.objects.filter(detail__via="api", actor=world.county_d).get()
    assert {str(s.patient_uuid) for s in AuditSubject.objects.filter(event=event)} == listed
    assert world.patient_a.name not in str(event.detail) and world.patient_a.national_id not in str(event.detail)

    call(token_for(world.doctor_a), "/api/v1/worklist")
    event = AuditEvent.objects.filter(detail__via="api", actor=world.doctor_a).get()
    assert event.action == Action.LIST and event.detail["page"] == "worklist"
    assert [str(s.patient_uuid) for s in AuditSubject.objects.filter(event=event)] == [str(world.patient_a.uuid)]


def test_issuing_and_revoking_are_audited(world: World) -> None:
    from casemgmt.api import tokens

    token, plain = tokens.issue(world.doctor_a, name="县平台", days=10)
    tokens.revoke(world.doctor_a, token.pk)
    events = AuditEvent.objects.filter(actor=world.doctor_a, action=Action.ACCOUNT_UPDATE).order_by("pk")
    assert [event.detail["api_token"] for event in events] == ["created", "revoked"]
    assert all(plain not in str(event.detail) for event in events)
    assert tokens.revoke(world.doctor_b, token.pk) is None  # someone else's: nothing


# --- rate limit ------------------------------------------------------------------------------------------------


def test_the_rate_limit_is_per_token_and_answers_429_json(world: World, settings: Any) -> None:
    settings.API_RATE_LIMIT = 3
    settings.API_RATE_WINDOW_SECONDS = 3600
    first, second = token_for(world.doctor_a), token_for(world.doctor_a)
    assert [call(first, "/api/v1/worklist").status_code for _ in range(3)] == [200, 200, 200]
    refused = call(first, "/api/v1/worklist")
    assert refused.status_code == 429 and refused["Retry-After"] == "3600" and "频繁" in refused.json()["error"]
    assert call(second, "/api/v1/worklist").status_code == 200


def test_the_rate_limit_holds_while_the_shared_cache_is_down(
    world: World, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.cache.backends.redis import RedisCache

    from casemgmt.api import auth

    settings.API_RATE_LIMIT = 2
    settings.API_RATE_WINDOW_SECONDS = 3600
    token = token_for(world.doctor_a)
    unreachable = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    monkeypatch.setattr(auth, "cache", unreachable)  # a real Redis client, pointed at a port nobody listens on
    assert [call(token, "/api/v1/worklist").status_code for _ in range(3)] == [200, 200, 429]


# --- the API令牌 page ------------------------------------------------------------------------------------------


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_token_page_is_for_doctors_and_area_staff_only(world: World) -> None:
    for user in (world.police_c, world.admin_e):
        client = logged_in(user)
        assert client.get("/account/api-tokens/").status_code == 403
        assert client.post("/account/api-tokens/", {"name": "x", "days": "5"}).status_code == 403
    assert not ApiToken.objects.exists()
    response = Client().get("/account/api-tokens/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert logged_in(world.county_d).get("/account/api-tokens/").status_code == 200


def test_the_token_is_shown_once_and_another_account_cannot_revoke_it(world: World) -> None:
    client = logged_in(world.doctor_a)
    created = client.post("/account/api-tokens/", {"name": "县平台", "days": "7"}).content.decode()
    token = ApiToken.objects.get()
    plain = created.split('id="new-token-value" class="token" value="')[1].split('"')[0]
    assert plain.startswith(f"jf_{token.prefix}_")
    assert plain not in client.get("/account/api-tokens/").content.decode()
    other = logged_in(world.doctor_b)
    assert other.post("/account/api-tokens/", {"revoke": str(token.pk)}).status_code == 404
    assert other.post("/account/api-tokens/", {"revoke": "9" * 30}).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None and call(plain, "/api/v1/worklist").status_code == 200
    assert client.post("/account/api-tokens/", {"revoke": str(token.pk)}).status_code == 302
    assert call(plain, "/api/v1/worklist").status_code == 401


def test_the_schema_is_served_and_names_every_endpoint(world: World) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {"/indicators", "/patients", "/worklist"}


def test_messages_are_translated_into_english(world: World) -> None:
    response = Client().get("/api/v1/worklist", headers={"Accept-Language": "en"})
    assert response.json()["error"] == "Missing or invalid API token."
    client = logged_in(world.doctor_a)
    client.cookies["django_language"] = "en"
    page = client.get("/account/api-tokens/").content.decode()
    assert "API tokens" in page and "You have no tokens yet." in page and "Create token" in page


def test_the_work_list_has_the_close_follow_up_rows_and_audits_them(world: World) -> None:
    from followup.emergencies import services as emergency_services

    now = timezone.now()
    emergency_services.record_emergency(
        actor=world.doctor_a,
        values={"occurred_at": now - dt.timedelta(hours=2), "place": "家中"},
        handler=None,
        complete=False,
        now=now,
        patient=world.patient_a,
    )
    token = token_for(world.doctor_a)
    body = call(token, "/api/v1/worklist").json()
    assert [row["uuid"] for row in body["close_follow"]] == [str(world.patient_a.uuid)]
    event = AuditEvent.objects.filter(detail__via="api").get()
    assert [str(s.patient_uuid) for s in AuditSubject.objects.filter(event=event)] == [str(world.patient_a.uuid)]
    assert call(token, "/api/v1/worklist", {"area": world.village_a2.code}).json()["close_follow"] == []
    assert call(token, "/api/v1/worklist", {"area": world.village_a1.code}).json()["close_follow"] != []
