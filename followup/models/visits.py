"""Follow-ups (随访服务记录表, domain.md §5), their medication rows, the patient's care state, rehabilitation
participation (§10) and the annual health check.

Clinical fields are nullable: a not-reached, lost or dead attempt carries none, and records migrated from older
systems may lack some (they then simply do not count as complete follow-ups in the indicators).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from followup import codes
from followup.visits import bounds
from registry.models import Patient

POSITIVE = [MinValueValidator(bounds.DOSE_MIN)]

# A complete follow-up (domain.md §11): reached with a risk level, or reached while in hospital. The indicators
# count only these; FollowUp.is_complete is the same test on one row.
COMPLETE = Q(outcome=codes.Outcome.REACHED) & (
    Q(risk_level__isnull=False) | Q(hospitalisation=codes.Hospitalisation.NOW)
)
# Columns an attempt that did not reach the patient never fills (checked by a constraint as well).
REACHED_ONLY_COLUMNS = ("risk_level", "insight", "adherence", "hospitalisation", "classification", "next_date")


class FollowUpQuerySet(models.QuerySet["FollowUp"]):
    def reached(self) -> FollowUpQuerySet:
        return self.filter(outcome=codes.Outcome.REACHED)

    def complete(self) -> FollowUpQuerySet:
        return self.filter(COMPLETE)


class FollowUp(models.Model):
    """One follow-up attempt. The doctor's entries are stored as entered; the system's proposals beside them.

    ``suggested_classification`` / ``suggested_next_date`` keep what the rules proposed, so a supervisor can see
    where the doctor chose differently; ``next_date_reason`` explains a date later than the proposal.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    submission_key = models.UUIDField(unique=True, editable=False)  # one follow-up per form submission
    # No index of its own: ``followup_patient_recent`` (patient, -date, -id) starts with the patient and serves
    # every lookup by patient; a second index would only cost every insert (six million rows per province).
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="followups", db_index=False)
    date = models.DateField(_("随访日期"))
    mode = models.PositiveSmallIntegerField(_("随访方式"), choices=codes.Mode.choices)
    contacts = models.JSONField(_("随访对象"), default=list, blank=True)
    outcome = models.CharField(_("随访结果"), max_length=12, choices=codes.Outcome.choices)

    risk_level = models.PositiveSmallIntegerField(_("危险性评估"), choices=codes.RiskLevel.choices, null=True)
    symptoms = models.JSONField(_("目前症状"), default=list, blank=True)
    symptom_other = models.CharField(_("其他症状"), max_length=bounds.TEXT_MAX_LENGTH["symptom_other"], blank=True)
    obvious_psychotic_symptoms = models.BooleanField(_("有明显精神病性症状"), default=False)
    insight = models.PositiveSmallIntegerField(_("自知力"), choices=codes.Insight.choices, null=True)
    sleep = models.PositiveSmallIntegerField(_("睡眠情况"), choices=codes.Grade.choices, null=True)
    diet = models.PositiveSmallIntegerField(_("饮食情况"), choices=codes.Grade.choices, null=True)
    social_selfcare = models.PositiveSmallIntegerField(_("个人生活料理"), choices=codes.Grade.choices, null=True)
    social_housework = models.PositiveSmallIntegerField(_("家务劳动"), choices=codes.Grade.choices, null=True)
    social_work = models.PositiveSmallIntegerField(_("生产劳动及工作"), choices=codes.WorkGrade.choices, null=True)
    social_learning = models.PositiveSmallIntegerField(_("学习能力"), choices=codes.Grade.choices, null=True)
    social_contact = models.PositiveSmallIntegerField(_("社会人际交往"), choices=codes.Grade.choices, null=True)
    minor_trouble = models.PositiveSmallIntegerField(_("轻度滋事"), default=0)
    trouble = models.PositiveSmallIntegerField(_("肇事"), default=0)
    disaster = models.PositiveSmallIntegerField(_("肇祸"), default=0)
    other_harm = models.PositiveSmallIntegerField(_("其他危害行为"), default=0)
    self_harm = models.PositiveSmallIntegerField(_("自伤"), default=0)
    suicide_attempt = models.PositiveSmallIntegerField(_("自杀未遂"), default=0)
    # The doctor confirmed a level below 4 despite recorded self-harm (§6: the level is never set silently).
    self_harm_level_confirmed = models.BooleanField(_("已确认危险性等级"), default=False)
    locking = models.PositiveSmallIntegerField(_("关锁情况"), choices=codes.Locking.choices, null=True)
    hospitalisation = models.PositiveSmallIntegerField(_("住院情况"), choices=codes.Hospitalisation.choices, null=True)
    last_discharge_date = models.DateField(_("末次出院时间"), null=True)
    lab = models.PositiveSmallIntegerField(_("实验室检查"), choices=codes.Lab.choices, null=True)
    lab_text = models.CharField(_("检查结果"), max_length=bounds.TEXT_MAX_LENGTH["lab_text"], blank=True)
    adherence = models.PositiveSmallIntegerField(_("用药依从性"), choices=codes.Adherence.choices, null=True)
    adverse_reaction = models.PositiveSmallIntegerField(
        _("药物不良反应"), choices=codes.AdverseReaction.choices, null=True
    )
    adverse_reaction_text = models.CharField(
        _("不良反应描述"), max_length=bounds.TEXT_MAX_LENGTH["adverse_reaction_text"], blank=True
    )
    adverse_reaction_severe = models.BooleanField(_("严重药物不良反应"), default=False)
    severe_physical_illness = models.BooleanField(_("严重躯体疾病"), default=False)
    treatment_effect = models.PositiveSmallIntegerField(_("治疗效果"), choices=codes.TreatmentEffect.choices, null=True)
    referral = models.PositiveSmallIntegerField(_("是否转诊"), choices=codes.Referral.choices, null=True)
    referral_reason = models.CharField(_("转诊原因"), max_length=bounds.TEXT_MAX_LENGTH["referral_reason"], blank=True)
    referral_institution = models.CharField(
        _("转诊机构及科室"), max_length=bounds.TEXT_MAX_LENGTH["referral_institution"], blank=True
    )
    referral_department = models.CharField(
        _("转诊科室"), max_length=bounds.TEXT_MAX_LENGTH["referral_department"], blank=True
    )
    rehabilitation = models.JSONField(_("康复措施"), default=list, blank=True)
    rehabilitation_other = models.CharField(
        _("其他康复措施"), max_length=bounds.TEXT_MAX_LENGTH["rehabilitation_other"], blank=True
    )
    family_support = models.BooleanField(_("已对家属进行心理支持和健康教育"), default=False)
    suggested_classification = models.PositiveSmallIntegerField(
        _("系统建议分类"), choices=codes.Classification.choices, null=True
    )
    classification = models.PositiveSmallIntegerField(
        _("本次随访分类"), choices=codes.Classification.choices, null=True
    )
    suggested_next_date = models.DateField(_("系统建议下次随访日期"), null=True)
    next_date = models.DateField(_("下次随访日期"), null=True)
    next_date_reason = models.CharField(
        _("推迟随访的理由"), max_length=bounds.TEXT_MAX_LENGTH["next_date_reason"], blank=True
    )
    lost_reason = models.PositiveSmallIntegerField(_("失访原因"), choices=codes.LostReason.choices, null=True)
    death_date = models.DateField(_("死亡日期"), null=True)
    death_cause = models.PositiveSmallIntegerField(_("死亡原因"), choices=codes.DeathCause.choices, null=True)
    death_subcause = models.PositiveSmallIntegerField(
        _("躯体疾病死因"), choices=codes.PhysicalDeathCause.choices, null=True
    )

    # Not indexed: nothing looks follow-ups up by doctor, and accounts are deactivated, not deleted (deleting one
    # would scan the table for the PROTECT check, which is acceptable for a rare administrative act).
    doctor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # The follow-up's ref in the registry workbook it was imported from (exchange.md §1): loading the same
    # workbook again matches it by patient + ref instead of adding it twice. Empty for follow-ups entered here.
    # Nullable on purpose (unlike the house rule for text): the unique constraint applies to imported rows only.
    source_ref = models.CharField(  # noqa: DJ001
        _("导入随访编号"), max_length=40, null=True, blank=True, editable=False
    )

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["patient", "-date", "-id"], name="followup_patient_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(risk_level__isnull=True) | Q(risk_level__lte=5), name="followup_risk_level_0_5"
            ),
            models.CheckConstraint(
                condition=Q(outcome=codes.Outcome.REACHED) | Q(**{f"{c}__isnull": True for c in REACHED_ONLY_COLUMNS}),
                name="followup_attempt_without_clinical_fields",
            ),
            models.UniqueConstraint(
                fields=["patient", "source_ref"],
                condition=Q(source_ref__isnull=False),
                name="followup_one_per_workbook_ref",
            ),
        ]

    def __str__(self) -> str:
        return f"FollowUp {self.uuid} of {self.patient_id} on {self.date}"

    @property
    def is_reached(self) -> bool:
        return self.outcome == codes.Outcome.REACHED

    @property
    def is_complete(self) -> bool:
        """Counts for the indicators: reached with a risk level, or reached while in hospital (§11)."""
        return self.is_reached and (self.risk_level is not None or self.hospitalisation == codes.Hospitalisation.NOW)


class DosingShape(models.TextChoices):
    SCHEDULE = "schedule", _("早/中/晚 剂量")
    FREQUENCY = "frequency", _("每日次数 × 每次剂量")
    DEPOT = "depot", _("长效制剂（每几周一次）")  # depot injections, and weekly oral penfluridol


SHAPE_FIELDS: dict[str, tuple[str, ...]] = {
    DosingShape.SCHEDULE: ("morning_mg", "noon_mg", "evening_mg"),
    DosingShape.FREQUENCY: ("times_per_day", "mg_per_dose"),
    DosingShape.DEPOT: ("depot_every_weeks", "depot_mg"),
}
DOSE_FIELDS: tuple[str, ...] = tuple(name for names in SHAPE_FIELDS.values() for name in names)
WHOLE_NUMBER_FIELDS = frozenset(bounds.WHOLE_NUMBER_MAX)


def dose_problems(shape: str, values: Mapping[str, object]) -> list[str]:
    """What is wrong with one row's dosing (empty when it is valid); plain values in, Chinese messages out.

    Exactly the shape's own fields may be filled: a schedule needs at least one of morning/noon/evening (noon is
    often empty), the other two shapes need both of theirs; every filled value is a positive number. Shared by
    ``MedicationRow.clean`` and the follow-up service, so a form and an import refuse the same rows.
    """
    if shape not in SHAPE_FIELDS:
        return [str(_("请选择用法。"))]
    problems: list[str] = []
    own = SHAPE_FIELDS[shape]
    if any(values.get(name) is not None for name in DOSE_FIELDS if name not in own):
        problems.append(str(_("只能填写所选用法的剂量项目。")))
    filled = {name: values.get(name) for name in own if values.get(name) is not None}
    for name, value in filled.items():
        problem = _number_problem(name, value)
        if problem:
            problems.append(problem)
    if shape == DosingShape.SCHEDULE and not filled:
        problems.append(str(_("早、中、晚至少填写一项剂量。")))
    elif shape != DosingShape.SCHEDULE and len(filled) < len(own):
        problems.append(str(_("请填写该用法的全部剂量项目。")))
    return list(dict.fromkeys(problems))


def _number_problem(name: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or not Decimal(value).is_finite():
        return str(_("剂量必须是数字。"))
    if value <= 0:
        return str(_("剂量和次数必须大于0。"))
    if name in WHOLE_NUMBER_FIELDS:
        limit = bounds.WHOLE_NUMBER_MAX[name]
        if value != int(value) or value > limit:
            return str(_("次数和间隔周数必须是1至%(max)s的整数。") % {"max": limit})
    elif value > bounds.DOSE_MAX or value != round(Decimal(value), bounds.DOSE_DECIMAL_PLACES):
        return str(_("剂量最多两位小数，且不超过%(max)s mg。") % {"max": bounds.DOSE_MAX})
    return ""


def _shape_condition(shape: str) -> Q:
    """The database's copy of the dosing rule: the shape's own fields filled (one of them for a schedule)."""
    own = SHAPE_FIELDS[shape]
    others = Q(**{f"{name}__isnull": True for name in DOSE_FIELDS if name not in own})
    if shape == DosingShape.SCHEDULE:
        filled = Q(morning_mg__isnull=False) | Q(noon_mg__isnull=False) | Q(evening_mg__isnull=False)
    else:
        filled = Q(**{f"{name}__isnull": False for name in own})
    return Q(shape=shape) & others & filled


class MedicationRow(models.Model):
    """One drug going forward (item 19), in one of three dosing shapes."""

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="medications")
    drug = models.CharField(_("药物名称"), max_length=bounds.DRUG_MAX_LENGTH)
    shape = models.CharField(_("用法"), max_length=10, choices=DosingShape.choices)
    morning_mg = models.DecimalField(
        _("早(mg)"),
        max_digits=bounds.DOSE_MAX_DIGITS,
        decimal_places=bounds.DOSE_DECIMAL_PLACES,
        null=True,
        validators=POSITIVE,
    )
    noon_mg = models.DecimalField(
        _("中(mg)"),
        max_digits=bounds.DOSE_MAX_DIGITS,
        decimal_places=bounds.DOSE_DECIMAL_PLACES,
        null=True,
        validators=POSITIVE,
    )
    evening_mg = models.DecimalField(
        _("晚(mg)"),
        max_digits=bounds.DOSE_MAX_DIGITS,
        decimal_places=bounds.DOSE_DECIMAL_PLACES,
        null=True,
        validators=POSITIVE,
    )
    times_per_day = models.PositiveSmallIntegerField(_("每日次数"), null=True)
    mg_per_dose = models.DecimalField(_("每次剂量(mg)"), max_digits=7, decimal_places=2, null=True, validators=POSITIVE)
    depot_every_weeks = models.PositiveSmallIntegerField(_("每几周一次"), null=True)
    depot_mg = models.DecimalField(
        _("每次剂量(mg)"),
        max_digits=bounds.DOSE_MAX_DIGITS,
        decimal_places=bounds.DOSE_DECIMAL_PLACES,
        null=True,
        validators=POSITIVE,
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=_shape_condition(DosingShape.SCHEDULE)
                | _shape_condition(DosingShape.FREQUENCY)
                | _shape_condition(DosingShape.DEPOT),
                name="medication_row_fields_match_shape",
            ),
            models.CheckConstraint(
                condition=Q(*(Q(**{f"{n}__isnull": True}) | Q(**{f"{n}__gt": 0}) for n in DOSE_FIELDS)),
                name="medication_row_doses_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.drug} ({self.shape})"

    def clean(self) -> None:
        problems = dose_problems(self.shape, {name: getattr(self, name) for name in DOSE_FIELDS})
        if problems:
            raise ValidationError(problems)

    def regimen_key(self) -> tuple[object, ...]:
        """Equal keys mean the same prescription; used to spot medication changes on the timeline."""
        return (self.drug, self.shape, *(getattr(self, name) for name in SHAPE_FIELDS[self.shape]))

    def describe(self) -> str:
        if self.shape == DosingShape.SCHEDULE:
            parts = [_mg(v) for v in (self.morning_mg, self.noon_mg, self.evening_mg)]
            return f"{self.drug} {'-'.join(parts)} mg"
        if self.shape == DosingShape.FREQUENCY:
            return f"{self.drug} {self.times_per_day}×{_mg(self.mg_per_dose)} mg/d"
        return f"{self.drug} {_mg(self.depot_mg)} mg / {self.depot_every_weeks} wk"


def _mg(value: Decimal | None) -> str:
    return "0" if value is None else f"{Decimal(value).normalize():f}"


class PatientCareState(models.Model):
    """The patient's current risk, classification and schedule, kept current by record_followup.

    The work list reads this one row per patient instead of scanning follow-ups.
    """

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="care_state", primary_key=True)
    risk_level = models.PositiveSmallIntegerField(choices=codes.RiskLevel.choices, null=True)
    classification = models.PositiveSmallIntegerField(choices=codes.Classification.choices, null=True)
    next_due_date = models.DateField(null=True, db_index=True)
    last_followup_date = models.DateField(null=True)
    last_reached_date = models.DateField(null=True)
    last_reached_classification = models.PositiveSmallIntegerField(choices=codes.Classification.choices, null=True)
    consecutive_not_reached = models.PositiveSmallIntegerField(default=0)
    last_complete_followup = models.ForeignKey(
        FollowUp, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # The work list's "unstable" and "three not reached" sections filter on these.
            models.Index(fields=["classification", "risk_level"], name="care_state_class_risk"),
            models.Index(fields=["consecutive_not_reached"], name="care_state_not_reached"),
        ]

    def __str__(self) -> str:
        return f"Care state of {self.patient_id}"


class RehabParticipation(models.Model):
    """Participation in community rehabilitation (§10). Follow-up advice does not count as participation."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="rehab_participations")
    provider_type = models.CharField(_("康复机构类型"), max_length=20, choices=codes.RehabProvider.choices)
    provider_name = models.CharField(_("机构名称"), max_length=100, blank=True)
    service_type = models.CharField(_("服务内容"), max_length=100, blank=True)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")), name="rehab_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"Rehab {self.provider_type} of {self.patient_id} from {self.start_date}"

    @property
    def is_ongoing(self) -> bool:
        return self.end_date is None

    def overlaps(self, start: dt.date, end: dt.date) -> bool:
        """Whether the participation touches [start, end] (the rehabilitation indicator's test, §11)."""
        return self.start_date <= end and (self.end_date is None or self.end_date >= start)


class HealthCheck(models.Model):
    """The annual health check (健康体检), offered with consent; may be combined with a follow-up."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="health_checks")
    date = models.DateField(_("体检日期"))
    consent = models.BooleanField(_("患者同意体检"), default=True)
    physical_exam = models.CharField(_("一般体格检查"), max_length=200, blank=True)
    blood_pressure = models.CharField(_("血压(mmHg)"), max_length=20, blank=True)
    weight_kg = models.DecimalField(_("体重(kg)"), max_digits=5, decimal_places=1, null=True, blank=True)
    blood_count = models.CharField(_("血常规"), max_length=200, blank=True)
    liver_enzymes = models.CharField(_("转氨酶"), max_length=200, blank=True)
    glucose = models.CharField(_("血糖"), max_length=50, blank=True)
    ecg = models.CharField(_("心电图"), max_length=200, blank=True)
    followup = models.ForeignKey(FollowUp, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"Health check of {self.patient_id} on {self.date}"
