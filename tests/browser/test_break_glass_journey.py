"""Break-glass (紧急调阅) on a phone, with JavaScript on and off: a doctor of township B meets patient_a of township
A in an emergency. Every branch of the form — a bad ID number, a missing reason, a number nobody has, a patient
already theirs, a patient outside their township — is driven and checked in the database (access rows, audit
rows); the record opens read-only (the write pages answer 404) and the ID number is never in an address. Then the
county officer acknowledges the access on a desktop, and the patient's own doctor sees it without a review button.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from casemgmt.audit.models import Action, AuditEvent
from registry.models import BreakGlassAccess
from registry.patients import idnumber
from tests.base import PASSWORD, World
from tests.browser.conftest import check_page, field_error, flash, log_in, screenshot, submit_form

REASON = "患者在本镇集市突发冲动行为，需核对诊断和用药"
UNREGISTERED = "11010119990101123" + idnumber.check_digit("11010119990101123")
BREAK_GLASS = "/patients/break-glass/"
LOG = "/patients/break-glass/log/"


def probes(action: str) -> list[list[str]]:
    """The subjects of each audit event of this action, oldest first."""
    events = AuditEvent.objects.filter(action=action).prefetch_related("subjects").order_by("id")
    return [[str(s.patient_uuid) for s in event.subjects.all()] for event in events]


def fill(page: Any, number: str, reason: str) -> None:
    page.fill("input[name=national_id]", number)
    page.fill("textarea[name=reason]", reason)
    submit_form(page)


def assert_number_not_in_address(page: Any, world: World) -> None:
    for number in (world.patient_a.national_id, world.patient_b.national_id, UNREGISTERED):
        assert number not in page.url


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_doctor_breaks_the_glass_and_the_county_reviews_it(
    world: World, live_server: Any, request: pytest.FixtureRequest, javascript: bool
) -> None:
    page = request.getfixturevalue("phone_page" if javascript else "phone_page_without_javascript")
    mode, patient = ("js" if javascript else "nojs"), world.patient_a
    log_in(page, live_server, "doctor_b", PASSWORD)
    page.click(f"nav.mainnav a[href='{BREAK_GLASS}']")
    page.wait_for_load_state("networkidle")
    screenshot(page, f"break-glass-{mode}-01-form")

    # A number that is no ID number: refused at the field, nothing looked up.
    fill(page, patient.national_id[:17], REASON)
    assert "身份证号应为18位" in field_error(page, "national_id")
    screenshot(page, f"break-glass-{mode}-02-bad-number")
    # A valid number without a reason: refused at the reason.
    fill(page, patient.national_id, "")
    assert "请说明紧急调阅的理由" in field_error(page, "reason")
    assert not field_error(page, "national_id")
    screenshot(page, f"break-glass-{mode}-03-no-reason")
    assert not BreakGlassAccess.objects.exists()
    assert not probes(Action.IDENTITY_PROBE) and not probes(Action.BREAK_GLASS)

    # A valid number nobody has: a neutral message, the probe audited without a subject, the number not echoed.
    fill(page, UNREGISTERED, REASON)
    assert "未找到与该身份证号对应的档案" in page.inner_text("main")
    assert page.input_value("input[name=national_id]") == ""
    screenshot(page, f"break-glass-{mode}-04-not-found")
    assert probes(Action.IDENTITY_PROBE) == [[]]
    assert_number_not_in_address(page, world)

    # The doctor's own patient: straight to the record, no access opened.
    fill(page, world.patient_b.national_id, REASON)
    assert page.url.endswith(f"/patients/{world.patient_b.uuid}/")
    assert probes(Action.IDENTITY_PROBE) == [[], [str(world.patient_b.uuid)]]
    assert not BreakGlassAccess.objects.exists()

    # Township A's patient: the access opens, the record shows in full, read-only, with the hour it ends.
    page.goto(f"{live_server.url}{BREAK_GLASS}")
    fill(page, patient.national_id, REASON)
    assert page.url.endswith(f"/patients/{patient.uuid}/")
    access = BreakGlassAccess.objects.get()
    assert (access.user, access.patient, access.reason, access.reviewed_at) == (world.doctor_b, patient, REASON, None)
    assert timezone.localtime(access.expires_at).strftime("%H:%M") in flash(page)
    assert patient.name in page.inner_text("main") and patient.national_id in page.inner_text("main")
    assert page.locator(f"a[href$='/patients/{patient.uuid}/edit/']").count() == 0
    screenshot(page, f"break-glass-{mode}-05-opened")
    assert probes(Action.BREAK_GLASS) == [[str(patient.uuid)]]
    assert AuditEvent.objects.get(action=Action.BREAK_GLASS).purpose == REASON
    viewed = AuditEvent.objects.filter(action=Action.VIEW, actor=world.doctor_b, subjects__patient_uuid=patient.uuid)
    assert viewed.exists()
    assert_number_not_in_address(page, world)
    # Every page of the record says it is read-only and until when: the follow-up timeline, for one.
    page.click("a:has-text('随访时间线')")
    page.wait_for_load_state("networkidle")
    until = timezone.localtime(access.expires_at).strftime("%H:%M")
    assert page.get_attribute("[data-break-glass-until]", "data-break-glass-until") == until
    screenshot(page, f"break-glass-{mode}-05b-timeline")
    for write_page in ("edit/", "supplementary/", "status/", "transfer/", "access/"):
        response = page.goto(f"{live_server.url}/patients/{patient.uuid}/{write_page}")
        assert response is not None and response.status == 404, write_page
    response = page.goto(f"{live_server.url}/followup/patients/{patient.uuid}/new/")
    assert response is not None and response.status == 404

    # The county officer acknowledges it on a desktop.
    desktop = request.getfixturevalue("desktop_page")
    log_in(desktop, live_server, "county_d", PASSWORD)
    assert desktop.get_attribute(f"nav.mainnav a[href='{LOG}']", "data-unreviewed") == "1"
    desktop.click(f"nav.mainnav a[href='{LOG}']")
    desktop.wait_for_load_state("networkidle")
    row = desktop.locator("table.list tbody tr").filter(has_text=REASON)
    assert "doctor_b" in row.inner_text() and "未审阅" in row.inner_text()
    assert patient.name not in desktop.inner_text("main")  # masked for county staff, as in their patient list
    screenshot(desktop, f"break-glass-{mode}-06-review-list")
    row.locator("input[name=note]").fill("已电话核实，属实")
    submit_form(desktop, f"form[action$='/break-glass/{access.uuid}/review/'] button")
    assert "已审阅该紧急调阅记录" in flash(desktop)
    screenshot(desktop, f"break-glass-{mode}-07-reviewed")
    access.refresh_from_db()
    assert (access.reviewed_by, access.review_note) == (world.county_d, "已电话核实，属实")
    assert access.reviewed_at is not None
    assert probes(Action.BREAK_GLASS_REVIEW) == [[str(patient.uuid)]]
    assert desktop.get_attribute(f"nav.mainnav a[href='{LOG}']", "data-unreviewed") == "0"

    # The patient's own doctor sees the access on the list, without a review button.
    page.click("text=退出")
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}{LOG}")
    main = page.inner_text("main")
    assert REASON in main and "已审阅" in main and patient.name in main
    assert page.locator("form[action*='/review/']").count() == 0
    check_page(page)
