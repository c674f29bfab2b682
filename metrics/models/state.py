"""The per-patient indicator state (design.md §7): one row per patient, year, holder village and death cause.

Each ``*_i`` column is a bitmask over the year's report slots (``metrics.state.calendar.SLOTS``): bit s is set
when the patient belongs to the set for slot s with deaths in the period included; the reading with them excluded
(``_x``) is derived (``DERIVED_MASKS``). The row whose ``area_code`` is the village holding the record at the
slot's cut-off carries the bit, so summing ``(mask >> s) & 1`` over the rows under an area prefix gives the set's
size. ``layer`` > 0 rows only carry further emergency handlings (the count per slot is the number of rows with the
bit set).

``AreaSlotState`` holds the same figures summed per township, year and slot (what a report reads).

A mask or count of 0 is stored as NULL (issue 17 §3): PostgreSQL keeps a NULL in the row's null bitmap and no
bytes, and most masks of a row are empty (years before a patient's follow-ups, events, deaths), so the state takes
about a third less room. Every reader sums them (``SUM`` skips NULL) or reads them through ``COALESCE``.
"""

from __future__ import annotations

from django.db import models

STATE_SETS = (
    "registered", "managed", "at_home", "regular", "regular3m", "medication", "regular_medication",
    "face_to_face", "stable", "rehabilitation", "lost", "family_support", "health_check", "overdue", "open_case",
)  # fmt: skip
EVENT_SETS = ("new_registration", "died", "minor_trouble", "trouble", "disaster", "emergency")
# The masks a row stores. A set's ``_x`` mask is not stored: it is its ``_i`` mask without the slots in whose
# period the patient died, ``{set}_i & ~died`` (``metrics.state.read.mask_sql``). A row's ``died`` bits are those
# slots, and outside them both readings agree. That saves 15 of the row's 36 masks (issue 17 §3).
MASK_COLUMNS = tuple(f"{name}_i" for name in STATE_SETS) + EVENT_SETS
DERIVED_MASKS = tuple(f"{name}_x" for name in STATE_SETS)
# The columns a state row is written with (the id aside): its key, then its masks.
KEY_COLUMNS = ("patient_id", "year", "area_code", "disorder", "death_cause", "layer", "valid_until")
ROW_COLUMNS = (*KEY_COLUMNS, *MASK_COLUMNS)


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
            # One entry per patient, not per patient and year: PostgreSQL stores the ~5 rows of a patient as one
            # key and a list of row addresses (B-tree deduplication), a third of the (patient, year) index it
            # replaces; a patient's years are then told apart in the rows (issue 17 §3).
            models.Index(fields=["patient"], name="metrics_state_patient"),
            models.Index(
                fields=["valid_until"], name="metrics_state_valid_until", condition=models.Q(valid_until__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"state {self.patient_id}/{self.year}/{self.area_code}"


for _column in MASK_COLUMNS:
    PatientYearState.add_to_class(_column, models.IntegerField(null=True))  # NULL: no slot

DEATH_CAUSE_CODES = tuple(range(7))  # domain.md §4.3 causes 1–6; 0 = not recorded
# A set's totals are kept as its count with deaths in the period included (``_i``) and how many of those died in
# the period (``_d``): the deaths-excluded reading is their difference. ``_d`` is almost always 0, stored as NULL,
# where an ``_x`` count would repeat the ``_i`` one in nearly every row (issue 17 §3).
TOTAL_VARIANTS = ("i", "d")
COUNT_COLUMNS = (
    *(f"{name}_{v}" for v in TOTAL_VARIANTS for name in STATE_SETS),
    *(c for c in EVENT_SETS if c != "died"),
    *(f"schizophrenia{kind}_{v}" for v in TOTAL_VARIANTS for kind in ("", "_medication", "_managed")),
    *(f"died_{cause}" for cause in DEATH_CAUSE_CODES),
)


class AreaSlotState(models.Model):
    """The state rows summed per township (``township`` = its code's first 9 digits), year and slot, kept with them
    (only non-zero groups): a province report sums a few thousand of these instead of scanning every patient's
    row (``metrics.state.read``)."""

    # The key is the row's identity: no id column and no second unique index beside it, and the township is the
    # integer of its code's first 9 digits (4 bytes instead of a 13-byte string; issue 17 §3).
    pk = models.CompositePrimaryKey("year", "slot", "township")
    year = models.PositiveSmallIntegerField()
    township = models.PositiveIntegerField()
    slot = models.PositiveSmallIntegerField()

    def __str__(self) -> str:
        return f"{self.township}/{self.year}/{self.slot}"


for _column in COUNT_COLUMNS:
    AreaSlotState.add_to_class(_column, models.IntegerField(null=True))  # NULL: none


class IndicatorStateBuild(models.Model):
    """A complete build of the state exists (a full rebuild finished, or the tables were created on an empty
    registry). Until then reports are computed directly: an upgraded database with patients but no state yet
    must never show zeros."""

    finished_at = models.DateTimeField(auto_now_add=True)
    patients = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"indicator state built {self.finished_at:%Y-%m-%d %H:%M}"


__all__ = [
    "COUNT_COLUMNS",
    "DEATH_CAUSE_CODES",
    "DERIVED_MASKS",
    "EVENT_SETS",
    "KEY_COLUMNS",
    "MASK_COLUMNS",
    "ROW_COLUMNS",
    "STATE_SETS",
    "TOTAL_VARIANTS",
    "AreaSlotState",
    "IndicatorStateBuild",
    "PatientYearState",
]
