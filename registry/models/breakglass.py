"""Break-glass access (紧急调阅, issue 14 §4); imported by registry.models so Django sees it.

A doctor or area officer facing a patient outside their jurisdiction (an emergency in another township) opens
that one record by typing its full ID number and stating a reason. The row is the access: it makes the patient
visible to that user (``PatientQuerySet.visible_to``) until ``expires_at`` — read-only, since write access stays
with the jurisdiction — and it is the review item the patient's own township doctors and county officers see
until area staff acknowledge it (``reviewed_by`` / ``reviewed_at``). DHIS2's "break the glass" is the model:
a stated reason, a temporary ownership that lapses by itself, and an audit trail someone is answerable for.

The row holds no identity: the reason is free text the form refuses when it carries an ID number, and the user
is told not to write names. ``registry.breakglass.services`` writes these rows and their audit events.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casemgmt.accounts.models import Role, User

__all__ = [
    "REASON_MAX_LENGTH",
    "REASON_MIN_LENGTH",
    "REVIEW_NOTE_MAX_LENGTH",
    "BreakGlassAccess",
    "live_break_glass",
]

REASON_MIN_LENGTH = 8  # "急诊送来，需核对用药史": a reason says what happened and why the record is needed
REASON_MAX_LENGTH = 200  # the audit event's purpose holds 200 characters
REVIEW_NOTE_MAX_LENGTH = 200
BREAKING_ROLES = (Role.DOCTOR, Role.AREA_STAFF)  # case-team members and administrators never break the glass


class BreakGlassAccess(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("registry.Patient", on_delete=models.PROTECT, related_name="break_glass_accesses")
    reason = models.CharField(_("调阅理由"), max_length=REASON_MAX_LENGTH)
    opened_at = models.DateTimeField(_("调阅时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("有效至"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("审阅时间"), null=True, blank=True)
    review_note = models.CharField(_("审阅意见"), max_length=REVIEW_NOTE_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            # visible_to: "this user's live accesses" on every page the user opens.
            models.Index(fields=["user", "expires_at"], name="break_glass_user_live"),
            # the review list and the county's unreviewed count.
            models.Index(fields=["patient", "-opened_at"], name="break_glass_patient_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=GreaterThanOrEqual(Length("reason"), REASON_MIN_LENGTH), name="break_glass_reason_stated"
            ),
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("opened_at")), name="break_glass_ends"),
            models.CheckConstraint(
                condition=Q(reviewed_by__isnull=True, reviewed_at__isnull=True)
                | Q(reviewed_by__isnull=False, reviewed_at__isnull=False),
                name="break_glass_review_complete",
            ),
        ]

    def __str__(self) -> str:  # never identity: this string may reach logs
        return f"Break-glass {self.uuid} of {self.user_id} on {self.patient_id} until {self.expires_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.expires_at > timezone.now()

    @property
    def is_reviewed(self) -> bool:
        return self.reviewed_at is not None


def live_break_glass(user: User) -> models.QuerySet[BreakGlassAccess]:
    """A user's break-glass accesses that have not expired; none for users who may not break the glass."""
    if user.role not in BREAKING_ROLES:
        return BreakGlassAccess.objects.none()
    return BreakGlassAccess.objects.filter(user=user, expires_at__gt=timezone.now())
