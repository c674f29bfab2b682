"""Code values of the national follow-up form (随访服务记录表, domain.md §5). Never renumber.

The numbers are the national form's own, so records exchanged with the national system and older spreadsheets
keep their meaning. Lists shared with the registry's forms (symptoms, locking, lost reasons, death causes) are
re-exported from ``registry.codes`` rather than repeated, so the two forms can never drift apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from registry.codes import DeathCause, Locking, LostReason, PhysicalDeathCause, Symptom

if TYPE_CHECKING:
    # The stubs' lazy-string type, which Django's field and form signatures name.
    from django_stubs_ext import StrOrPromise
else:
    StrOrPromise = str | Promise

# The same codes as the registry's supplementary form (domain.md §4.2–4.3).
__all__ = ["DeathCause", "Locking", "LostReason", "PhysicalDeathCause", "Symptom"]


class Mode(models.IntegerChoices):
    CLINIC = 1, _("门诊")
    HOME_VISIT = 2, _("家庭访视")
    TELEPHONE = 3, _("电话")


FACE_TO_FACE = frozenset({Mode.CLINIC, Mode.HOME_VISIT})


class Contact(models.IntegerChoices):
    PATIENT = 1, _("患者本人")
    FAMILY = 2, _("患者家属/监护人")
    INFORMANT = 3, _("其他知情人")


class Outcome(models.TextChoices):
    REACHED = "REACHED", _("随访到")
    NOT_REACHED = "NOT_REACHED", _("未访到")
    LOST = "LOST", _("失访")
    DEAD = "DEAD", _("死亡")


class RiskLevel(models.IntegerChoices):
    """危险性评估 (domain.md §6)."""

    NONE = 0, _("0级：无符合以下1—5级中的任何行为")
    VERBAL = 1, _("1级：口头威胁，喊叫，但没有打砸行为")
    HOME_PROPERTY = 2, _("2级：打砸行为，局限在家里，针对财物，能被劝说制止")
    PROPERTY = 3, _("3级：明显打砸行为，不分场合，针对财物，不能接受劝说而停止")
    PERSONS = 4, _("4级：持续的打砸行为，不分场合，针对财物或人，不能接受劝说而停止（包括自伤、自杀）")
    WEAPON = 5, _("5级：持管制性危险武器的针对人的任何暴力行为，或者纵火、爆炸等行为，无论在家里还是公共场合")


class Insight(models.IntegerChoices):
    COMPLETE = 1, _("自知力完全")
    PARTIAL = 2, _("自知力不全")
    ABSENT = 3, _("自知力缺失")


class Grade(models.IntegerChoices):
    """睡眠 / 饮食 / 社会功能各项."""

    GOOD = 1, _("良好")
    FAIR = 2, _("一般")
    POOR = 3, _("较差")


class WorkGrade(models.IntegerChoices):
    GOOD = 1, _("良好")
    FAIR = 2, _("一般")
    POOR = 3, _("较差")
    NOT_APPLICABLE = 9, _("此项不适用")


class Hospitalisation(models.IntegerChoices):
    NONE = 0, _("未住院")
    NOW = 1, _("目前正在住院")
    BEFORE = 2, _("曾住院，现未住院")


class Lab(models.IntegerChoices):
    NONE = 1, _("无")
    DONE = 2, _("有")


class Adherence(models.IntegerChoices):
    REGULAR = 1, _("按医嘱规律用药")
    INTERMITTENT = 2, _("间断用药")
    NOT_TAKING = 3, _("不用药")
    NOT_PRESCRIBED = 4, _("医嘱勿需用药")


class AdverseReaction(models.IntegerChoices):
    NONE = 1, _("无")
    PRESENT = 2, _("有")
    NOT_APPLICABLE = 9, _("此项不适用")


class TreatmentEffect(models.IntegerChoices):
    CURED = 1, _("痊愈")
    IMPROVED = 2, _("好转")
    UNCHANGED = 3, _("无变化")
    WORSE = 4, _("加重")
    NOT_APPLICABLE = 9, _("此项不适用")


class Referral(models.IntegerChoices):
    NO = 1, _("否")
    YES = 2, _("是")


class Rehabilitation(models.IntegerChoices):
    DAILY_LIVING = 1, _("生活劳动能力")
    VOCATIONAL = 2, _("职业训练")
    LEARNING = 3, _("学习能力")
    SOCIAL = 4, _("社会交往")
    OTHER = 5, _("其他")


class Classification(models.IntegerChoices):
    UNSTABLE = 1, _("不稳定")
    BASICALLY_STABLE = 2, _("基本稳定")
    STABLE = 3, _("稳定")


class RehabProvider(models.TextChoices):
    DAY_PROGRAMME = "day", _("日间康复机构")
    CLUBHOUSE = "clubhouse", _("康复会所")
    WORK_THERAPY = "work_therapy", _("工疗站")
    HOME = "home", _("居家康复")
    OTHER = "other", _("其他")


class DangerousBehaviour(models.IntegerChoices):
    """危险行为 (item 11): the form records a count of each since the previous follow-up (0 = none)."""

    MINOR_TROUBLE = 1, _("轻度滋事")
    TROUBLE = 2, _("肇事")
    DISASTER = 3, _("肇祸")
    OTHER_HARM = 4, _("其他危害行为")
    SELF_HARM = 5, _("自伤")
    SUICIDE_ATTEMPT = 6, _("自杀未遂")


# The definitions the national spec gives; shown as help text beside the counts (domain.md §5).
DANGER_HELP: dict[int, StrOrPromise] = {
    DangerousBehaviour.MINOR_TROUBLE: _("公安机关出警但仅作一般教育等处理，未造成人身伤害或财物损失。"),
    DangerousBehaviour.TROUBLE: _("违反治安管理处罚法但未构成刑事犯罪。"),
    DangerousBehaviour.DISASTER: _("构成刑事犯罪的行为。"),
}
# The FollowUp column holding each behaviour's count.
DANGER_FIELD_NAMES: dict[int, str] = {
    DangerousBehaviour.MINOR_TROUBLE: "minor_trouble",
    DangerousBehaviour.TROUBLE: "trouble",
    DangerousBehaviour.DISASTER: "disaster",
    DangerousBehaviour.OTHER_HARM: "other_harm",
    DangerousBehaviour.SELF_HARM: "self_harm",
    DangerousBehaviour.SUICIDE_ATTEMPT: "suicide_attempt",
}
# (column, label, help text) for each count, in the form's order.
DANGER_FIELDS: tuple[tuple[str, StrOrPromise, StrOrPromise], ...] = tuple(
    (DANGER_FIELD_NAMES[code], code.label, DANGER_HELP.get(code, "")) for code in DangerousBehaviour
)
LOCKING_HELP = _("关锁：出于非医疗目的，使用绳索、铁链、笼子或上锁的房间等限制患者人身自由。")
SOCIAL_FIELDS: tuple[tuple[str, StrOrPromise], ...] = (
    ("social_selfcare", _("个人生活料理")),
    ("social_housework", _("家务劳动")),
    ("social_work", _("生产劳动及工作")),
    ("social_learning", _("学习能力")),
    ("social_contact", _("社会人际交往")),
)
# The column names alone, in the form's order (services, the workbook import and the synthetic generator).
DANGER_NAMES: tuple[str, ...] = tuple(name for name, _label, _help in DANGER_FIELDS)
SOCIAL_NAMES: tuple[str, ...] = tuple(name for name, _label in SOCIAL_FIELDS)

# The sleep, diet and social-functioning items (rules.ASSESSED_ITEMS) by name, as the form labels them.
ASSESSED_ITEM_LABELS: dict[str, StrOrPromise] = {"sleep": _("睡眠情况"), "diet": _("饮食情况"), **dict(SOCIAL_FIELDS)}

# Labels of the reasons ``rules.suggest_classification`` gives, shown beside the suggestion.
SUGGESTION_REASONS: dict[str, StrOrPromise] = {
    "risk_3_5": _("危险性评估3—5级"),
    "psychotic_symptoms": _("有明显精神病性症状"),
    "insight_absent": _("自知力缺失"),
    "severe_adverse_reaction": _("严重药物不良反应"),
    "severe_physical_illness": _("严重躯体疾病"),
    "risk_1_2": _("危险性评估1—2级"),
    "symptoms": _("有精神症状"),
    "social_poor": _("社会功能有“较差”项"),
    "insight_partial": _("自知力不全：规则不作判断，请医生决定"),
    "risk_unknown": _("未评估危险性（如住院中）：规则不作判断，请医生决定"),
    "insight_unknown": _("未评估自知力（如住院中）：规则不作判断，请医生决定"),
    "items_unanswered": _("睡眠、饮食或社会功能尚有未填项：未填不算良好"),
}
