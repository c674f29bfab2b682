"""The bounds of a follow-up's single fields, defined once (domain.md §5, item 19).

What one answer alone may hold: the code list of each coded item, the range of the behaviour counts, the limits
of each dose field per dosing shape and the length of each text. The web form's fields, the workbook's row
parsing, the model columns and the dosing check all read them from here; rules that span fields live in
``followup.visits.services``. Imports only ``followup.codes`` (no models), so the models may import it.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from followup import codes

# Single-choice clinical items and their code lists.
CODED_FIELDS: dict[str, type[models.Choices]] = {
    "risk_level": codes.RiskLevel,
    "insight": codes.Insight,
    "sleep": codes.Grade,
    "diet": codes.Grade,
    "social_selfcare": codes.Grade,
    "social_housework": codes.Grade,
    "social_work": codes.WorkGrade,
    "social_learning": codes.Grade,
    "social_contact": codes.Grade,
    "locking": codes.Locking,
    "hospitalisation": codes.Hospitalisation,
    "lab": codes.Lab,
    "adherence": codes.Adherence,
    "adverse_reaction": codes.AdverseReaction,
    "treatment_effect": codes.TreatmentEffect,
    "referral": codes.Referral,
    "classification": codes.Classification,
}
# Multiple-choice items.
MULTI_FIELDS: dict[str, type[models.Choices]] = {
    "symptoms": codes.Symptom,
    "rehabilitation": codes.Rehabilitation,
}
# Codes of the attempt itself and of its outcome's details.
MODE = codes.Mode
CONTACTS = codes.Contact
OUTCOME = codes.Outcome
LOST_REASON = codes.LostReason
DEATH_CAUSE = codes.DeathCause
DEATH_SUBCAUSE = codes.PhysicalDeathCause

# Dangerous behaviour since the last follow-up: how many times (0 when none).
COUNT_FIELDS: tuple[str, ...] = codes.DANGER_NAMES
COUNT_MIN, COUNT_MAX = 0, 99

FLAG_FIELDS = ("obvious_psychotic_symptoms", "adverse_reaction_severe", "severe_physical_illness", "family_support")

# Free texts and their lengths (also the model columns' max_length).
TEXT_MAX_LENGTH: dict[str, int] = {
    "symptom_other": 100,
    "lab_text": 200,
    "adverse_reaction_text": 200,
    "referral_reason": 200,
    "referral_institution": 200,
    "referral_department": 100,
    "rehabilitation_other": 100,
    "next_date_reason": 200,
}
TEXT_FIELDS: tuple[str, ...] = tuple(TEXT_MAX_LENGTH)

# Medication rows (item 19). Doses are mg with two decimals (the columns hold 7 digits); the whole numbers of
# the frequency and depot shapes have their own ceilings.
DRUG_MAX_LENGTH = 60
DOSE_MIN = Decimal("0.01")
DOSE_MAX = Decimal("99999.99")
DOSE_MAX_DIGITS, DOSE_DECIMAL_PLACES = 7, 2
WHOLE_NUMBER_MAX: dict[str, int] = {
    "times_per_day": 12,
    "depot_every_weeks": 52,  # one injection a year at the most
}
