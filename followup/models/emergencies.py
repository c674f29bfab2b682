"""Emergency handling records (应急处置, domain.md §9); imported by followup.models so Django sees them.

A record concerns a registered patient, or a person who is not registered yet: that person's name and ID number
are encrypted like the registry's identity fields, and the record can be linked to the patient later. The
record is to be completed within 24 hours of the event; ``completed_at`` is set when the handler marks it
complete, and a record still open (or completed) more than 24 hours after the event is flagged.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from casemgmt.areas.models import Area
from casemgmt.crypto.fields import EncryptedTextField
from registry.models import Patient

__all__ = [
    "COMPLETE_WITHIN",
    "Emergency",
    "EmergencyConsent",
    "EmergencyDisposition",
    "EmergencyMeasure",
    "EmergencySituation",
]

COMPLETE_WITHIN = dt.timedelta(hours=24)


class EmergencySituation(models.TextChoices):
    SELF_HARM = "self_harm", _("自伤或有自伤危险")
    DANGER = "danger", _("危害他人或公共安全")
    RELAPSE = "relapse", _("病情复发或明显加重")
    DRUG = "drug", _("急性药物不良反应或过量")


class EmergencyMeasure(models.TextChoices):
    DEESCALATION = "deescalation", _("言语安抚/降低激越")
    CRISIS = "crisis", _("危机干预")
    RESTRAINT = "restraint", _("保护性约束")
    MEDICATION = "medication", _("药物处置")
    TRANSPORT = "transport", _("护送/转运")


class EmergencyDisposition(models.TextChoices):
    OBSERVE = "observe", _("留观")
    ADMIT = "admit", _("住院")
    REFER = "refer", _("转诊")
    HOME = "home", _("回家")


class EmergencyConsent(models.IntegerChoices):
    PATIENT = 1, _("患者本人同意")
    GUARDIAN = 2, _("监护人同意")
    NONE = 3, _("未能取得同意（紧急情况依法处置）")


class Emergency(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="emergencies", verbose_name=_("患者")
    )
    # A person not registered yet: identity encrypted, never in clear, never in the audit log.
    person_name = EncryptedTextField(_("姓名"), max_plaintext_length=50)
    person_national_id = EncryptedTextField(_("身份证号"), max_plaintext_length=18)
    # The village whose doctors answer for the record: the patient's village at the time, or where it happened.
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("所属村(居)"))

    occurred_at = models.DateTimeField(_("发生时间"))
    place = EncryptedTextField(_("发生地点"), max_plaintext_length=200)
    situations = models.JSONField(_("情形"), default=list, blank=True)
    risk_level = models.PositiveSmallIntegerField(_("危险性评估"), null=True, blank=True)
    reported_by = models.CharField(_("报告人"), max_length=100, blank=True, help_text=_("如：家属、村委会、派出所"))
    participants = models.CharField(_("参与处置人员"), max_length=200, blank=True)
    measures = models.JSONField(_("处置措施"), default=list, blank=True)
    medication_drug = models.CharField(_("药物"), max_length=60, blank=True)
    medication_dose = models.CharField(_("剂量"), max_length=40, blank=True)
    medication_route = models.CharField(_("给药途径"), max_length=40, blank=True)
    disposition = models.CharField(_("处置结果"), max_length=10, choices=EmergencyDisposition.choices, blank=True)
    hospital = models.CharField(_("收治医院"), max_length=100, blank=True)
    consent = models.PositiveSmallIntegerField(_("知情同意"), choices=EmergencyConsent.choices, null=True, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("处置负责人")
    )
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    linked_at = models.DateTimeField(null=True, blank=True)
    # The record's ref in the registry workbook it was imported from (exchange.md §1): loading the same workbook
    # again matches it by patient + ref (by village + ref for a person not registered). Empty for records made here.
    source_ref = models.CharField(  # noqa: DJ001
        _("导入处置编号"), max_length=40, null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["area", "-occurred_at"], name="emergency_area_recent"),
            models.Index(fields=["patient", "-occurred_at"], name="emergency_patient_recent"),
            models.Index(fields=["completed_at", "occurred_at"], name="emergency_completion"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(risk_level__isnull=True) | Q(risk_level__lte=5), name="emergency_risk_level_0_5"
            ),
            models.UniqueConstraint(
                fields=["patient", "source_ref"],
                condition=Q(source_ref__isnull=False, patient__isnull=False),
                name="emergency_one_per_workbook_ref",
            ),
            models.UniqueConstraint(
                fields=["area", "source_ref"],
                condition=Q(source_ref__isnull=False, patient__isnull=True),
                name="emergency_unregistered_one_per_workbook_ref",
            ),
        ]

    def __str__(self) -> str:  # never identity
        return f"Emergency {self.uuid} at {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def is_registered(self) -> bool:
        return self.patient_id is not None

    @property
    def deadline(self) -> dt.datetime:
        return self.occurred_at + COMPLETE_WITHIN

    def is_late(self, now: dt.datetime) -> bool:
        """Not completed within 24 hours of the event: still open after the deadline, or completed after it."""
        if self.completed_at is None:
            return now > self.deadline
        return self.completed_at > self.deadline
