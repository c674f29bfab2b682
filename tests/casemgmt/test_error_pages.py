"""The refusal pages (issue 13 §6): one Chinese page inside the site's frame for "not found" and "not yours", and
Chinese 403, CSRF-failure, 405 and 500 pages. A 404 never tells whether the record exists."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from tests.base import World, comparable_page

pytestmark = pytest.mark.django_db

NOT_FOUND = "未找到该页面或记录"


def client_for(user: object | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)  # type: ignore[arg-type]
    return client


def test_an_unknown_address_gets_the_chinese_page_with_a_way_back(world: World) -> None:
    response = Client().get("/no/such/page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert NOT_FOUND in body and 'href="/login/"' in body and "Not Found" not in body


def test_not_yours_and_not_there_are_the_same_page(world: World) -> None:
    """doctor_b asks for township A's patient and for a UUID that exists nowhere: the pages are identical."""
    client = client_for(world.doctor_b)
    theirs = client.get(reverse("registry:patient_detail", kwargs={"patient_uuid": world.patient_a.uuid}))
    nowhere = client.get(reverse("registry:patient_detail", kwargs={"patient_uuid": uuid.uuid4()}))
    assert theirs.status_code == nowhere.status_code == 404
    assert comparable_page(theirs.content) == comparable_page(nowhere.content)
    body = theirs.content.decode()
    assert NOT_FOUND in body and 'class="mainnav"' in body  # inside the frame, with the navigation


def test_a_read_only_user_who_writes_gets_the_chinese_403(world: World) -> None:
    client = client_for(world.county_d)
    response = client.get(reverse("followup:followup_new", kwargs={"patient_uuid": world.patient_a.uuid}))
    assert response.status_code == 403
    body = response.content.decode()
    assert "您没有进行此操作的权限" in body and 'class="mainnav"' in body and "Forbidden" not in body


def test_a_wrong_method_gets_the_chinese_405_with_its_allow_header(world: World) -> None:
    response = client_for(world.doctor_a).post(reverse("followup:worklist"))
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert "此页面不支持这种操作" in response.content.decode()


def test_an_expired_form_gets_the_chinese_csrf_page(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.doctor_a)
    response = client.post(reverse("registry:patient_register"), {"name": "x"})
    body = response.content.decode()
    assert response.status_code == 403
    assert "页面已过期，请重新提交" in body and 'class="mainnav"' in body and "CSRF" not in body


def test_the_server_error_page_needs_nothing_but_a_template() -> None:
    response = server_error(RequestFactory().get("/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert "系统出错，请稍后重试" in body and "没有保存" in body


def test_pages_are_english_when_asked(world: World) -> None:
    response = Client(headers={"accept-language": "en"}).get("/no/such/page/")
    assert response.status_code == 404
    assert "not found" in response.content.decode().lower()


def test_every_page_carries_the_strict_policy(world: World) -> None:
    response = Client().get("/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
