"""The transfer, emergency and county overview pages on a 360px phone (SMALL_PHONE): no sideways scrolling;
screenshots kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from followup.emergencies import services as emergency_services
from registry.transfers import services as transfers
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import SMALL_PHONE, log_in, no_sideways_scroll, screenshot


@pytest.mark.django_db(transaction=True)
def test_pages_fit_a_phone(world: World, live_server: Any, phone_page: Any) -> None:
    phone_page.set_viewport_size(SMALL_PHONE)
    transfers.request_transfer(
        actor=world.doctor_a,
        patient=world.patient_a,
        to_village=world.village_b1,
        reason="随子女居住",
        today=TODAY - dt.timedelta(days=16),
    )
    emergency = emergency_services.record_emergency(
        actor=world.doctor_b,
        values={"occurred_at": timezone.now() - dt.timedelta(hours=30), "place": "家中", "situations": ["relapse"]},
        handler=None,
        complete=False,
        now=timezone.now(),
        patient=world.patient_b,
    )
    log_in(phone_page, live_server, "doctor_b", PASSWORD)
    for path, text, name in (
        ("/patients/transfers/", "待接收的迁入申请", "transfer-01-incoming-phone"),
        ("/followup/emergencies/", "应急处置后密切随访", "emergency-01-list-phone"),
        (f"/followup/emergencies/{emergency.uuid}/", "超过24小时仍未完成", "emergency-02-detail-phone"),
        (f"/followup/emergencies/{emergency.uuid}/edit/", "补全应急处置记录", "emergency-03-form-phone"),
        (f"/followup/patients/{world.patient_b.uuid}/emergencies/new/", "登记应急处置", "emergency-04-new-phone"),
        (f"/patients/{world.patient_b.uuid}/transfer/", "申请迁出", "transfer-02-request-phone"),
    ):
        phone_page.goto(f"{live_server.url}{path}")
        assert text in phone_page.inner_text("main"), path
        assert no_sideways_scroll(phone_page), path
        screenshot(phone_page, name)
    phone_page.click("text=退出")
    log_in(phone_page, live_server, "county_d", PASSWORD)
    phone_page.goto(f"{live_server.url}/followup/overview/")
    assert "待接收超过14天的迁移申请（1）" in phone_page.inner_text("main")
    assert no_sideways_scroll(phone_page)
    screenshot(phone_page, "overview-01-county-phone")
