"""Models of this app, one module per bounded context (Django finds models here; modules import their siblings,
never this package)."""

from __future__ import annotations

from followup.models.cases import (
    Case,
    CaseCloseReason,
    CaseContact,
    CaseContactMode,
    CaseMember,
    CaseOpenReason,
    CaseRole,
)
from followup.models.emergencies import (
    COMPLETE_WITHIN,
    Emergency,
    EmergencyConsent,
    EmergencyDisposition,
    EmergencyMeasure,
    EmergencySituation,
)
from followup.models.visits import (
    COMPLETE,
    DOSE_FIELDS,
    POSITIVE,
    REACHED_ONLY_COLUMNS,
    SHAPE_FIELDS,
    WHOLE_NUMBER_FIELDS,
    DosingShape,
    FollowUp,
    FollowUpQuerySet,
    HealthCheck,
    MedicationRow,
    PatientCareState,
    RehabParticipation,
    dose_problems,
)
from followup.models.workbook import (
    WorkbookExport,
    WorkbookImport,
)

__all__ = [
    "COMPLETE",
    "COMPLETE_WITHIN",
    "DOSE_FIELDS",
    "POSITIVE",
    "REACHED_ONLY_COLUMNS",
    "SHAPE_FIELDS",
    "WHOLE_NUMBER_FIELDS",
    "Case",
    "CaseCloseReason",
    "CaseContact",
    "CaseContactMode",
    "CaseMember",
    "CaseOpenReason",
    "CaseRole",
    "DosingShape",
    "Emergency",
    "EmergencyConsent",
    "EmergencyDisposition",
    "EmergencyMeasure",
    "EmergencySituation",
    "FollowUp",
    "FollowUpQuerySet",
    "HealthCheck",
    "MedicationRow",
    "PatientCareState",
    "RehabParticipation",
    "WorkbookExport",
    "WorkbookImport",
    "dose_problems",
]
