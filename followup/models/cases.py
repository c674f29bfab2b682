"""Case management of unstable patients (个案管理, domain.md §8); imported by followup.models so Django sees them.

A case opens when a follow-up is classified unstable, the risk level is 3 or more, or the patient has a history
of 肇事/肇祸; at most one case per patient is open at a time (a conditional unique constraint, so two saves racing
cannot open two). A closed case keeps its team, plan and contacts as history.

Team members are system users (case-team accounts such as police or grid workers, or doctors) or external
persons without a login (name and phone encrypted like the registry's identity fields). A user who is not one of
the patient's doctors reaches the patient through a django-guardian grant (``registry.PatientUserObjectPermission``)
that the membership created and that ends with it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from casemgmt.crypto.fields import EncryptedTextField
from registry.models import Patient, PatientUserObjectPermission

__all__ = [
    "Case",
    "CaseCloseReason",
    "CaseContact",
    "CaseContactMode",
    "CaseMember",
    "CaseOpenReason",
    "CaseRole",
]


class CaseOpenReason(models.TextChoices):
    UNSTABLE = "unstable", _("随访分类为不稳定")
    RISK = "risk", _("危险性评估3级及以上")
    HISTORY = "history", _("有肇事肇祸史")
    OTHER = "other", _("其他")  # a case the team opened for another reason (the registry workbook carries them)


class CaseCloseReason(models.TextChoices):
    STABLE_TWICE = "stable_twice", _("连续两次随访病情稳定")
    DEATH = "death", _("患者死亡")
    TRANSFER_OUT = "transfer_out", _("迁出本辖区")
    RECORD_CLOSED = "record_closed", _("档案注销")
    OTHER = "other", _("其他")


class CaseRole(models.TextChoices):
    PSYCHIATRIST = "psychiatrist", _("精神科医生")
    PREVENTION_DOCTOR = "prevention_doctor", _("精防医生")
    VILLAGE_DOCTOR = "village_doctor", _("村医")
    COMMITTEE = "committee", _("村(居)委会成员")
    GRID = "grid", _("网格员")
    POLICE = "police", _("民警")
    CIVIL_AFFAIRS = "civil_affairs", _("民政干事")
    DISABILITY = "disability", _("残联专干")
    SOCIAL_WORKER = "social_worker", _("社会工作者")
    FAMILY = "family", _("监护人/家属")
    VOLUNTEER = "volunteer", _("志愿者")


class CaseContactMode(models.IntegerChoices):
    VISIT = 1, _("入户")
    PHONE = 2, _("电话")
    VIDEO = 3, _("视频/微信")
    MEETING = 4, _("会商")
    OTHER = 9, _("其他")


class Case(models.Model):
    """One case-management episode of a patient, with its plan (goals, measures, review date)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases")
    opened_on = models.DateField(_("开案日期"))
    opened_reasons = models.JSONField(_("开案原因"), default=list)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The follow-up whose saving opened the case (its page tells the doctor); PROTECT: follow-ups are never deleted.
    opened_from = models.ForeignKey("followup.FollowUp", on_delete=models.PROTECT, null=True, related_name="+")
    closed_on = models.DateField(_("结案日期"), null=True, blank=True)
    close_reason = models.CharField(_("结案原因"), max_length=20, choices=CaseCloseReason.choices, blank=True)
    close_note = models.CharField(_("结案说明"), max_length=200, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # The plan (管理方案). Free text about a person is encrypted like the registry's notes.
    goals = EncryptedTextField(_("管理目标"), max_plaintext_length=1000)
    treatment = EncryptedTextField(_("治疗措施"), max_plaintext_length=1000)
    rehabilitation = EncryptedTextField(_("康复措施"), max_plaintext_length=1000)
    risk_prevention = EncryptedTextField(_("风险防范措施"), max_plaintext_length=1000)
    family_support = EncryptedTextField(_("家庭支持措施"), max_plaintext_length=1000)
    review_date = models.DateField(_("方案评估日期"), null=True, blank=True, db_index=True)
    plan_updated_at = models.DateTimeField(null=True, blank=True)
    plan_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The case's ref in the registry workbook it was imported from (exchange.md §1, like FollowUp.source_ref):
    # loading the same workbook again matches it by patient + ref. Empty for cases opened here.
    source_ref = models.CharField(  # noqa: DJ001
        _("导入个案编号"), max_length=40, null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "source_ref"],
                condition=Q(source_ref__isnull=False),
                name="case_one_per_workbook_ref",
            ),
            models.UniqueConstraint(
                fields=["patient"], condition=Q(closed_on__isnull=True), name="one_open_case_per_patient"
            ),
            models.CheckConstraint(
                condition=(Q(closed_on__isnull=True) & Q(close_reason=""))
                | (Q(closed_on__isnull=False) & ~Q(close_reason="")),
                name="case_closed_with_reason",
            ),
        ]

    def __str__(self) -> str:  # never identity
        return f"Case {self.uuid} of {self.patient_id}"

    @property
    def is_open(self) -> bool:
        return self.closed_on is None

    @property
    def has_plan(self) -> bool:
        return bool(self.goals or self.treatment or self.rehabilitation or self.risk_prevention or self.family_support)


class CaseMember(models.Model):
    """A member of a case team: a system user, or an external person without a login.

    ``grant`` is the per-patient view grant this membership gave (none for the patient's own doctors and for
    external persons); removing the member ends it. A removed membership stays as history (``removed_at``).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(_("团队角色"), max_length=20, choices=CaseRole.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="case_memberships"
    )
    person_name = EncryptedTextField(_("姓名"), max_plaintext_length=50)
    person_phone = EncryptedTextField(_("联系电话"), max_plaintext_length=20)
    grant = models.ForeignKey(
        PatientUserObjectPermission, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"],
                condition=Q(removed_at__isnull=True, user__isnull=False),
                name="one_active_membership_per_user",
            ),
        ]

    def __str__(self) -> str:  # never identity
        return f"Case member {self.uuid} ({self.role}) of {self.case_id}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None

    @property
    def name(self) -> str:
        return str(self.user) if self.user_id is not None else self.person_name

    @property
    def phone(self) -> str:
        return (self.user.phone if self.user is not None else self.person_phone) or ""


class CaseContact(models.Model):
    """A contact of the team with the patient or family (date, mode, who, findings, actions)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="contacts")
    date = models.DateField(_("联系日期"))
    mode = models.PositiveSmallIntegerField(_("联系方式"), choices=CaseContactMode.choices)
    who = EncryptedTextField(_("联系对象"), max_plaintext_length=100, help_text=_("如：患者本人、监护人、邻居"))
    findings = EncryptedTextField(_("发现情况"), max_plaintext_length=1000)
    actions = EncryptedTextField(_("采取措施"), max_plaintext_length=1000)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["case", "-date"], name="case_contact_recent")]

    def __str__(self) -> str:
        return f"Case contact {self.uuid} on {self.date}"
