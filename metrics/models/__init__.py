"""Models of this app, one module per bounded context (Django finds models here; modules import their siblings,
never this package)."""

from __future__ import annotations

from metrics.models.reports import (
    PdfExport,
    Target,
)
from metrics.models.state import (
    COUNT_COLUMNS,
    DEATH_CAUSE_CODES,
    DERIVED_MASKS,
    EVENT_SETS,
    KEY_COLUMNS,
    MASK_COLUMNS,
    ROW_COLUMNS,
    STATE_SETS,
    TOTAL_VARIANTS,
    AreaSlotState,
    IndicatorStateBuild,
    PatientYearState,
)

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
    "PdfExport",
    "Target",
]
