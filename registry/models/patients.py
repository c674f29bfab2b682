"""The patient registry (domain.md §4): identity (encrypted), supplementary form, status history, custody.

Views never use ``Patient.objects`` directly: they start from ``Patient.objects.visible_to(user)``, usually
through ``registry.access.visibility.get_patient_for_user``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from casemgmt.accounts.models import User
from casemgmt.areas.models import Area
from casemgmt.areas.scope import within
from casemgmt.crypto import cipher as crypto
from casemgmt.crypto.fields import EncryptedTextField
from registry import codes
from registry.models.breakglass import BREAKING_ROLES, live_break_glass
from registry.patients.bounds import SUPPLEMENTARY_TEXT_MAX_LENGTH as SUPPLEMENTARY_TEXT
from registry.patients.bounds import TEXT_MAX_LENGTH as TEXT

NAME_INDEX_HEX = 4  # 16 bits: a name lookup returns a handful of candidates to decrypt and compare
PHONE_TAIL_INDEX_HEX = 3  # 12 bits over 10,000 possible endings
PHONE_TAIL_DIGITS = 4


def name_index(name: str) -> str:
    return crypto.blind_index(name, purpose="name", hex_length=NAME_INDEX_HEX)


def national_id_index(number: str) -> str:
    return crypto.blind_index(number, purpose="national_id")


def phone_tail_index(phone_or_tail: str) -> str:
    digits = "".join(ch for ch in phone_or_tail if ch.isdigit())
    return crypto.blind_index(digits[-PHONE_TAIL_DIGITS:], purpose="phone_tail", hex_length=PHONE_TAIL_INDEX_HEX)


class PatientQuerySet(models.QuerySet["Patient"]):
    def visible_to(self, user: User) -> PatientQuerySet:
        """THE visibility rule: the area subtrees of the user's memberships, plus live per-patient grants, plus the
        one patient of each live break-glass access (``registry.models.breakglass``: doctors and area staff only).

        Nothing else grants visibility, and nothing is subtracted. Inactive or anonymous users see nothing, and
        neither do administrators (issue 14 §3: they manage accounts and areas, never read identities), whatever
        grant or membership row they may still hold.
        """
        if not getattr(user, "is_authenticated", False) or not user.is_active or user.is_system_admin:
            return self.none()
        # The grants and live break-glass accesses are fetched first (one small query, a UNION) rather than as a
        # subquery: an OR with a subquery defeats the prefix index and scans every patient; a literal id list
        # keeps it an index scan.
        granted = Q(pk__in=list(_granted_ids(user)))
        return self.filter(granted | within(user.jurisdiction_prefixes(), "village__code"))

    def in_jurisdiction_of(self, user: User) -> PatientQuerySet:
        """The area part of the rule only (used to decide write access, which grants never give)."""
        prefixes = user.jurisdiction_prefixes() if getattr(user, "is_authenticated", False) else []
        if not prefixes:
            return self.none()
        return self.filter(within(prefixes, "village__code"))


class Patient(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    village = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="patients", verbose_name=_("现住址所在村(居)")
    )

    # Identity: encrypted at rest (domain.md §4.1).
    name = EncryptedTextField(_("姓名"), max_plaintext_length=TEXT["name"])
    national_id = EncryptedTextField(_("身份证号"), max_plaintext_length=TEXT["national_id"])
    phone = EncryptedTextField(_("联系电话"), max_plaintext_length=TEXT["phone"])
    address = EncryptedTextField(_("现住址(详细)"), max_plaintext_length=TEXT["address"])
    hukou_address = EncryptedTextField(_("户籍地址"), max_plaintext_length=TEXT["hukou_address"])
    guardian_name = EncryptedTextField(_("监护人姓名"), max_plaintext_length=TEXT["guardian_name"])
    guardian_relation = models.CharField(_("监护人与患者关系"), max_length=TEXT["guardian_relation"], blank=True)
    guardian_phone = EncryptedTextField(_("监护人电话"), max_plaintext_length=TEXT["guardian_phone"])
    guardian_address = EncryptedTextField(_("监护人住址"), max_plaintext_length=TEXT["guardian_address"])
    committee_contact_name = EncryptedTextField(
        _("村(居)委会联系人"), max_plaintext_length=TEXT["committee_contact_name"]
    )
    committee_contact_phone = EncryptedTextField(
        _("村(居)委会联系电话"), max_plaintext_length=TEXT["committee_contact_phone"]
    )
    notes = EncryptedTextField(_("备注"), max_plaintext_length=TEXT["notes"])

    # Keyed blind indexes for exact search and deduplication. Indexed in Meta, not with unique/db_index: on
    # PostgreSQL those add a second, varchar_pattern_ops index per column for LIKE, which no one runs on an HMAC
    # (three indexes fewer to write for every registration: 15 MB per 100,000 patients).
    national_id_index = models.CharField(max_length=64, editable=False)
    name_index = models.CharField(max_length=NAME_INDEX_HEX, editable=False)
    phone_tail_index = models.CharField(max_length=PHONE_TAIL_INDEX_HEX, blank=True, editable=False)

    # In clear: needed for statistics.
    sex = models.PositiveSmallIntegerField(_("性别"), choices=codes.Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    disorder = models.PositiveSmallIntegerField(_("诊断类别"), choices=codes.Disorder.choices)
    diagnosis_date = models.DateField(_("确诊日期"), null=True, blank=True)
    diagnosis_hospital = models.CharField(_("确诊医院"), max_length=TEXT["diagnosis_hospital"], blank=True)
    registered_on = models.DateField(_("建档日期"))
    status = models.CharField(_("状态"), max_length=10, choices=codes.Status.choices, default=codes.Status.ACTIVE)
    status_since = models.DateField(_("状态日期"))

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["-registered_on", "-id"]
        indexes = [
            # Prefix matches on village_id ("everything under this township") use the varchar_pattern_ops
            # index Django creates for a CharField foreign key on PostgreSQL.
            models.Index(fields=["village", "-registered_on", "-id"], name="patient_village_recent"),
            # Lists over a whole county or city walk this index newest first and stop after one page.
            models.Index(fields=["-registered_on", "-id"], name="patient_recent"),
            models.Index(fields=["name_index"], name="patient_name_index"),
            models.Index(fields=["phone_tail_index"], name="patient_phone_tail_index"),
        ]
        constraints = [models.UniqueConstraint(fields=["national_id_index"], name="patient_one_per_national_id")]

    def __str__(self) -> str:  # never identity: this string may reach logs
        return f"Patient {self.uuid}"

    def age_on(self, day: dt.date) -> int:
        return day.year - self.birth_date.year - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))

    def refresh_indexes(self) -> None:
        self.national_id_index = national_id_index(self.national_id)
        self.name_index = name_index(self.name)
        self.phone_tail_index = phone_tail_index(self.phone) if self.phone else ""

    @property
    def is_counted_as_registered(self) -> bool:
        return self.status in codes.REGISTERED_STATUSES


class SupplementaryForm(models.Model):
    """个人信息补充表, filled at enrolment and updated when it changes (domain.md §4.2)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="supplementary")
    household_type = models.PositiveSmallIntegerField(
        _("户别"), choices=codes.HouseholdType.choices, null=True, blank=True
    )
    employment = models.PositiveSmallIntegerField(
        _("就业情况"), choices=codes.Employment.choices, null=True, blank=True
    )
    consent = models.PositiveSmallIntegerField(_("知情同意"), choices=codes.Consent.choices)
    consent_signer = EncryptedTextField(_("知情同意签字人"), max_plaintext_length=SUPPLEMENTARY_TEXT["consent_signer"])
    consent_date = models.DateField(_("签字日期"), null=True, blank=True)
    harmed_others = models.BooleanField(
        _("曾伤害或危害他人安全 (精神卫生法第三十条)"),
        default=False,
        help_text=_("如是，拒绝知情同意也不影响纳入管理。"),
    )
    onset_date = models.DateField(_("初次发病时间"), null=True, blank=True)
    onset_year_only = models.BooleanField(_("仅知年份"), default=False)
    past_symptoms = models.JSONField(_("既往主要症状"), default=list, blank=True)
    past_locking = models.PositiveSmallIntegerField(
        _("既往关锁情况"), choices=codes.Locking.choices, null=True, blank=True
    )
    past_outpatient = models.PositiveSmallIntegerField(
        _("既往门诊治疗情况"), choices=codes.PastOutpatient.choices, null=True, blank=True
    )
    first_antipsychotic_date = models.DateField(_("首次抗精神病药治疗时间"), null=True, blank=True)
    past_admissions = models.PositiveSmallIntegerField(_("既往住院次数"), default=0)
    last_treatment_result = models.PositiveSmallIntegerField(
        _("最近一次治疗效果"), choices=codes.TreatmentResult.choices, null=True, blank=True
    )
    minor_trouble = models.PositiveSmallIntegerField(_("轻度滋事"), default=0)
    trouble = models.PositiveSmallIntegerField(_("肇事"), default=0)
    disaster = models.PositiveSmallIntegerField(_("肇祸"), default=0)
    other_harm = models.PositiveSmallIntegerField(_("其他危害行为"), default=0)
    self_harm = models.PositiveSmallIntegerField(_("自伤"), default=0)
    suicide_attempt = models.PositiveSmallIntegerField(_("自杀未遂"), default=0)
    economic_status = models.PositiveSmallIntegerField(
        _("经济状况"), choices=codes.EconomicStatus.choices, null=True, blank=True
    )
    specialist_opinion = EncryptedTextField(
        _("专科医生意见"), max_plaintext_length=SUPPLEMENTARY_TEXT["specialist_opinion"]
    )
    filled_on = models.DateField(_("填表日期"))
    filled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Supplementary form of {self.patient_id}"


class StatusChange(models.Model):
    """Every change of status, with its effective date, reasons and actor (domain.md §4.3)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=codes.Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=codes.Status.choices)
    effective_date = models.DateField(_("生效日期"))
    lost_reason = models.PositiveSmallIntegerField(
        _("失访原因"), choices=codes.LostReason.choices, null=True, blank=True
    )
    death_cause = models.PositiveSmallIntegerField(
        _("死亡原因"), choices=codes.DeathCause.choices, null=True, blank=True
    )
    death_subcause = models.PositiveSmallIntegerField(
        _("躯体疾病死因"), choices=codes.PhysicalDeathCause.choices, null=True, blank=True
    )
    closure_reason = models.PositiveSmallIntegerField(
        _("注销原因"), choices=codes.ClosureReason.choices, null=True, blank=True
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["patient_id", "effective_date", "id"]
        indexes = [models.Index(fields=["patient", "effective_date"], name="status_change_patient_date")]

    def __str__(self) -> str:
        return f"{self.patient_id}: {self.from_status}->{self.to_status} on {self.effective_date}"


class ClosureRequest(models.Model):
    """Closing a record (注销) needs a second person's review: this row waits for it."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("待审核")
        CONFIRMED = "confirmed", _("已确认")
        REJECTED = "rejected", _("已驳回")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="closure_requests")
    effective_date = models.DateField(_("注销日期"))
    reason = models.PositiveSmallIntegerField(_("注销原因"), choices=codes.ClosureReason.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(decision="pending"), name="one_pending_closure_per_patient"
            )
        ]

    def __str__(self) -> str:
        return f"Closure of {self.patient_id} ({self.decision})"


class CustodySpan(models.Model):
    """Which area held the record when. Indicators attribute a patient to the holder at the cut-off."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="custody_spans")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["patient_id", "start_date"]

    def __str__(self) -> str:
        return f"{self.patient_id} held by {self.area_id} from {self.start_date}"


class IdentityRevision(models.Model):
    """Previous identity values when they change, encrypted like the record itself (never in clear)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="identity_revisions")
    changed_fields = models.JSONField(default=list)
    previous_values = EncryptedTextField()  # JSON of the previous plaintext values
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Identity revision of {self.patient_id} at {self.changed_at}"


class PatientUserObjectPermission(UserObjectPermissionBase):
    """Per-patient grant (django-guardian, direct foreign key) with who granted it, why, and until when."""

    content_object = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="user_grants")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class PatientGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="group_grants")

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


def _granted_ids(user: User) -> models.QuerySet[PatientUserObjectPermission, int]:
    """The ids of the patients a user reaches one by one: live grants, and live break-glass accesses (one query)."""
    grants = live_grants(user).order_by().values_list("content_object_id", flat=True)
    if user.role not in BREAKING_ROLES:
        return grants
    return grants.union(live_break_glass(user).order_by().values_list("patient_id", flat=True))


def live_grants(user: User) -> models.QuerySet[PatientUserObjectPermission]:
    """A user's per-patient view grants that have not expired."""
    return PatientUserObjectPermission.objects.filter(user=user, permission__codename="view_patient").filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )
