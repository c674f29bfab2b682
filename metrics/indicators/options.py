"""The configurable rules of the indicators: defaults from settings, the report footer, a start-up check.

domain.md §11 makes three choices configurable and asks that each be named in the report's footer. The pure
``metrics.indicators.definitions.Options`` holds them; this module is the Django side: defaults read from settings
(``METRICS_REGULAR_MANAGEMENT``, ``METRICS_MEDICATION_DENOMINATOR``, ``METRICS_DEATHS_IN_PERIOD``), the
footer sentences, and a system check so a misspelt setting stops the server at start instead of silently
reverting to a default in a report someone will sign.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.utils.translation import gettext as _

from casemgmt.accounts.models import User
from metrics.indicators.definitions import (
    DEATHS_IN_PERIOD,
    MEDICATION_DENOMINATORS,
    REGULAR_MANAGEMENT_RULES,
    RULE_SET,
    Options,
)
from metrics.indicators.suppression import NONE, Suppression, policy_for

SETTINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    # option name: (settings name, allowed values)
    "regular_management": ("METRICS_REGULAR_MANAGEMENT", REGULAR_MANAGEMENT_RULES),
    "medication_denominator": ("METRICS_MEDICATION_DENOMINATOR", MEDICATION_DENOMINATORS),
    "deaths_in_period": ("METRICS_DEATHS_IN_PERIOD", DEATHS_IN_PERIOD),
}


def default_options(**overrides: str | None) -> Options:
    """Options from settings (the built-in defaults when a setting is absent), with explicit overrides.

    An override of None means "not given" so a command can pass its optional flags straight through.
    """
    defaults = Options()
    values = {
        name: getattr(settings, setting, getattr(defaults, name)) for name, (setting, _allowed) in SETTINGS.items()
    }
    values.update({name: value for name, value in overrides.items() if value is not None})
    return Options(**values)


DEFAULT_SUPPRESS_BELOW = 5


def suppress_below() -> int:
    """``METRICS_SUPPRESS_BELOW``: counts 1 to this − 1 are suppressed in exports leaving the county; 0 = off."""
    return int(getattr(settings, "METRICS_SUPPRESS_BELOW", DEFAULT_SUPPRESS_BELOW))


def export_suppression(user: User, report_level: int) -> Suppression:
    """The small-count policy of an export by *user* of an area of *report_level* (metrics.indicators.suppression)."""
    from metrics.reports.access import scope_levels

    return policy_for(below=suppress_below(), report_level=report_level, scope_levels=scope_levels(user))


def option_fields() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Each option's name, label and labelled choices, for the report page's selects."""
    regular = [("quarterly", _("按自然季度")), ("interval-3m", _("间隔不超过3个月"))]
    return [
        ("regular_management", _("规范管理判定"), regular),
        ("medication_denominator", _("服药率分母"), [("registered", _("在册患者")), ("managed", _("在管患者"))]),
        ("deaths_in_period", _("统计期内死亡患者"), [("excluded", _("不计入在册")), ("included", _("计入在册"))]),
    ]


def footer_lines(options: Options, suppression: Suppression = NONE) -> list[str]:
    """One sentence per configurable rule, for the footer of every report (domain.md §11), and the
    small-count suppression when it was applied (domain.md §12)."""
    regular = {
        "quarterly": _("规范管理：统计期内有完整随访，且建档后统计期内每个完整自然季度均有至少1次完整随访。"),
        "interval-3m": _("规范管理：每年至少4次完整随访（按完整季度数折算），且相邻两次间隔不超过3个月。"),
    }
    denominator = {
        "registered": _("服药率、规律服药率的分母：在册患者。"),
        "managed": _("服药率、规律服药率的分母：在管患者。"),
    }
    deaths = {
        "excluded": _("截至统计截止日已死亡的患者不计入在册患者。"),
        "included": _("统计期内死亡的患者仍计入在册患者（考核至死亡日期）。"),
    }
    return [
        _("指标口径：%(rule_set)s（国家基本公共卫生服务规范第三版）。") % {"rule_set": RULE_SET},
        regular[options.regular_management],
        denominator[options.medication_denominator],
        deaths[options.deaths_in_period],
        *suppression_lines(suppression),
    ]


def suppression_lines(suppression: Suppression) -> list[str]:
    """The footer sentence of an applied small-count suppression (none when it does not apply)."""
    if not suppression.active:
        return []
    return [
        _("小数保护：县级及以下地区1至%(last)d例的人数显示为“%(mark)s”，由其计算的率不显示（报告报送县外）。")
        % {"last": suppression.below - 1, "mark": suppression.mark}
    ]


@checks.register()
def check_metrics_settings(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for setting, allowed in SETTINGS.values():
        value = getattr(settings, setting, None)
        if value is not None and value not in allowed:
            errors.append(checks.Error(f"{setting}={value!r} is not one of {', '.join(allowed)}.", id="metrics.E001"))
    below = getattr(settings, "METRICS_SUPPRESS_BELOW", DEFAULT_SUPPRESS_BELOW)
    if not isinstance(below, int) or below < 0:
        errors.append(checks.Error(f"METRICS_SUPPRESS_BELOW={below!r} must be an integer >= 0.", id="metrics.E002"))
    return errors
