"""The typed values of a patient record, as every edge hands them on.

The registration, identity and supplementary forms (``registry.patients.forms``) and the workbook's patient rows
(``followup.workbook.rows``) each parse their input into these values, every single field within
``registry.patients.bounds`` and sex and birth date agreeing with the ID number; the services of
``registry.patients.services`` take them, trust their types and check only what needs the database (duplicates)
or spans the record. Imports nothing of the project.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PatientEntry:
    """Identity and clinical basics of one person (the identity form's fields).

    ``national_id`` is normalised and valid; ``sex`` and ``birth_date`` are what it says. Texts not given are "".
    """

    name: str
    national_id: str
    sex: int
    birth_date: dt.date
    disorder: int
    phone: str = ""
    address: str = ""
    hukou_address: str = ""
    guardian_name: str = ""
    guardian_relation: str = ""
    guardian_phone: str = ""
    guardian_address: str = ""
    committee_contact_name: str = ""
    committee_contact_phone: str = ""
    notes: str = ""
    diagnosis_date: dt.date | None = None
    diagnosis_hospital: str = ""

    def columns(self) -> dict[str, str | int | dt.date | None]:
        """Every field by its column name on ``Patient``."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


@dataclass(frozen=True, slots=True)
class SupplementaryEntry:
    """个人信息补充表 (domain.md §4.2) as entered: consent is the one required answer, a count left empty is 0.

    ``filled_on`` None means "not given": the registration date for a new record, today for an edit.
    """

    consent: int
    household_type: int | None = None
    employment: int | None = None
    economic_status: int | None = None
    consent_signer: str = ""
    consent_date: dt.date | None = None
    harmed_others: bool = False
    onset_date: dt.date | None = None
    onset_year_only: bool = False
    past_symptoms: tuple[int, ...] = ()
    past_locking: int | None = None
    past_outpatient: int | None = None
    first_antipsychotic_date: dt.date | None = None
    past_admissions: int = 0
    last_treatment_result: int | None = None
    minor_trouble: int = 0
    trouble: int = 0
    disaster: int = 0
    other_harm: int = 0
    self_harm: int = 0
    suicide_attempt: int = 0
    specialist_opinion: str = ""
    filled_on: dt.date | None = None

    def columns(self, *, filled_on: dt.date) -> dict[str, str | int | bool | dt.date | list[int] | None]:
        """Every field by its column name on ``SupplementaryForm`` (the symptoms as the stored list), with
        ``filled_on`` when none was given."""
        values: dict[str, str | int | bool | dt.date | list[int] | None] = {
            field.name: getattr(self, field.name) for field in dataclasses.fields(self)
        }
        values["past_symptoms"] = list(self.past_symptoms)
        values["filled_on"] = self.filled_on or filled_on
        return values


@dataclass(frozen=True, slots=True)
class Registration:
    """A new record: who (``patient``), since when (``registered_on``, never before the birth date) and the
    supplementary form filled at enrolment. The village is the caller's: a checked ``Area`` on the web, a
    code in the workbook."""

    patient: PatientEntry
    registered_on: dt.date
    supplementary: SupplementaryEntry
