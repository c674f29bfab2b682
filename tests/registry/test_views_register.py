"""Registration: a complete record is written through the service; every kind of bad input is refused with a
clear Chinese message and writes nothing (no patient, no form, no history, no audit row)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from casemgmt.audit.models import Action, AuditEvent
from registry import codes
from registry.models import Patient, StatusChange, SupplementaryForm
from registry.patients import idnumber
from tests.base import TODAY, World

pytestmark = pytest.mark.django_db
REGISTER = reverse("registry:patient_register")
FIRST17 = "32050819850302124"  # born 1985-03-02, 17th digit even: female
NUMBER = FIRST17 + idnumber.check_digit(FIRST17)


def form_data(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "测试患者",
        "national_id": NUMBER,
        "sex": "",
        "birth_date": "",
        "phone": "13812345678",
        "village": world.village_a1.code,
        "address": "幸福路1号",
        "hukou_address": "人民路2号",
        "guardian_name": "测试监护人",
        "guardian_relation": "母亲",
        "guardian_phone": "13912345678",
        "guardian_address": "幸福路1号",
        "committee_contact_name": "村委联系人",
        "committee_contact_phone": "0512-1234567",
        "notes": "",
        "disorder": str(codes.Disorder.SCHIZOPHRENIA),
        "diagnosis_date": "2020-01-15",
        "diagnosis_hospital": "县精神卫生中心",
        "registered_on": TODAY.isoformat(),
        "supp-household_type": "2",
        "supp-employment": "3",
        "supp-economic_status": "2",
        "supp-consent": "1",
        "supp-consent_signer": "测试监护人",
        "supp-consent_date": TODAY.isoformat(),
        "supp-onset_date": "2019-06-01",
        "supp-past_symptoms": ["1", "3"],
        "supp-past_locking": "1",
        "supp-past_outpatient": "2",
        "supp-past_admissions": "1",
        "supp-last_treatment_result": "2",
        "supp-minor_trouble": "",
        "supp-self_harm": "1",
        "supp-specialist_opinion": "建议规律服药。",
    }
    data.update(overrides)
    return data


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def counts() -> tuple[int, ...]:
    return (
        Patient.objects.count(),
        SupplementaryForm.objects.count(),
        StatusChange.objects.count(),
        AuditEvent.objects.count(),
    )


def test_registration_writes_the_record_and_derives_sex_and_birth_date(world: World) -> None:
    response = logged_in(world.doctor_a).post(REGISTER, form_data(world))
    patient = Patient.objects.visible_to(world.doctor_a).get(national_id_index=_index(NUMBER))
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:patient_detail", kwargs={"patient_uuid": patient.uuid})
    assert (patient.name, patient.sex, patient.birth_date) == ("测试患者", codes.Sex.FEMALE, dt.date(1985, 3, 2))
    assert patient.village_id == world.village_a1.code and patient.status == codes.Status.ACTIVE
    form = patient.supplementary
    assert form.past_symptoms == [1, 3] and form.self_harm == 1 and form.minor_trouble == 0
    assert form.filled_on == TODAY and form.consent_signer == "测试监护人"
    event = AuditEvent.objects.filter(action=Action.CREATE).latest("id")
    assert [s.patient_uuid for s in event.subjects.all()] == [patient.uuid]
    text = json.dumps([event.purpose, event.detail], ensure_ascii=False)
    assert NUMBER not in text and "测试患者" not in text


def test_refused_consent_registers_as_refused(world: World) -> None:
    logged_in(world.doctor_a).post(REGISTER, form_data(world, **{"supp-consent": "0"}))
    assert Patient.objects.get(national_id_index=_index(NUMBER)).status == codes.Status.REFUSED


def test_explicit_sex_and_birth_date_that_agree_are_accepted(world: World) -> None:
    response = logged_in(world.doctor_a).post(REGISTER, form_data(world, sex="2", birth_date="1985-03-02"))
    assert response.status_code == 302


def test_village_choices_are_the_villages_of_the_jurisdiction(world: World) -> None:
    response = logged_in(world.doctor_a).get(REGISTER)
    codes_offered = {area.code for area in response.context["form"].fields["village"].queryset}
    assert codes_offered == {world.village_a1.code, world.village_a2.code}


def _index(number: str) -> str:
    from registry.models import national_id_index

    return national_id_index(number)


WRONG_CHECK = FIRST17 + ("0" if idnumber.check_digit(FIRST17) != "0" else "1")
BAD_MONTH = "32050819851302124"
FUTURE = (TODAY + dt.timedelta(days=1)).isoformat()

BAD_INPUTS: dict[str, tuple[dict[str, Any], str, str]] = {
    # case: (overrides, field with the error, part of the message)
    "check digit": ({"national_id": WRONG_CHECK}, "national_id", "校验位不正确"),
    "shape": ({"national_id": "32050819850302"}, "national_id", "应为18位"),
    "birth date in the ID": (
        {"national_id": BAD_MONTH + idnumber.check_digit(BAD_MONTH)},
        "national_id",
        "出生日期无效",
    ),
    "sex contradicts the ID": ({"sex": "1"}, "sex", "性别与身份证号不符"),
    "birth date contradicts the ID": ({"birth_date": "1985-03-03"}, "birth_date", "出生日期与身份证号不符"),
    "future registration date": ({"registered_on": FUTURE}, "registered_on", "不能晚于今天"),
    "future diagnosis date": ({"diagnosis_date": FUTURE}, "diagnosis_date", "不能晚于今天"),
    "future onset": ({"supp-onset_date": FUTURE}, "supp-onset_date", "不能晚于今天"),
    "registration before birth": ({"registered_on": "1984-12-31"}, "registered_on", "不能早于出生日期"),
    "onset before birth": ({"supp-onset_date": "1980-01-01"}, "supp-onset_date", "不能早于出生日期"),
    "village is a township": ({"village": "320508001000"}, "village", "不是您辖区内的村(居)"),
    "village of another township": ({"village": "320508002001"}, "village", "不是您辖区内的村(居)"),
    "village that does not exist": ({"village": "999999999999"}, "village", "不是您辖区内的村(居)"),
    "missing name": ({"name": ""}, "name", "请填写姓名"),
    "missing ID number": ({"national_id": ""}, "national_id", "请填写身份证号"),
    "missing village": ({"village": ""}, "village", "请选择现住址所在村(居)"),
    "missing disorder": ({"disorder": ""}, "disorder", "请选择诊断类别"),
    "missing registration date": ({"registered_on": ""}, "registered_on", "请填写建档日期"),
    "missing consent": ({"supp-consent": ""}, "supp-consent", "请选择是否同意参加管理"),
    "over-long name": ({"name": "名" * 51}, "name", "50"),
    "over-long notes": ({"notes": "记" * 1001}, "notes", "1000"),
    "over-long guardian relation": ({"guardian_relation": "亲" * 21}, "guardian_relation", "20"),
    "over-long specialist opinion": ({"supp-specialist_opinion": "意" * 1001}, "supp-specialist_opinion", "1000"),
    "bad phone": ({"phone": "call me"}, "phone", "有效的电话号码"),
    "bad date": ({"diagnosis_date": "2020-02-30"}, "diagnosis_date", "日期"),
    "negative count": ({"supp-self_harm": "-1"}, "supp-self_harm", "0"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_shows_a_message_and_writes_nothing(world: World, case: str) -> None:
    overrides, field, message = BAD_INPUTS[case]
    before = counts()
    response = logged_in(world.doctor_a).post(REGISTER, form_data(world, **overrides))
    assert response.status_code == 200
    form_name = "supplementary_form" if field.startswith("supp-") else "form"
    errors = response.context[form_name].errors[field.removeprefix("supp-")]
    assert any(message in str(error) for error in errors), errors
    assert message in response.content.decode()
    assert counts() == before


def test_empty_post_shows_messages_and_writes_nothing(world: World) -> None:
    before = counts()
    response = logged_in(world.doctor_a).post(REGISTER, {})
    assert response.status_code == 200
    assert {"name", "national_id", "village", "disorder"} <= set(response.context["form"].errors)
    assert counts() == before


def test_duplicate_inside_visibility_links_to_the_existing_record(world: World) -> None:
    existing = world.patient_a
    before = counts()
    response = logged_in(world.doctor_a2).post(REGISTER, form_data(world, national_id=existing.national_id))
    html = response.content.decode()
    assert response.status_code == 200
    assert "该身份证号已建档" in html
    assert reverse("registry:patient_detail", kwargs={"patient_uuid": existing.uuid}) in html
    # Only the refusal itself is logged (a probe for an ID number is worth knowing about); nothing else.
    assert counts()[:3] == before[:3]
    assert AuditEvent.objects.count() == before[3] + 1
    assert AuditEvent.objects.latest("id").action == Action.IDENTITY_PROBE


def test_duplicate_outside_visibility_reveals_nothing(world: World) -> None:
    existing = world.patient_b
    before = counts()
    response = logged_in(world.doctor_a).post(
        REGISTER,
        form_data(world, national_id=existing.national_id, sex="", birth_date=""),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "已在其他辖区建档" in html and "请申请转入" in html
    assert str(existing.uuid) not in html
    assert existing.name not in html
    assert world.village_b1.name not in html and world.township_b.name not in html
    assert response.context["duplicate_url"] is None
    assert counts()[:3] == before[:3]
    refused = AuditEvent.objects.latest("id")
    assert refused.action == Action.IDENTITY_PROBE
    assert existing.national_id not in json.dumps(refused.detail)
