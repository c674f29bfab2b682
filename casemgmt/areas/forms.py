"""Forms of the population pages; Chinese messages on their fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_POPULATION = 1_500_000_000  # more than any area in China; well inside PositiveIntegerField


class YearForm(forms.Form):
    year = forms.IntegerField(
        label=_("年份"),
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
        error_messages={
            "invalid": _("请输入四位年份。"),
            "min_value": _("年份不能早于%(limit_value)s年。"),
            "max_value": _("年份不能晚于%(limit_value)s年。"),
        },
    )


class PopulationForm(forms.Form):
    population = forms.IntegerField(
        label=_("常住人口"),
        min_value=1,
        max_value=MAX_POPULATION,
        help_text=_("全部年龄的常住人口数（人），是报告患病率的分母。"),
        error_messages={
            "required": _("请填写常住人口数。"),
            "invalid": _("请输入整数人数。"),
            "min_value": _("常住人口数至少为1。"),
            "max_value": _("常住人口数不能超过%(limit_value)s。"),
        },
    )
