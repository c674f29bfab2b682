"""Models of this app, one module per bounded context (Django finds models here; modules import their siblings,
never this package)."""

from __future__ import annotations

from registry.models.breakglass import (
    REASON_MAX_LENGTH,
    REASON_MIN_LENGTH,
    REVIEW_NOTE_MAX_LENGTH,
    BreakGlassAccess,
    live_break_glass,
)
from registry.models.patients import (
    NAME_INDEX_HEX,
    PHONE_TAIL_DIGITS,
    PHONE_TAIL_INDEX_HEX,
    ClosureRequest,
    CustodySpan,
    IdentityRevision,
    Patient,
    PatientGroupObjectPermission,
    PatientQuerySet,
    PatientUserObjectPermission,
    StatusChange,
    SupplementaryForm,
    live_grants,
    name_index,
    national_id_index,
    phone_tail_index,
)
from registry.models.transfers import (
    LONG_PENDING_DAYS,
    VISIT_WITHIN_DAYS,
    Transfer,
    TransferState,
)

__all__ = [
    "LONG_PENDING_DAYS",
    "NAME_INDEX_HEX",
    "PHONE_TAIL_DIGITS",
    "PHONE_TAIL_INDEX_HEX",
    "REASON_MAX_LENGTH",
    "REASON_MIN_LENGTH",
    "REVIEW_NOTE_MAX_LENGTH",
    "VISIT_WITHIN_DAYS",
    "BreakGlassAccess",
    "ClosureRequest",
    "CustodySpan",
    "IdentityRevision",
    "Patient",
    "PatientGroupObjectPermission",
    "PatientQuerySet",
    "PatientUserObjectPermission",
    "StatusChange",
    "SupplementaryForm",
    "Transfer",
    "TransferState",
    "live_break_glass",
    "live_grants",
    "name_index",
    "national_id_index",
    "phone_tail_index",
]
