"""The follow-up form through the web stack: what it offers, what it saves, and bad input that gets a clear
Chinese message and writes nothing (domain.md §5–7). Helpers here are shared by the other view tests."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from casemgmt.audit.models import Action, AuditEvent
from casemgmt.dates import add_months
from followup.models import FollowUp, MedicationRow, PatientCareState
from registry import codes as registry_codes
from registry.models import Patient
from registry.patients import services as registry_services
from tests.base import TODAY, World
from tests.followup.base import reached_data, record

pytestmark = pytest.mark.django_db


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def new_url(patient: Patient) -> str:
    return reverse("followup:followup_new", kwargs={"patient_uuid": patient.uuid})


def _form_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "on" if value else None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return None if value is None else str(value)


def post_data(
    data: dict[str, Any], medications: Iterable[dict[str, Any]] = (), *, key: uuid.UUID | None = None
) -> dict[str, Any]:
    """What the browser sends for ``data`` (the service's shape) and medication rows."""
    rows = list(medications)
    form: dict[str, Any] = {
        "submission_key": str(key or uuid.uuid4()),
        "med-TOTAL_FORMS": str(len(rows)),
        "med-INITIAL_FORMS": "0",
        "med-MIN_NUM_FORMS": "0",
        "med-MAX_NUM_FORMS": "20",
    }
    for name, value in data.items():
        converted = _form_value(value)
        if converted is not None:
            form[name] = converted
    for index, row in enumerate(rows):
        for name, value in row.items():
            form[f"med-{index}-{name}"] = str(value)
    return form


RISPERIDONE = {"drug": "利培酮", "shape": "schedule", "morning_mg": "1", "evening_mg": "2"}
DEPOT = {"drug": "棕榈酸帕利哌酮注射液", "shape": "depot", "depot_every_weeks": "4", "depot_mg": "150"}
VALPROATE = {"drug": "丙戊酸钠", "shape": "frequency", "times_per_day": "2", "mg_per_dose": "500"}


def stable_visit(day: dt.date | None = None, **overrides: Any) -> dict[str, Any]:
    """A reached, stable visit whose next date is the rule's own (3 months)."""
    day = day or TODAY
    return reached_data(day, **{"next_date": add_months(day, 3), **overrides})


def post(
    user: Any, patient: Patient, data: dict[str, Any], medications: Iterable[dict[str, Any]] = (), **kw: Any
) -> Any:
    return logged_in(user).post(new_url(patient), post_data(data, medications, **kw))


def writes() -> tuple[int, ...]:
    return (
        FollowUp.objects.count(),
        MedicationRow.objects.count(),
        PatientCareState.objects.count(),
        AuditEvent.objects.filter(action=Action.CREATE).count(),
    )


def errors_of(response: Any) -> dict[str, list[str]]:
    form = response.context["form"]
    found = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
    for index, row in enumerate(response.context["formset"].forms):
        for name, errors in row.errors.items():
            found[f"med-{index}-{name}"] = [str(e) for e in errors]
    return found


def all_messages(response: Any) -> str:
    return " ".join(message for messages in errors_of(response).values() for message in messages)


# --- what the form offers ----------------------------------------------------------------------------------


def test_the_form_offers_every_item_of_the_national_form(world: World) -> None:
    response = logged_in(world.doctor_a).get(new_url(world.patient_a))
    assert response.status_code == 200
    html = response.content.decode()
    form = response.context["form"]
    for name in (
        "date", "mode", "contacts", "outcome", "risk_level", "symptoms", "insight", "sleep", "diet",
        "social_selfcare", "social_housework", "social_work", "social_learning", "social_contact",
        "minor_trouble", "trouble", "disaster", "other_harm", "self_harm", "suicide_attempt", "locking",
        "hospitalisation", "last_discharge_date", "lab", "adherence", "adverse_reaction", "treatment_effect",
        "referral", "rehabilitation", "family_support", "classification", "next_date", "next_date_reason",
        "lost_reason", "death_date", "death_cause", "death_subcause", "self_harm_level_confirmed",
    ):  # fmt: skip
        assert f'name="{name}"' in html, name
    assert uuid.UUID(str(form.initial["submission_key"]))
    assert 'type="hidden" name="submission_key"' in html
    # Help texts of the dangerous-behaviour categories and of locking-up.
    assert "公安机关出警但仅作一般教育" in html and "违反治安管理处罚法" in html and "构成刑事犯罪" in html
    assert "出于非医疗目的" in html
    # Drug names from the maintained list, free text allowed (a datalist, not a select).
    assert '<datalist id="drug-names">' in html and '<option value="利培酮">' in html
    assert 'list="drug-names"' in html
    # The three dosing shapes, and the live rules script with its config.
    assert 'data-shape="schedule"' in html and 'data-shape="frequency"' in html and 'data-shape="depot"' in html
    assert 'id="followup-config"' in html and "js/followup.js" in html


def test_each_rendering_gets_a_new_submission_key(world: World) -> None:
    client = logged_in(world.doctor_a)
    first = client.get(new_url(world.patient_a)).context["form"].initial["submission_key"]
    second = client.get(new_url(world.patient_a)).context["form"].initial["submission_key"]
    assert first != second


def test_the_current_regimen_is_prefilled(world: World) -> None:
    record(world.patient_a, world.doctor_a, reached_data(TODAY - dt.timedelta(days=20)), [RISPERIDONE, DEPOT])
    response = logged_in(world.doctor_a).get(new_url(world.patient_a))
    formset = response.context["formset"]
    assert [f.initial.get("drug") for f in formset.forms] == ["利培酮", "棕榈酸帕利哌酮注射液", None]
    assert formset.forms[1].initial["depot_every_weeks"] == 4
    assert 'name="med-1-depot_mg" value="150"' in response.content.decode()  # not "1.5E+2"


def test_the_rules_config_carries_the_previous_classification(world: World) -> None:
    day = TODAY - dt.timedelta(days=20)
    record(world.patient_a, world.doctor_a, reached_data(day, classification=2, next_date=day + dt.timedelta(days=14)))
    config = logged_in(world.doctor_a).get(new_url(world.patient_a)).context["config"]
    assert config["reached"] == [[day.isoformat(), 2]]
    assert config["rules"]["stableMonths"] == 3 and config["rules"]["unstableDays"] == 14
    assert "棕榈酸帕利哌酮注射液" in config["longActing"]


def test_opening_the_form_is_audited_without_identity(world: World) -> None:
    logged_in(world.doctor_a).get(new_url(world.patient_a))
    event = AuditEvent.objects.latest("id")
    assert event.action == Action.VIEW and event.detail == {"page": "followup_new"}
    assert [str(s.patient_uuid) for s in event.subjects.all()] == [str(world.patient_a.uuid)]
    assert world.patient_a.name not in str(event.detail)


# --- saving ----------------------------------------------------------------------------------------------


def test_a_reached_follow_up_with_medication_in_the_three_shapes(world: World) -> None:
    response = post(world.doctor_a, world.patient_a, stable_visit(), [RISPERIDONE, VALPROATE, DEPOT])
    assert response.status_code == 302
    assert response["Location"] == reverse("followup:timeline", kwargs={"patient_uuid": world.patient_a.uuid})
    followup = FollowUp.objects.get()
    assert followup.doctor == world.doctor_a and followup.outcome == "REACHED"
    assert [row.describe() for row in followup.medications.all()] == [
        "利培酮 1-0-2 mg",
        "丙戊酸钠 2×500 mg/d",
        "棕榈酸帕利哌酮注射液 150 mg / 4 wk",
    ]
    assert PatientCareState.objects.get(patient=world.patient_a).next_due_date == followup.next_date


def test_the_doctors_classification_is_stored_not_the_suggestion(world: World) -> None:
    # Risk 3 suggests "unstable"; the doctor decides "basically stable" and keeps the 14-day rule date.
    data = stable_visit(risk_level=3, classification=2, next_date=TODAY + dt.timedelta(days=14))
    assert post(world.doctor_a, world.patient_a, data).status_code == 302
    followup = FollowUp.objects.get()
    assert (followup.classification, followup.suggested_classification) == (2, 1)


def test_an_earlier_next_date_is_accepted(world: World) -> None:
    data = stable_visit(next_date=TODAY + dt.timedelta(days=20))
    assert post(world.doctor_a, world.patient_a, data).status_code == 302
    assert FollowUp.objects.get().next_date == TODAY + dt.timedelta(days=20)


def test_a_later_next_date_needs_a_reason(world: World) -> None:
    data = stable_visit(next_date=TODAY + dt.timedelta(days=200))
    before = writes()
    response = post(world.doctor_a, world.patient_a, data)
    assert response.status_code == 200
    assert "晚于建议日期" in " ".join(errors_of(response)["next_date"]) and "须说明理由" in all_messages(response)
    assert writes() == before
    data["next_date_reason"] = "患者外出务工，半年后返乡"
    assert post(world.doctor_a, world.patient_a, data).status_code == 302
    assert FollowUp.objects.get().next_date_reason == "患者外出务工，半年后返乡"


def test_self_harm_below_level_4_needs_the_confirmation(world: World) -> None:
    data = stable_visit(risk_level=2, self_harm=1, classification=2, next_date=TODAY + dt.timedelta(days=14))
    before = writes()
    response = post(world.doctor_a, world.patient_a, data)
    assert response.status_code == 200
    assert "请核实并勾选确认" in " ".join(errors_of(response)["risk_level"])
    assert writes() == before
    data["self_harm_level_confirmed"] = True
    assert post(world.doctor_a, world.patient_a, data).status_code == 302
    followup = FollowUp.objects.get()
    assert (followup.risk_level, followup.self_harm_level_confirmed) == (2, True)


def test_a_not_reached_attempt(world: World) -> None:
    data = {"date": TODAY, "mode": 3, "outcome": "NOT_REACHED"}
    assert post(world.doctor_a, world.patient_a, data).status_code == 302
    followup = FollowUp.objects.get()
    assert followup.outcome == "NOT_REACHED" and followup.risk_level is None
    assert PatientCareState.objects.get(patient=world.patient_a).consecutive_not_reached == 1


def test_without_javascript_the_prefilled_regimen_does_not_block_an_attempt(world: World) -> None:
    """The page without JavaScript still shows the prefilled rows; sent back unchanged they are no entry."""
    record(world.patient_a, world.doctor_a, reached_data(TODAY - dt.timedelta(days=20)), [RISPERIDONE, DEPOT])
    prefilled = [
        {"drug": "利培酮", "shape": "schedule", "morning_mg": "1", "evening_mg": "2"},
        {"drug": "棕榈酸帕利哌酮注射液", "shape": "depot", "depot_every_weeks": "4", "depot_mg": "150"},
    ]
    attempt = {"date": TODAY, "mode": 3, "outcome": "NOT_REACHED"}
    assert post(world.doctor_a, world.patient_a, attempt, prefilled).status_code == 302
    assert FollowUp.objects.filter(outcome="NOT_REACHED").get().medications.count() == 0
    changed = [{**prefilled[0], "evening_mg": "3"}]
    response = post(world.doctor_a, world.patient_a, attempt, changed)
    assert "未随访到患者时不能填写临床项目和用药。" in errors_of(response)["outcome"]


@pytest.mark.parametrize("outcome", ["NOT_REACHED", "LOST", "DEAD"])
def test_an_attempt_whose_medication_rows_the_script_disabled(world: World, outcome: str) -> None:
    """The browser sends no field of a disabled row while the management form still counts the rows."""
    data: dict[str, Any] = {"date": TODAY, "mode": 2, "outcome": outcome}
    if outcome == "LOST":
        data["lost_reason"] = 1
    if outcome == "DEAD":
        data.update(death_date=TODAY, death_cause=2)
    form = post_data(data)
    form["med-TOTAL_FORMS"] = "2"
    response = logged_in(world.doctor_a).post(new_url(world.patient_a), form)
    assert response.status_code == 302, errors_of(response)
    assert FollowUp.objects.get().outcome == outcome
    assert MedicationRow.objects.count() == 0


def test_a_lost_outcome_changes_the_status(world: World) -> None:
    data = {"date": TODAY, "mode": 3, "outcome": "LOST", "lost_reason": 1}
    assert post(world.doctor_a, world.patient_a, data).status_code == 302
    assert Patient.objects.visible_to(world.doctor_a).get(pk=world.patient_a.pk).status == "LOST"


def test_a_dead_outcome_needs_date_and_cause(world: World) -> None:
    before = writes()
    response = post(world.doctor_a, world.patient_a, {"date": TODAY, "mode": 3, "outcome": "DEAD"})
    assert response.status_code == 200
    found = errors_of(response)
    assert "请填写死亡日期。" in found["death_date"] and "请选择死亡原因。" in found["death_cause"]
    assert writes() == before
    data = {"date": TODAY, "mode": 3, "outcome": "DEAD", "death_date": TODAY, "death_cause": 4}
    assert post(world.doctor_a, world.patient_a, data).status_code == 302
    assert Patient.objects.visible_to(world.doctor_a).get(pk=world.patient_a.pk).status == "DEAD"


def test_fields_of_another_outcome_are_not_stored(world: World) -> None:
    data = {**stable_visit(), "lost_reason": 2, "death_cause": 1}
    assert post(world.doctor_a, world.patient_a, data).status_code == 302
    followup = FollowUp.objects.get()
    assert followup.lost_reason is None and followup.death_cause is None


# --- bad input: a clear message, nothing written --------------------------------------------------------


def _registered_10_days_ago(world: World) -> Patient:
    from tests.base import make_patient

    return make_patient(world.doctor_a, world.village_a1, registered_on=TODAY - dt.timedelta(days=10))


BAD_INPUT: dict[str, tuple[dict[str, Any], list[dict[str, Any]], str, str]] = {
    "dated in the future": (
        stable_visit(TODAY + dt.timedelta(days=1)),
        [],
        "date",
        "随访日期不能晚于今天。",
    ),
    "hospitalisation 2 without discharge date": (
        stable_visit(hospitalisation=2),
        [],
        "last_discharge_date",
        "须填写末次出院时间",
    ),
    "negative count": (stable_visit(minor_trouble=-1), [], "minor_trouble", "次数不能为负数。"),
    "non-numeric count": (stable_visit(trouble="两次"), [], "trouble", "次数必须是整数。"),
    "non-numeric dose": (
        stable_visit(),
        [{"drug": "利培酮", "shape": "schedule", "morning_mg": "一片"}],
        "med-0-morning_mg",
        "剂量必须是数字。",
    ),
    "negative dose": (
        stable_visit(),
        [{"drug": "利培酮", "shape": "schedule", "morning_mg": "-2"}],
        "med-0-morning_mg",
        "剂量必须大于0。",
    ),
    "dose row without a drug": (
        stable_visit(),
        [{"drug": "", "shape": "frequency", "times_per_day": "2", "mg_per_dose": "5"}],
        "med-0-__all__",
        "请填写药物名称。",
    ),
    "incomplete depot row": (
        stable_visit(),
        [{"drug": "癸酸氟哌啶醇注射液", "shape": "depot", "depot_mg": "50"}],
        "med-0-__all__",
        "请填写该用法的全部剂量项目。",
    ),
    "clinical fields on a not-reached attempt": (
        {"date": TODAY, "mode": 3, "outcome": "NOT_REACHED", "risk_level": 2, "insight": 1},
        [],
        "outcome",
        "未随访到患者时不能填写临床项目和用药。",
    ),
    "medication on a not-reached attempt": (
        {"date": TODAY, "mode": 3, "outcome": "NOT_REACHED"},
        [RISPERIDONE],
        "outcome",
        "未随访到患者时不能填写临床项目和用药。",
    ),
    "reached without risk level": (stable_visit(risk_level=None), [], "risk_level", "随访到患者时此项必填。"),
    "no outcome": ({"date": TODAY, "mode": 1}, [], "outcome", "请选择随访结果。"),
    "unknown code": (stable_visit(insight=7), [], "insight", "请从列表中选择。"),
    "malformed date": ({**stable_visit(), "date": "2024-13-45"}, [], "date", "请输入有效日期"),
    "next date not after the visit": (stable_visit(next_date=TODAY), [], "next_date", "须晚于本次随访日期"),
    "lost without reason": ({"date": TODAY, "mode": 3, "outcome": "LOST"}, [], "lost_reason", "请选择失访原因。"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_gets_a_clear_message_and_writes_nothing(world: World, case: str) -> None:
    data, medications, field, message = BAD_INPUT[case]
    before = writes()
    response = post(world.doctor_a, world.patient_a, data, medications)
    assert response.status_code == 200
    found = errors_of(response)
    assert field in found, found
    assert any(message in text for text in found[field]), found[field]
    assert "请更正下面标出的错误。" in response.content.decode() or found.get("__all__")
    assert writes() == before


def test_a_follow_up_before_registration_is_refused(world: World) -> None:
    patient = _registered_10_days_ago(world)
    before = writes()
    response = post(world.doctor_a, patient, stable_visit(TODAY - dt.timedelta(days=11)))
    assert response.status_code == 200
    assert "随访日期不能早于建档日期。" in errors_of(response)["date"]
    assert writes() == before


def test_a_re_shown_form_keeps_the_key_and_the_rows(world: World) -> None:
    key = uuid.uuid4()
    response = post(world.doctor_a, world.patient_a, stable_visit(risk_level=None), [RISPERIDONE], key=key)
    html = response.content.decode()
    assert f'value="{key}"' in html and 'value="利培酮"' in html


# --- double submission ----------------------------------------------------------------------------------


def test_double_submission_creates_one_follow_up(world: World) -> None:
    key = uuid.uuid4()
    data = stable_visit()
    created_before = AuditEvent.objects.filter(action=Action.CREATE).count()
    first = post(world.doctor_a, world.patient_a, data, [RISPERIDONE], key=key)
    second = post(world.doctor_a, world.patient_a, data, [RISPERIDONE], key=key)
    assert first.status_code == second.status_code == 302
    assert FollowUp.objects.count() == 1 and MedicationRow.objects.count() == 1
    assert AuditEvent.objects.filter(action=Action.CREATE).count() == created_before + 1


def test_a_key_reused_for_another_patient_is_refused_cleanly(world: World) -> None:
    key = uuid.uuid4()
    other = _registered_10_days_ago(world)
    assert post(world.doctor_a, world.patient_a, stable_visit(), key=key).status_code == 302
    response = post(world.doctor_a, other, stable_visit(), key=key)
    assert response.status_code == 200
    assert "此表单已用于另一次提交" in all_messages(response)
    assert FollowUp.objects.count() == 1


def test_no_follow_up_for_a_dead_patient(world: World) -> None:
    registry_services.change_status(
        actor=world.doctor_a,
        patient=world.patient_a,
        to_status=registry_codes.Status.DEAD,
        effective_date=TODAY,
        death_cause=registry_codes.DeathCause.ACCIDENT,
    )
    client = logged_in(world.doctor_a)
    assert client.get(new_url(world.patient_a)).status_code == 302
    response = client.post(new_url(world.patient_a), post_data(stable_visit()))
    assert response.status_code == 200
    assert "不能再记录随访" in all_messages(response)
    assert FollowUp.objects.count() == 0


def test_a_dead_outcome_tapped_twice_is_saved_once(world: World) -> None:
    key = uuid.uuid4()
    data = {"date": TODAY, "mode": 2, "outcome": "DEAD", "death_date": TODAY, "death_cause": 4}
    first = post(world.doctor_a, world.patient_a, data, key=key)
    second = post(world.doctor_a, world.patient_a, data, key=key)  # the record is DEAD by now
    assert first.status_code == second.status_code == 302
    assert FollowUp.objects.count() == 1
