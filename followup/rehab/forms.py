"""Forms of the rehabilitation and health-check pages. They parse and type-check what the browser sent; the
services in ``followup.rehab.services`` check the rules again and write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from followup.models import HealthCheck, RehabParticipation
from followup.rehab import bounds
from followup.visits.forms import DATE_ATTRS, date_field


class RehabParticipationForm(forms.ModelForm):  # type: ignore[type-arg]
    """Participation in a community rehabilitation service (§10); the follow-up's advice does not count."""

    class Meta:
        model = RehabParticipation
        fields = ("provider_type", "provider_name", "service_type", "start_date", "end_date")
        widgets = {
            "start_date": forms.DateInput(attrs=DATE_ATTRS, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs=DATE_ATTRS, format="%Y-%m-%d"),
        }
        help_texts = {"end_date": _("仍在参加则留空。")}
        error_messages = {
            "provider_type": {"required": _("请选择康复机构类型。")},
            "start_date": {"required": _("请填写开始日期。"), "invalid": _("请输入有效日期（年-月-日）。")},
            "end_date": {"invalid": _("请输入有效日期（年-月-日）。")},
        }

    def clean(self) -> dict[str, object]:
        """The order of the dates, with its own message (the model's constraint would only say it is violated;
        an error on the field also keeps that constraint from being checked a second time)."""
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("结束日期不能早于开始日期。"))
        return cleaned

    def service_data(self) -> dict[str, object]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class EndRehabForm(forms.Form):
    end_date = date_field(_("结束日期"), required=True, initial=timezone.localdate)

    def clean_end_date(self) -> dt.date:
        value: dt.date = self.cleaned_data["end_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("结束日期不能晚于今天。"))
        return value


HEALTH_RESULT_FIELDS = (
    "physical_exam",
    "blood_pressure",
    "weight_kg",
    "blood_count",
    "liver_enzymes",
    "glucose",
    "ecg",
)


class HealthCheckForm(forms.ModelForm):  # type: ignore[type-arg]
    """The annual health check (健康体检). Results need the patient's consent; a refusal is recorded alone."""

    RESULT_FIELDS = HEALTH_RESULT_FIELDS

    class Meta:
        model = HealthCheck
        fields = ("date", "consent", *HEALTH_RESULT_FIELDS)
        widgets = {"date": forms.DateInput(attrs=DATE_ATTRS, format="%Y-%m-%d")}
        error_messages = {
            "date": {"required": _("请填写体检日期。"), "invalid": _("请输入有效日期（年-月-日）。")},
            "weight_kg": {
                "invalid": _("体重必须是数字。"),
                "max_digits": _("体重数值过大，请核对单位（kg）。"),
                "max_whole_digits": _("体重数值过大，请核对单位（kg）。"),
                "max_decimal_places": _("体重最多保留一位小数。"),
            },
        }
        help_texts = {"blood_pressure": _("如 120/80")}

    def __init__(self, data: Mapping[str, object] | None = None) -> None:
        super().__init__(data)
        self.fields["date"].initial = timezone.localdate
        self.fields["weight_kg"].widget.attrs.update({"inputmode": "decimal"})

    def clean_weight_kg(self) -> Decimal | None:
        value: Decimal | None = self.cleaned_data.get("weight_kg")
        if value is not None and (problem := bounds.weight_problem(value)):
            raise forms.ValidationError(problem)
        return value

    def clean_blood_pressure(self) -> str:
        value = str(self.cleaned_data.get("blood_pressure") or "")
        if problem := bounds.blood_pressure_problem(value):
            raise forms.ValidationError(problem)
        return value

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if not cleaned.get("consent") and any(cleaned.get(name) not in (None, "") for name in self.RESULT_FIELDS):
            self.add_error("consent", _("患者未同意体检时不能填写体检结果。"))
        return cleaned

    def service_data(self) -> dict[str, object]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
