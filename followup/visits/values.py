"""The typed value of one follow-up (随访服务记录表) and its medication rows, as every edge hands it on.

The web form (``followup.visits.forms``) and the workbook's follow-up and medication rows
(``followup.workbook.rows``) each parse their input into these values, every single field within
``followup.visits.bounds``; ``followup.visits.services.record_followup`` takes a ``FollowUpEntry``, trusts its
types and checks only the rules that span fields. Imports nothing of the project but the codes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from followup import codes


@dataclass(frozen=True, slots=True)
class MedicationEntry:
    """One drug going forward (item 19): its name, dosing shape and the dose fields as entered.

    Each number is within its bound already; whether the row is complete for its shape (and fills nothing of
    another shape) is the service's check, as it spans fields.
    """

    drug: str
    shape: str
    morning_mg: Decimal | None = None
    noon_mg: Decimal | None = None
    evening_mg: Decimal | None = None
    times_per_day: int | None = None
    mg_per_dose: Decimal | None = None
    depot_every_weeks: int | None = None
    depot_mg: Decimal | None = None

    def doses(self) -> dict[str, Decimal | int | None]:
        """Every dose field by its column name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in ("drug", "shape")}


@dataclass(frozen=True, slots=True)
class FollowUpEntry:
    """One follow-up as entered, every field typed and within its bound.

    The clinical items default to "not answered" (None, an empty tuple, 0 for a count, False, ""): a
    not-reached attempt carries none of them, and the service refuses one that does. ``lost_reason`` and the
    death details belong to the LOST and DEAD outcomes.
    """

    date: dt.date
    outcome: str
    mode: int
    contacts: tuple[int, ...] = ()
    lost_reason: int | None = None
    death_date: dt.date | None = None
    death_cause: int | None = None
    death_subcause: int | None = None
    # clinical items (a reached follow-up)
    risk_level: int | None = None
    self_harm_level_confirmed: bool = False
    minor_trouble: int = 0
    trouble: int = 0
    disaster: int = 0
    other_harm: int = 0
    self_harm: int = 0
    suicide_attempt: int = 0
    symptoms: tuple[int, ...] = ()
    symptom_other: str = ""
    obvious_psychotic_symptoms: bool = False
    insight: int | None = None
    sleep: int | None = None
    diet: int | None = None
    social_selfcare: int | None = None
    social_housework: int | None = None
    social_work: int | None = None
    social_learning: int | None = None
    social_contact: int | None = None
    locking: int | None = None
    hospitalisation: int | None = None
    last_discharge_date: dt.date | None = None
    lab: int | None = None
    lab_text: str = ""
    adherence: int | None = None
    adverse_reaction: int | None = None
    adverse_reaction_text: str = ""
    adverse_reaction_severe: bool = False
    severe_physical_illness: bool = False
    treatment_effect: int | None = None
    referral: int | None = None
    referral_reason: str = ""
    referral_institution: str = ""
    referral_department: str = ""
    rehabilitation: tuple[int, ...] = ()
    rehabilitation_other: str = ""
    family_support: bool = False
    classification: int | None = None
    next_date: dt.date | None = None
    next_date_reason: str = ""
    medications: tuple[MedicationEntry, ...] = ()

    @property
    def reached(self) -> bool:
        return self.outcome == codes.Outcome.REACHED

    def clinical_entered(self) -> list[str]:
        """The clinical items that hold an answer (anything but their "not answered" default)."""
        return [
            field.name
            for field in dataclasses.fields(self)
            if field.name in CLINICAL_FIELDS and getattr(self, field.name) != field.default
        ]


# Everything only a reached follow-up may carry (the medication rows are counted apart).
CLINICAL_FIELDS: frozenset[str] = frozenset(
    field.name
    for field in dataclasses.fields(FollowUpEntry)
    if field.name
    not in {
        "date", "outcome", "mode", "contacts", "lost_reason", "death_date", "death_cause", "death_subcause",
        "self_harm_level_confirmed", "medications",
    }
)  # fmt: skip
