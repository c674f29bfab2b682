"""Form rules without HTTP: ID-number messages, sex and birth date from the ID number, status choices."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from registry import codes
from registry.models import Patient
from registry.patients import idnumber
from registry.patients.bounds import ID_NUMBER_MESSAGES
from registry.patients.forms import (
    PatientFilterForm,
    PatientForm,
    StatusChangeForm,
    SupplementaryFormForm,
    village_choices,
)

FIRST17 = "11010519491231002"  # born 1949-12-31, 17th digit even: female
NUMBER = FIRST17 + idnumber.check_digit(FIRST17)


def patient_form(**overrides: Any) -> PatientForm:
    data = {"name": "测试", "national_id": NUMBER, "disorder": "1", **overrides}
    return PatientForm(data)


def test_sex_and_birth_date_come_from_the_id_number_when_left_empty() -> None:
    form = patient_form(national_id=f" {NUMBER} ", sex="", birth_date="")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["sex"] == codes.Sex.FEMALE
    assert form.cleaned_data["birth_date"] == dt.date(1949, 12, 31)
    assert form.cleaned_data["national_id"] == NUMBER


def test_lower_case_check_character_is_normalized() -> None:
    candidates = (f"110105198001010{n:02d}" for n in range(100))
    first17 = next(c for c in candidates if idnumber.check_digit(c) == "X")
    form = patient_form(national_id=(first17 + "x"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["national_id"].endswith("X")


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("1101051949123100", "shape"),
        ("11010519491231002A", "shape"),
        (FIRST17 + ("0" if NUMBER[-1] != "0" else "1"), "check_digit"),
        ("110105194902300021", "birth_date"),
    ],
)
def test_each_id_number_problem_has_its_own_message(number: str, code: str) -> None:
    form = patient_form(national_id=number)
    assert not form.is_valid()
    assert form.errors["national_id"] == [str(ID_NUMBER_MESSAGES[code])]


def test_a_future_birth_date_in_the_id_number_is_refused() -> None:
    future = timezone.localdate() + dt.timedelta(days=400)
    first17 = f"110105{future:%Y%m%d}002"
    form = patient_form(national_id=first17 + idnumber.check_digit(first17))
    assert form.errors["national_id"] == [str(ID_NUMBER_MESSAGES["birth_date"])]


def test_contradicting_sex_and_birth_date_are_refused() -> None:
    form = patient_form(sex="1", birth_date="1950-01-01")
    assert not form.is_valid()
    assert set(form.errors) == {"sex", "birth_date"}


def test_the_form_never_writes_into_the_stored_patient() -> None:
    stored = Patient(name="原名")
    PatientForm({"name": "新名"}, instance=stored).is_valid()
    assert stored.name == "原名"


def test_empty_counts_mean_zero() -> None:
    form = SupplementaryFormForm({"consent": "1", "self_harm": "", "past_admissions": ""})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["self_harm"] == 0 and form.cleaned_data["past_admissions"] == 0
    entry = form.entry()
    assert entry.filled_on is None and entry.self_harm == 0 and entry.past_admissions == 0
    assert entry.columns(filled_on=dt.date(2025, 1, 2))["filled_on"] == dt.date(2025, 1, 2)


def test_refused_consent_is_a_valid_answer() -> None:
    form = SupplementaryFormForm({"consent": "0"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["consent"] == codes.Consent.REFUSE


@pytest.mark.parametrize(
    ("status", "pending", "offered"),
    [
        (codes.Status.ACTIVE, False, ["LOST", "REFUSED", "DEAD", "CLOSED"]),
        (codes.Status.ACTIVE, True, ["LOST", "REFUSED", "DEAD"]),
        (codes.Status.LOST, False, ["ACTIVE", "DEAD", "CLOSED"]),
        (codes.Status.DEAD, False, ["CLOSED"]),
        (codes.Status.CLOSED, False, []),
    ],
)
def test_status_choices_follow_the_allowed_transitions(status: str, pending: bool, offered: list[str]) -> None:
    form = StatusChangeForm(patient=Patient(status=status), has_pending_closure=pending)
    choices: Any = form.fields["to_status"].choices  # type: ignore[attr-defined]
    assert [value for value, _label in choices if value] == offered
    assert form.has_choices == bool(offered)


def test_filter_form_drops_invalid_values_only() -> None:
    form = PatientFilterForm({"q": " 张 ", "status": "BAD", "disorder": "4"})
    assert form.valid_filters() == {"q": "张", "disorder": 4}
    assert "status" in form.errors


def test_village_choices_are_grouped_by_township() -> None:
    from casemgmt.areas.models import Area

    township = Area(code="320508001000", name="甲街道", level=4)
    villages = [
        Area(code="320508001001", name="甲一", level=5, parent=township),
        Area(code="320508001002", name="甲二", level=5, parent=township),
    ]
    choices = village_choices(villages)
    assert choices[1] == ("甲街道", [("320508001001", "甲一"), ("320508001002", "甲二")])
