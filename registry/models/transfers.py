"""Transfers between jurisdictions (迁出 / 迁入, domain.md §4.4); imported by registry.models so Django sees them.

A doctor of the current township requests a transfer to a village of another township; the patient stays with
the sender until a doctor of the receiving township accepts (or rejects, with a reason). Acceptance moves the
record and closes/opens the ``CustodySpan`` rows (``registry.transfers.services.accept_transfer``). At most one request
per patient is pending at a time: a conditional unique constraint makes the database refuse a second one even
when two requests race.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from casemgmt.areas.models import Area

__all__ = ["LONG_PENDING_DAYS", "VISIT_WITHIN_DAYS", "Transfer", "TransferState"]

VISIT_WITHIN_DAYS = 14  # the receiver should visit within 2 weeks of accepting (§4.4)
LONG_PENDING_DAYS = 14  # pending longer than this is shown to county staff (§4.4)


class TransferState(models.TextChoices):
    PENDING = "pending", _("待接收")
    ACCEPTED = "accepted", _("已接收")
    REJECTED = "rejected", _("已拒绝")
    WITHDRAWN = "withdrawn", _("已撤回")


class Transfer(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("registry.Patient", on_delete=models.PROTECT, related_name="transfers")
    from_village = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("迁出村(居)"))
    to_village = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("迁入村(居)"))
    # Why the patient moves, in words that do not identify anyone (e.g. "随子女居住").
    reason = models.CharField(_("迁移原因"), max_length=200, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=TransferState.choices, default=TransferState.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_on = models.DateField(_("申请日期"))
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_on = models.DateField(_("处理日期"), null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(_("拒绝理由"), max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_on", "-id"]
        indexes = [
            models.Index(fields=["state", "requested_on"], name="transfer_state_requested"),
            models.Index(fields=["to_village", "state"], name="transfer_to_state"),
            models.Index(fields=["from_village", "state"], name="transfer_from_state"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(state="pending"), name="one_pending_transfer_per_patient"
            ),
            models.CheckConstraint(condition=~Q(from_village=F("to_village")), name="transfer_moves_somewhere"),
            models.CheckConstraint(
                condition=Q(state="pending", decided_on__isnull=True)
                | (~Q(state="pending") & Q(decided_on__isnull=False, decided_by__isnull=False)),
                name="transfer_decision_complete",
            ),
            models.CheckConstraint(
                condition=~Q(state="rejected") | ~Q(rejection_reason=""), name="transfer_rejection_has_reason"
            ),
        ]

    def __str__(self) -> str:  # never identity
        return f"Transfer {self.uuid} of {self.patient_id} ({self.state})"

    @property
    def is_pending(self) -> bool:
        return self.state == TransferState.PENDING

    def visit_by(self) -> dt.date | None:
        """The date by which the receiving doctor should have visited (accepted transfers only)."""
        if self.state != TransferState.ACCEPTED or self.decided_on is None:
            return None
        return self.decided_on + dt.timedelta(days=VISIT_WITHIN_DAYS)

    def pending_days(self, today: dt.date) -> int:
        return (today - self.requested_on).days
