"""Chinese names of the indicators and counts, shared by the command's table and the report pages."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from registry.codes import DeathCause

INDICATOR_LABELS: dict[str, Promise] = {
    "reported_prevalence": _("报告患病率"),
    "management_rate": _("在册患者管理率"),
    "regular_management_rate": _("规范管理率"),
    "medication_rate": _("服药率"),
    "regular_medication_rate": _("规律服药率"),
    "schizophrenia_medication_rate": _("精神分裂症服药率"),
    "face_to_face_rate": _("面访率"),
    "stable_rate": _("病情稳定率"),
    "rehabilitation_rate": _("居家患者社区康复参与率"),
    "lost_rate": _("失访率"),
    "family_support_rate": _("家属心理支持率"),
    "health_check_rate": _("体检率"),
}

PER_MILLE = frozenset({"reported_prevalence"})

COUNT_LABELS: dict[str, Promise] = {
    "registered": _("在册患者"),
    "managed": _("在管患者"),
    "at_home": _("居家患者"),
    "new_registrations": _("新登记患者"),
    "deaths": _("死亡"),
    "overdue_at_cutoff": _("截止日逾期未随访"),
    "open_cases": _("个案管理中"),
    "emergencies": _("应急处置"),
    "minor_trouble": _("有轻度滋事的患者"),
    "trouble": _("有肇事的患者"),
    "disaster": _("有肇祸的患者"),
    "lost": _("失访患者"),
}

DEATH_CAUSE_LABELS: dict[str, Promise | str] = {
    "0": _("死因未记录"),
    **{str(value): label for value, label in DeathCause.choices},
}


def format_rate(value: float | None, name: str) -> str:
    """Rounded to 2 decimals for display only; "—" when there is no value (domain.md §11)."""
    if value is None:
        return "—"
    return f"{value:.2f}{'‰' if name in PER_MILLE else '%'}"
