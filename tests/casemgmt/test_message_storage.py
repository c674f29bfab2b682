"""Flash messages never travel in a cookie (issue 14 finding 9): Django's default storage puts them in a signed
but readable cookie, and some messages name a person ("已将 王秀英 加入团队。"). Kept in the server-side session,
they reach the next page and leave nothing in the browser but the session id."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import RequestFactory
from django.urls import reverse

from followup.models import CaseMember, CaseRole
from tests.base import World
from tests.followup.case_base import add, client_for, open_case

pytestmark = pytest.mark.django_db

EXTERNAL_NAME = "郜网格"


def cookie_messages(response: Any) -> list[str]:
    """The messages a response stores in the messages cookie, decoded as a browser's owner could."""
    cookie = response.cookies.get(CookieStorage.cookie_name)
    if cookie is None or not cookie.value:
        return []
    request = RequestFactory().get("/")
    request.COOKIES[CookieStorage.cookie_name] = cookie.value
    return [str(message) for message in CookieStorage(request)]


def test_adding_and_removing_an_external_member_puts_no_name_in_a_cookie(world: World) -> None:
    case = open_case(world)
    client = client_for(world.doctor_a)
    data = {"role": CaseRole.GRID, "person_name": EXTERNAL_NAME, "person_phone": "13700002222"}
    added = client.post(reverse("followup:case_member_add", kwargs={"case_uuid": case.uuid}), data)
    assert added.status_code == 302
    assert CookieStorage.cookie_name not in added.cookies, cookie_messages(added)
    page = client.get(added["Location"]).content.decode()
    assert f"已将 {EXTERNAL_NAME} 加入团队" in page  # the message still reaches the next page

    member = CaseMember.objects.get(case=case, user__isnull=True)  # names are encrypted: not queryable
    url = reverse("followup:case_member_remove", kwargs={"case_uuid": case.uuid, "member_uuid": member.uuid})
    removed = client.post(url)
    assert removed.status_code == 302
    assert CookieStorage.cookie_name not in removed.cookies, cookie_messages(removed)
    assert f"已将 {EXTERNAL_NAME} 移出团队" in client.get(removed["Location"]).content.decode()


def test_no_message_of_the_case_pages_travels_in_a_cookie(world: World) -> None:
    case = open_case(world)
    add(world, case, world.police_c)
    client = client_for(world.police_c)
    url = reverse("followup:case_contact_new", kwargs={"case_uuid": case.uuid})
    data = {"date": case.opened_on.isoformat(), "mode": "1", "who": "患者本人", "findings": "情绪平稳"}
    response = client.post(url, data)
    assert response.status_code == 302
    assert CookieStorage.cookie_name not in response.cookies, cookie_messages(response)
