"""The bounds of a patient record's single fields, defined once.

What one answer alone may hold: the length of each text of the identity and supplementary forms, the code list
of each coded item, the shape of a phone number and the message for each way an ID number can be wrong. The
registration, identity and supplementary forms, the workbook's patient rows and the model columns all read them
from here; rules that span fields (sex and birth date against the ID number, dates after the birth date) are
the parsers' and the services'. Imports only ``registry.codes`` (no models), so the models may import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

from registry import codes

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Free texts of the patient record and their lengths (also the model columns' lengths).
TEXT_MAX_LENGTH: dict[str, int] = {
    "name": 50,
    "national_id": 18,
    "phone": 20,
    "address": 200,
    "hukou_address": 200,
    "guardian_name": 50,
    "guardian_relation": 20,
    "guardian_phone": 20,
    "guardian_address": 200,
    "committee_contact_name": 50,
    "committee_contact_phone": 20,
    "notes": 1000,
    "diagnosis_hospital": 100,
}
# Free texts of the supplementary form (个人信息补充表).
SUPPLEMENTARY_TEXT_MAX_LENGTH: dict[str, int] = {
    "consent_signer": 50,
    "specialist_opinion": 1000,
}

# Single-choice items and their code lists.
CODED_FIELDS: dict[str, type[models.Choices]] = {
    "sex": codes.Sex,
    "disorder": codes.Disorder,
}
SUPPLEMENTARY_CODED_FIELDS: dict[str, type[models.Choices]] = {
    "household_type": codes.HouseholdType,
    "employment": codes.Employment,
    "consent": codes.Consent,
    "past_locking": codes.Locking,
    "past_outpatient": codes.PastOutpatient,
    "last_treatment_result": codes.TreatmentResult,
    "economic_status": codes.EconomicStatus,
}
PAST_SYMPTOMS = codes.Symptom
# The workbook's status columns (the web changes the status on its own page).
STATUS = codes.Status
LOST_REASON = codes.LostReason
DEATH_CAUSE = codes.DeathCause

# Counts of the supplementary form (admissions and dangerous behaviour since onset; empty means none).
COUNT_FIELDS: tuple[str, ...] = (
    "past_admissions", "minor_trouble", "trouble", "disaster", "other_harm", "self_harm", "suicide_attempt",
)  # fmt: skip

# Phone numbers: digits, optionally with + - ( ) and spaces.
PHONE_FIELDS: tuple[str, ...] = ("phone", "guardian_phone", "committee_contact_phone")
PHONE_PATTERN = r"^[0-9+\-() ]{3,20}$"
PHONE_MESSAGE = _("请输入有效的电话号码（数字，可含 + - 括号和空格）。")

# The ID number as typed (spaces allowed) before it is normalised to its 18 characters.
NATIONAL_ID_RAW_MAX_LENGTH = 30
# What is wrong with an ID number, by the code of ``registry.patients.idnumber.IdNumberError``.
ID_NUMBER_MESSAGES: dict[str, StrOrPromise] = {
    "shape": _("身份证号应为18位：前17位为数字，最后一位为数字或X。"),
    "check_digit": _("身份证号校验位不正确，请逐位核对。"),
    "birth_date": _("身份证号中的出生日期无效。"),
}
