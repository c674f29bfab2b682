"""Transfer pages: allowed, foreign jurisdiction (404), read-only (403), wrong method (405) for each view, and
the Chinese messages of repeats."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from registry.models import Patient, Transfer, TransferState
from registry.patients.masking import mask_name
from registry.transfers import services as transfers
from tests.base import PASSWORD, TODAY, World

pytestmark = pytest.mark.django_db


def client_for(user: object) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)  # type: ignore[attr-defined]
    return client


def pending(world: World) -> Transfer:
    return transfers.request_transfer(
        actor=world.doctor_a, patient=world.patient_a, to_village=world.village_b1, reason="随子女居住", today=TODAY
    )


def request_url(patient: Patient) -> str:
    return reverse("registry:transfer_request", kwargs={"patient_uuid": patient.uuid})


def accept_url(transfer: Transfer) -> str:
    return reverse("registry:transfer_accept", kwargs={"transfer_uuid": transfer.uuid})


def reject_url(transfer: Transfer) -> str:
    return reverse("registry:transfer_reject", kwargs={"transfer_uuid": transfer.uuid})


# --- request ---------------------------------------------------------------------------------------------------


def test_request_page_and_submit(world: World) -> None:
    client = client_for(world.doctor_a)
    page = client.get(request_url(world.patient_a))
    assert page.status_code == 200
    assert world.village_b1.name in page.content.decode()
    assert world.village_a2.name not in page.content.decode()  # the current township is not a target
    response = client.post(request_url(world.patient_a), {"to_village": world.village_b1.code, "reason": "随子女居住"})
    assert response.status_code == 302
    assert Transfer.objects.get().state == TransferState.PENDING
    detail = client.get(reverse("registry:patient_detail", kwargs={"patient_uuid": world.patient_a.uuid}))
    assert "等待对方接收" in detail.content.decode()


def test_request_errors_are_chinese_and_write_nothing(world: World) -> None:
    client = client_for(world.doctor_a)
    for data, message in (
        ({}, "请选择迁入村(居)"),
        ({"to_code": "320508001002"}, "本乡镇(街道)以外"),
        ({"to_code": "999999999999"}, "找不到区划代码"),
    ):
        response = client.post(request_url(world.patient_a), data)
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not Transfer.objects.exists()


def test_second_request_shows_the_pending_one(world: World) -> None:
    pending(world)
    client = client_for(world.doctor_a)
    response = client.post(request_url(world.patient_a), {"to_code": world.village_b1.code})
    assert "已有一条待接收的迁移申请" in response.content.decode()
    assert Transfer.objects.count() == 1


def test_request_foreign_404_readonly_403_method_405(world: World) -> None:
    assert client_for(world.doctor_b).get(request_url(world.patient_a)).status_code == 404
    assert client_for(world.county_d).get(request_url(world.patient_a)).status_code == 403
    assert client_for(world.police_c).get(request_url(world.patient_a)).status_code == 404  # grant: limited view
    assert client_for(world.doctor_a).put(request_url(world.patient_a)).status_code == 405


# --- list ------------------------------------------------------------------------------------------------------


def test_receiving_doctor_sees_the_masked_request_only(world: World) -> None:
    pending(world)
    response = client_for(world.doctor_b).get(reverse("registry:transfer_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert mask_name(world.patient_a.name) in body
    assert world.patient_a.name not in body
    assert world.patient_a.national_id not in body
    # The patient itself stays out of reach until acceptance.
    detail = reverse("registry:patient_detail", kwargs={"patient_uuid": world.patient_a.uuid})
    assert client_for(world.doctor_b).get(detail).status_code == 404


def test_list_readonly_403_and_method_405(world: World) -> None:
    url = reverse("registry:transfer_list")
    assert client_for(world.county_d).get(url).status_code == 403
    assert client_for(world.police_c).get(url).status_code == 403
    assert client_for(world.doctor_a).post(url).status_code == 405


def test_list_query_count_is_pinned(world: World, django_assert_max_num_queries: object) -> None:
    from tests.base import make_patient

    for _n in range(5):
        patient = make_patient(world.doctor_a, world.village_a1)
        transfers.request_transfer(
            actor=world.doctor_a, patient=patient, to_village=world.village_b1, reason="", today=TODAY
        )
    client = client_for(world.doctor_b)
    with django_assert_max_num_queries(14):  # type: ignore[operator]
        assert client.get(reverse("registry:transfer_list")).status_code == 200


# --- accept / reject -------------------------------------------------------------------------------------------


def test_accept_moves_and_reminds(world: World) -> None:
    transfer = pending(world)
    client = client_for(world.doctor_b)
    response = client.post(accept_url(transfer), follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert world.patient_a.name in body  # the full record is now theirs
    assert "前完成首次随访" in body
    listing = client.get(reverse("registry:transfer_list")).content.decode()
    visit_by = (TODAY + __import__("datetime").timedelta(days=14)).strftime("%Y-%m-%d")
    assert visit_by in listing


def test_accept_twice_gives_a_message(world: World) -> None:
    transfer = pending(world)
    client = client_for(world.doctor_b)
    client.post(accept_url(transfer))
    response = client.post(accept_url(transfer), follow=True)
    assert "无需重复操作" in response.content.decode()


def test_reject_then_accept_and_reject_after_accept(world: World) -> None:
    transfer = pending(world)
    client = client_for(world.doctor_b)
    empty = client.post(reject_url(transfer), {"reason": ""}, follow=True)
    assert "请填写拒绝理由" in empty.content.decode()
    assert Transfer.objects.get().state == TransferState.PENDING
    client.post(reject_url(transfer), {"reason": "地址不在本辖区"})
    assert Transfer.objects.get().state == TransferState.REJECTED
    again = client.post(accept_url(transfer), follow=True)
    assert "被拒绝，不能再处理" in again.content.decode()

    second = pending(world)
    client.post(accept_url(second))
    late = client.post(reject_url(second), {"reason": "x"}, follow=True)
    assert "不能再拒绝" in late.content.decode()


def test_accept_reject_foreign_404_readonly_403_method_405(world: World) -> None:
    transfer = pending(world)
    for url in (accept_url(transfer), reject_url(transfer)):
        assert client_for(world.doctor_a).post(url, {"reason": "x"}).status_code == 404  # the sender
        assert client_for(world.police_c).post(url, {"reason": "x"}).status_code == 404
        assert client_for(world.county_d).post(url, {"reason": "x"}).status_code == 403
        assert client_for(world.doctor_b).get(url).status_code == 405
    assert Transfer.objects.get().state == TransferState.PENDING


def test_anonymous_is_sent_to_login(world: World) -> None:
    transfer = pending(world)
    assert Client().post(accept_url(transfer)).status_code == 302


def withdraw_url(transfer: Transfer) -> str:
    return reverse("registry:transfer_withdraw", kwargs={"transfer_uuid": transfer.uuid})


def test_withdraw_allowed_404_403_405(world: World) -> None:
    transfer = pending(world)
    url = withdraw_url(transfer)
    assert client_for(world.doctor_b).post(url).status_code == 404  # the receiver
    assert client_for(world.county_d).post(url).status_code == 403
    assert client_for(world.doctor_a).get(url).status_code == 405
    response = client_for(world.doctor_a).post(url, follow=True)
    assert "迁移申请已撤回" in response.content.decode()
    assert Transfer.objects.get().state == TransferState.WITHDRAWN
    again = client_for(world.doctor_a).post(url, follow=True)
    assert "无需撤回" in again.content.decode()


def test_pages_in_english(world: World) -> None:
    from django.conf import settings as conf

    pending(world)
    client = client_for(world.doctor_b)
    client.cookies[conf.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get(reverse("registry:transfer_list")).content.decode()
    assert "Incoming transfer requests" in body and "待接收的迁入申请" not in body
