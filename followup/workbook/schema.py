"""The sheets of the registry workbook and their columns (exchange.md §1, a public contract: changes are additive).

Each column has an English key and its Chinese label; either is accepted in a sheet's first row. The areas and
population sheets are those of ``casemgmt.areas.loading`` and are loaded by it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from casemgmt.areas.loading import AREAS, POPULATION
from casemgmt.tabular import Problem, SheetSpec, TabularSource
from followup import codes
from followup.models import CaseOpenReason
from registry.models import TransferState

PATIENTS = SheetSpec(
    name="patients",
    columns={
        "ref": ("档案编号",),
        "national_id": ("身份证号",),
        "name": ("姓名",),
        "sex": ("性别",),
        "birth_date": ("出生日期",),
        "phone": ("联系电话",),
        "village_code": ("现住址区划代码",),
        "address": ("现住址",),
        "hukou_address": ("户籍地址",),
        "household_type": ("户别",),
        "employment": ("就业情况",),
        "disorder": ("诊断类别",),
        "diagnosis_date": ("确诊日期",),
        "diagnosis_hospital": ("确诊医院",),
        "onset_date": ("初次发病时间",),
        "registered_on": ("建档日期",),
        "consent": ("知情同意",),
        "status": ("状态",),
        "status_date": ("状态日期",),
        "lost_reason": ("失访原因",),
        "death_cause": ("死亡原因",),
        "guardian_name": ("监护人姓名",),
        "guardian_relation": ("与患者关系",),
        "guardian_phone": ("监护人电话",),
        "economic_status": ("经济状况",),
    },
    required=frozenset({"ref", "national_id", "name", "village_code", "disorder", "registered_on"}),
    text_only=frozenset({"national_id"}),  # 18 digits do not survive as an Excel number
)
TRANSFERS = SheetSpec(
    name="transfers",
    columns={
        "patient_ref": ("档案编号",),
        "from_village_code": ("迁出区划代码",),
        "to_village_code": ("迁入区划代码",),
        "requested_on": ("申请日期",),
        "accepted_on": ("接收日期",),
        # version 2
        "outcome": ("结果",),
        "decided_on": ("处理日期",),
        "reason": ("原因",),
    },
    required=frozenset({"patient_ref", "from_village_code", "to_village_code", "requested_on"}),
)
DANGER_COLUMNS = codes.DANGER_NAMES
SOCIAL_COLUMNS = codes.SOCIAL_NAMES
FOLLOWUPS = SheetSpec(
    name="followups",
    columns={
        "ref": ("随访编号",),
        "patient_ref": ("档案编号",),
        "date": ("随访日期",),
        "mode": ("随访方式",),
        "outcome": ("随访结果",),
        "risk_level": ("危险性评估",),
        "insight": ("自知力",),
        "symptoms": ("目前症状",),
        "social_selfcare": ("个人生活料理",),
        "social_housework": ("家务劳动",),
        "social_work": ("生产劳动及工作",),
        "social_learning": ("学习能力",),
        "social_contact": ("社会人际交往",),
        "adherence": ("用药依从性",),
        "hospitalisation": ("住院情况",),
        "classification": ("本次随访分类",),
        "next_date": ("下次随访日期",),
        "family_support": ("家属心理支持",),
        "minor_trouble": ("轻度滋事",),
        "trouble": ("肇事",),
        "disaster": ("肇祸",),
        "other_harm": ("其他危害行为",),
        "self_harm": ("自伤",),
        "suicide_attempt": ("自杀未遂",),
        "referral": ("转诊",),
        # version 2: the details of a lost or dead outcome
        "lost_reason": ("失访原因",),
        "death_date": ("死亡日期",),
        "death_cause": ("死亡原因",),
    },
    required=frozenset({"ref", "patient_ref", "date", "mode", "outcome"}),
)
DOSE_COLUMNS = ("morning_mg", "noon_mg", "evening_mg", "times_per_day", "mg_per_dose", "depot_every_weeks", "depot_mg")
MEDICATIONS = SheetSpec(
    name="medications",
    columns={
        "followup_ref": ("随访编号",),
        "drug": ("药物名称",),
        "morning_mg": ("早(mg)",),
        "noon_mg": ("中(mg)",),
        "evening_mg": ("晚(mg)",),
        "times_per_day": ("每日次数",),
        "mg_per_dose": ("每次剂量(mg)",),
        "depot_every_weeks": ("长效针剂间隔周数",),
        "depot_mg": ("长效针剂剂量(mg)",),
    },
    required=frozenset({"followup_ref", "drug"}),
)
REHAB = SheetSpec(
    name="rehab",
    columns={
        "patient_ref": ("档案编号",),
        "provider_type": ("康复机构类型",),
        "start_date": ("开始日期",),
        "end_date": ("结束日期",),
    },
    required=frozenset({"patient_ref", "provider_type", "start_date"}),
)
HEALTH_CHECKS = SheetSpec(
    name="health_checks",
    columns={"patient_ref": ("档案编号",), "date": ("体检日期",)},
    required=frozenset({"patient_ref", "date"}),
)


# Version 2 (exchange.md §1, "Added in version 2").


class TransferOutcome(models.TextChoices):
    """The transfers sheet's outcome column; empty means accepted when accepted_on is set, else pending."""

    ACCEPTED = "ACCEPTED", _("已接收")
    REJECTED = "REJECTED", _("已拒绝")
    WITHDRAWN = "WITHDRAWN", _("已撤回")


TRANSFER_STATE = {
    TransferOutcome.ACCEPTED: TransferState.ACCEPTED,
    TransferOutcome.REJECTED: TransferState.REJECTED,
    TransferOutcome.WITHDRAWN: TransferState.WITHDRAWN,
}


class CaseOpening(models.TextChoices):
    """The cases sheet's opened_because column (codes separated by commas), and the case's stored reason."""

    UNSTABLE = "UNSTABLE", _("随访分类为不稳定")
    RISK_3_PLUS = "RISK_3_PLUS", _("危险性评估3级及以上")
    TROUBLE_HISTORY = "TROUBLE_HISTORY", _("有肇事肇祸史")
    OTHER = "OTHER", _("其他")


CASE_OPEN_REASON = {
    CaseOpening.UNSTABLE: CaseOpenReason.UNSTABLE,
    CaseOpening.RISK_3_PLUS: CaseOpenReason.RISK,
    CaseOpening.TROUBLE_HISTORY: CaseOpenReason.HISTORY,
    CaseOpening.OTHER: CaseOpenReason.OTHER,
}
# close_reason takes followup.models.CaseCloseReason (its keys or Chinese names); emergencies' situations and
# disposition take EmergencySituation / EmergencyDisposition (keys, numbers 1–4 in their order, or Chinese names),
# rehab's provider_type followup.codes.RehabProvider (keys, numbers 1–5 or names).

# Every change of status in date order. A first row dated on the registration day is the status registration gave
# (REFUSED for a refusal, later consenting); otherwise registration gave the status the consent implies and every
# row is a later change. The last row must be the patients row's status (and status date and reasons, where given).
STATUS_HISTORY = SheetSpec(
    name="status_history",
    columns={
        "patient_ref": ("档案编号",),
        "date": ("日期",),
        "status": ("状态",),
        "lost_reason": ("失访原因",),
        "death_cause": ("死亡原因",),
        "reason": ("说明",),
    },
    required=frozenset({"patient_ref", "date", "status"}),
)
CASES = SheetSpec(
    name="cases",
    columns={
        "ref": ("个案编号",),
        "patient_ref": ("档案编号",),
        "opened_on": ("开案日期",),
        "opened_because": ("开案原因",),
        "closed_on": ("结案日期",),
        "close_reason": ("结案原因",),
        "review_on": ("计划复核日期",),
    },
    required=frozenset({"ref", "patient_ref", "opened_on"}),
)
EMERGENCIES = SheetSpec(
    name="emergencies",
    columns={
        "ref": ("处置编号",),
        "patient_ref": ("档案编号",),
        "occurred_at": ("发生时间",),
        "place": ("地点",),
        "situations": ("情形",),
        "risk_level": ("危险性评估",),
        "disposition": ("处置结果",),
        "completed_at": ("完成时间",),
        # Beyond exchange.md: the village that answers for the record. Required for an unregistered person (no
        # patient_ref); for a patient it defaults to the village holding the record when it happened.
        "village_code": ("所属村(居)区划代码",),
    },
    required=frozenset({"ref", "occurred_at"}),
)

# In the order they are checked and loaded: a sheet only refers to sheets before it.
SHEETS: tuple[SheetSpec, ...] = (
    AREAS,
    POPULATION,
    PATIENTS,
    TRANSFERS,
    STATUS_HISTORY,
    FOLLOWUPS,
    MEDICATIONS,
    REHAB,
    HEALTH_CHECKS,
    CASES,
    EMERGENCIES,
)
# Every sheet but patients may be left out, or be present with nothing in it (or only its header row).
OPTIONAL_SHEETS = frozenset(spec.name for spec in SHEETS) - {PATIENTS.name}
SHEET_ORDER = {spec.name: index for index, spec in enumerate(SHEETS)}
REF_MAX_LENGTH = 40


def label(spec: SheetSpec, key: str) -> str:
    """The Chinese label of a column (its first alias), or the key when it has none."""
    aliases = spec.columns[key]
    return aliases[0] if aliases else key


def lone_csv_sheet(stem: str) -> str:
    """The sheet a lone CSV file is (the upload page and the command alike): the one its name names
    (``followups.csv``), else the patients sheet (``县登记表.csv``)."""
    name = stem.strip().casefold()
    return name if name in SHEET_ORDER else PATIENTS.name


def unrecognised_sheets(source: TabularSource) -> list[Problem]:
    """Shown sheets that are none of the workbook's (nor the template's instructions): a sheet named 随访 or
    followup would otherwise be silently ignored."""
    return source.unknown_sheets(SHEETS, also=("说明", gettext("说明")))
