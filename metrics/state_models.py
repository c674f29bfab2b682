"""The per-patient indicator state (design.md §7): one row per patient, year, holder village and death cause.

Each ``*_x`` / ``*_i`` column is a bitmask over the year's report slots (``metrics.state.SLOTS``): bit s is set
when the patient belongs to the set for slot s with deaths in the period excluded (``_x``) or included
(``_i``). The row whose ``area_code`` is the village holding the record at the slot's cut-off carries the bit,
so summing ``(mask >> s) & 1`` over the rows under an area prefix gives the set's size. ``layer`` > 0 rows only
carry further emergency handlings (the count per slot is the number of rows with the bit set).
"""

from __future__ import annotations

from django.db import models

STATE_SETS = (
    "registered", "managed", "at_home", "regular", "regular3m", "medication", "regular_medication",
    "face_to_face", "stable", "rehabilitation", "lost", "family_support", "health_check", "overdue", "open_case",
)  # fmt: skip
VARIANTS = ("x", "i")  # deaths in the period excluded / included
EVENT_SETS = ("new_registration", "died", "minor_trouble", "trouble", "disaster", "emergency")
MASK_COLUMNS = tuple(f"{name}_{v}" for v in VARIANTS for name in STATE_SETS) + EVENT_SETS


class PatientYearState(models.Model):
    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="+", db_index=False)
    year = models.PositiveSmallIntegerField()
    area_code = models.CharField(max_length=12)  # holder village at the slot's cut-off; "" = none
    disorder = models.PositiveSmallIntegerField()
    death_cause = models.PositiveSmallIntegerField(null=True)
    layer = models.PositiveSmallIntegerField(default=0)
    # Current-year rows depend on today (cut-off = today for a running period): recompute from this day on.
    valid_until = models.DateField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["year", "area_code"], name="metrics_state_year_area"),
            models.Index(fields=["patient", "year"], name="metrics_state_patient_year"),
            models.Index(
                fields=["valid_until"], name="metrics_state_valid_until", condition=models.Q(valid_until__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"state {self.patient_id}/{self.year}/{self.area_code}"


for _column in MASK_COLUMNS:
    PatientYearState.add_to_class(_column, models.IntegerField(default=0))

__all__ = ["EVENT_SETS", "MASK_COLUMNS", "STATE_SETS", "VARIANTS", "PatientYearState"]
