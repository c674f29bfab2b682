"""Code values of the national forms (domain.md §2, §4). The numbers are the forms' own; never renumber."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.IntegerChoices):
    MALE = 1, _("男")
    FEMALE = 2, _("女")


class Disorder(models.IntegerChoices):
    SCHIZOPHRENIA = 1, _("精神分裂症")
    SCHIZOAFFECTIVE = 2, _("分裂情感性障碍")
    PARANOID_PSYCHOSIS = 3, _("偏执性精神病")
    BIPOLAR = 4, _("双相(情感)障碍")
    EPILEPSY = 5, _("癫痫所致精神障碍")
    INTELLECTUAL_DISABILITY = 6, _("精神发育迟滞伴发精神障碍")
    OTHER = 99, _("其他 (不计入指标)")


SEVERE_DISORDERS = frozenset(range(1, 7))


class Status(models.TextChoices):
    ACTIVE = "ACTIVE", _("在管理中")
    LOST = "LOST", _("失访")
    REFUSED = "REFUSED", _("拒绝管理")
    DEAD = "DEAD", _("死亡")
    CLOSED = "CLOSED", _("注销")


REGISTERED_STATUSES = frozenset({Status.ACTIVE, Status.LOST, Status.REFUSED})


class LostReason(models.IntegerChoices):
    MIGRANT_WORK = 1, _("外出务工")
    MOVED = 2, _("迁居他处")
    WANDERED = 3, _("走失")
    THREE_MISSED = 4, _("连续3次未访到")
    OTHER = 5, _("其他")


class DeathCause(models.IntegerChoices):
    PHYSICAL = 1, _("躯体疾病")
    SUICIDE = 2, _("自杀")
    HOMICIDE = 3, _("他杀")
    ACCIDENT = 4, _("意外")
    PSYCHIATRIC_COMPLICATION = 5, _("精神疾病相关并发症")
    OTHER = 6, _("其他")


class PhysicalDeathCause(models.IntegerChoices):
    INFECTIOUS = 1, _("传染病和寄生虫病")
    TUMOUR = 2, _("肿瘤")
    HEART = 3, _("心脏病")
    CEREBROVASCULAR = 4, _("脑血管病")
    RESPIRATORY = 5, _("呼吸系统疾病")
    DIGESTIVE = 6, _("消化系统疾病")
    OTHER = 7, _("其他疾病")
    UNKNOWN = 8, _("不详")


class ClosureReason(models.IntegerChoices):
    DIAGNOSIS_REVISED = 1, _("诊断修正，不属于严重精神障碍")
    DUPLICATE = 2, _("重复建档")
    MOVED_OUT = 3, _("迁出本系统管辖范围")
    OTHER = 4, _("其他")


class HouseholdType(models.IntegerChoices):
    URBAN = 1, _("城镇")
    RURAL = 2, _("农村")


class Employment(models.IntegerChoices):
    WORKER = 1, _("在岗工人")
    MANAGER = 2, _("在岗管理者")
    FARMER = 3, _("农民")
    UNEMPLOYED = 4, _("下岗或无业")
    STUDENT = 5, _("在校学生")
    RETIRED = 6, _("退休")
    PROFESSIONAL = 7, _("专业技术人员")
    OTHER = 8, _("其他")
    UNKNOWN = 9, _("不详")


class Consent(models.IntegerChoices):
    AGREE = 1, _("同意参加管理")
    REFUSE = 0, _("不同意参加管理")


class Locking(models.IntegerChoices):
    NONE = 1, _("无关锁")
    LOCKED = 2, _("关锁")
    RELEASED = 3, _("关锁已解除")


class PastOutpatient(models.IntegerChoices):
    UNTREATED = 1, _("未治")
    INTERMITTENT = 2, _("间断门诊治疗")
    CONTINUOUS = 3, _("连续门诊治疗")


class TreatmentResult(models.IntegerChoices):
    CURED = 1, _("临床痊愈")
    IMPROVED = 2, _("好转")
    UNCHANGED = 3, _("无变化")
    WORSE = 4, _("加重")


class EconomicStatus(models.IntegerChoices):
    POOR = 1, _("贫困 (低保)")
    NOT_POOR = 2, _("非贫困")


class Symptom(models.IntegerChoices):
    HALLUCINATION = 1, _("幻觉")
    COMMUNICATION = 2, _("交流困难")
    SUSPICION = 3, _("猜疑")
    MOODINESS = 4, _("喜怒无常")
    ODD_BEHAVIOUR = 5, _("行为怪异")
    EXCITED = 6, _("兴奋话多")
    VIOLENCE = 7, _("伤人毁物")
    PESSIMISM = 8, _("悲观厌世")
    WANDERING = 9, _("无故外走")
    SELF_TALK = 10, _("自语自笑")
    WITHDRAWN = 11, _("孤僻懒散")
    OTHER = 12, _("其他")
