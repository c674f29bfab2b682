"""Registration on a phone, with JavaScript on and off: a bad ID number and a duplicate ID number are refused
next to the field with nothing written; a sound registration creates the patient and the supplementary form;
then the supplementary form and the identity are edited. The database is checked after each step."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from casemgmt.areas.models import Area
from devdata.identities import synthetic_national_id
from registry.codes import Disorder, Status
from registry.models import Patient, SupplementaryForm, national_id_index
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import field_error, flash, log_in, screenshot, submit_form

BIRTH = dt.date(1980, 5, 17)
NEW_ID = synthetic_national_id(random.Random(7), "320508", BIRTH, 1)  # odd 17th digit: a man


def fill_registration(page: Any, village: Area, national_id: str) -> None:
    page.fill("input[name=name]", "测试甲")
    page.fill("input[name=national_id]", national_id)
    page.fill("input[name=phone]", "13800000001")
    page.select_option("select[name=village]", village.code)
    page.fill("input[name=address]", "人民路3号")
    page.select_option("select[name=disorder]", str(Disorder.SCHIZOPHRENIA))
    page.check("input[name=supp-consent][value='1']")
    page.fill("input[name=supp-past_admissions]", "2")


def refused(page: Any, village: Area, national_id: str, name: str) -> str:
    """Submit with this ID number; the refusal must write nothing and explain itself at the field."""
    before = Patient.objects.count(), SupplementaryForm.objects.count()
    fill_registration(page, village, national_id)
    submit_form(page)
    screenshot(page, name)
    assert (Patient.objects.count(), SupplementaryForm.objects.count()) == before
    assert page.input_value("input[name=name]") == "测试甲"  # what was typed stays
    return field_error(page, "national_id")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_registration_refusals_then_a_new_record(
    world: World, live_server: Any, request: pytest.FixtureRequest, javascript: bool
) -> None:
    page = request.getfixturevalue("phone_page" if javascript else "phone_page_without_javascript")
    mode = "js" if javascript else "nojs"
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/patients/new/")
    screenshot(page, f"register-01-empty-{mode}")

    bad_check_digit = NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")
    assert "身份证号" in refused(page, world.village_a2, bad_check_digit, f"register-02-bad-id-{mode}")
    assert "已建档" in refused(page, world.village_a2, world.patient_a.national_id, f"register-03-duplicate-{mode}")
    assert page.get_by_role("link", name="打开已有档案").count() == 1  # patient_a is doctor_a's: the link is offered

    fill_registration(page, world.village_a2, NEW_ID)
    submit_form(page)
    assert "档案已建立" in flash(page)
    screenshot(page, f"register-04-created-{mode}")
    patient = Patient.objects.get(national_id_index=national_id_index(NEW_ID))
    assert page.url.endswith(f"/patients/{patient.uuid}/")
    assert (patient.name, patient.sex, patient.birth_date, patient.phone) == ("测试甲", 1, BIRTH, "13800000001")
    assert (patient.village_id, patient.status, patient.registered_on) == (world.village_a2.code, Status.ACTIVE, TODAY)
    supplementary = SupplementaryForm.objects.get(patient=patient)
    assert (supplementary.consent, supplementary.past_admissions, supplementary.self_harm) == (1, 2, 0)


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_outside_the_jurisdiction_leaks_nothing(world: World, live_server: Any, phone_page: Any) -> None:
    """doctor_b registering patient_a's ID number learns only that it is registered elsewhere: no link."""
    log_in(phone_page, live_server, "doctor_b", PASSWORD)
    phone_page.goto(f"{live_server.url}/patients/new/")
    message = refused(phone_page, world.village_b1, world.patient_a.national_id, "register-05-duplicate-elsewhere")
    assert "已在其他辖区建档" in message
    assert phone_page.get_by_role("link", name="打开已有档案").count() == 0
    assert str(world.patient_a.uuid) not in phone_page.content()


@pytest.mark.django_db(transaction=True)
def test_supplementary_form_and_identity_are_edited(world: World, live_server: Any, phone_page: Any) -> None:
    page, patient = phone_page, world.patient_a
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/patients/{patient.uuid}/supplementary/")
    page.fill("input[name=self_harm]", "1")
    page.fill("input[name=past_admissions]", "3")
    page.fill("input[name=onset_date]", (patient.birth_date - dt.timedelta(days=1)).isoformat())
    submit_form(page)
    assert "日期不能早于出生日期" in field_error(page, "onset_date")
    screenshot(page, "supplementary-01-refused")
    assert SupplementaryForm.objects.get(patient=patient).self_harm == 0
    page.fill("input[name=onset_date]", "")
    submit_form(page)
    assert "补充表已保存" in flash(page)
    saved = SupplementaryForm.objects.get(patient=patient)
    assert (saved.self_harm, saved.past_admissions, saved.onset_date) == (1, 3, None)

    page.goto(f"{live_server.url}/patients/{patient.uuid}/edit/")
    page.fill("input[name=national_id]", world.patient_b.national_id)
    page.select_option("select[name=sex]", "")  # sex and birth date follow the ID number
    page.fill("input[name=birth_date]", "")
    submit_form(page)
    assert "已在其他辖区建档" in field_error(page, "national_id")
    patient.refresh_from_db()
    assert patient.national_id != world.patient_b.national_id
    page.fill("input[name=national_id]", patient.national_id)
    page.select_option("select[name=sex]", "2" if patient.sex == 1 else "1")
    page.fill("input[name=guardian_name]", "测试乙")
    submit_form(page)
    assert "性别与身份证号不符" in field_error(page, "sex")
    screenshot(page, "edit-01-refused")
    page.select_option("select[name=sex]", str(patient.sex))
    page.fill("input[name=address]", "建设路8号")
    submit_form(page)
    assert "档案已保存" in flash(page)
    patient.refresh_from_db()
    assert (patient.address, patient.guardian_name) == ("建设路8号", "测试乙")
