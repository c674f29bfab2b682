"""Forms of the emergency pages. They parse; ``followup.emergencies.services`` decides what is complete."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import cast

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casemgmt.accounts.models import Role, User
from casemgmt.areas.scope import within
from followup.emergencies.services import FIELDS
from followup.models import (
    Emergency,
    EmergencyConsent,
    EmergencyDisposition,
    EmergencyMeasure,
    EmergencySituation,
)
from registry.patients.forms import village_choices, villages_in_jurisdiction

REQUIRED = _("请填写此项。")


def handlers_for(user: User) -> QuerySet[User]:
    """Doctors of the same jurisdiction (the handler in charge is one of them, usually the user)."""
    rule = Q(pk=user.pk) | within(user.jurisdiction_prefixes(), "memberships__area__code")
    return User.objects.filter(rule, role=Role.DOCTOR, is_active=True).distinct().order_by("username")


class EmergencyForm(forms.Form):
    occurred_at = forms.DateTimeField(
        label=_("发生时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        error_messages={"required": _("请填写发生时间。"), "invalid": _("请输入有效的日期和时间。")},
    )
    place = forms.CharField(label=_("发生地点"), required=False, max_length=200)
    situations = forms.MultipleChoiceField(
        label=_("情形（可多选）"),
        required=False,
        choices=EmergencySituation.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    risk_level = forms.TypedChoiceField(
        label=_("危险性评估"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *((n, _("%(n)d级") % {"n": n}) for n in range(6))],
    )
    reported_by = forms.CharField(
        label=_("报告人"), required=False, max_length=100, help_text=_("如：家属、村委会、派出所")
    )
    participants = forms.CharField(label=_("参与处置人员"), required=False, max_length=200)
    measures = forms.MultipleChoiceField(
        label=_("处置措施（可多选）"),
        required=False,
        choices=EmergencyMeasure.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    medication_drug = forms.CharField(label=_("药物"), required=False, max_length=60)
    medication_dose = forms.CharField(label=_("剂量"), required=False, max_length=40)
    medication_route = forms.CharField(label=_("给药途径"), required=False, max_length=40)
    disposition = forms.ChoiceField(
        label=_("处置结果"), required=False, choices=[("", "—"), *EmergencyDisposition.choices]
    )
    hospital = forms.CharField(label=_("收治/转诊医院"), required=False, max_length=100)
    consent = forms.TypedChoiceField(
        label=_("知情同意"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *EmergencyConsent.choices],
    )
    handler = forms.ModelChoiceField(label=_("处置负责人"), queryset=User.objects.none(), required=False)
    complete = forms.BooleanField(
        label=_("记录已完整，标记为完成"), required=False, help_text=_("应在事件发生后24小时内完成。完成后不能再修改。")
    )

    def __init__(
        self,
        data: Mapping[str, object] | None = None,
        *,
        user: User,
        instance: Emergency | None = None,
        initial: dict[str, object] | None = None,
    ) -> None:
        unbound = data is None
        if instance is not None and unbound and initial is None:
            initial = {
                **{name: getattr(instance, name) for name in FIELDS},
                "occurred_at": timezone.localtime(instance.occurred_at),
                "handler": instance.handler_id,
            }
        super().__init__(data, initial=initial)
        handler = cast("forms.ModelChoiceField[User]", self.fields["handler"])
        handler.queryset = handlers_for(user)
        handler.empty_label = _("本人")
        for name in ("place", "reported_by", "participants", "medication_drug", "hospital"):
            self.fields[name].error_messages["max_length"] = _("不能超过%(limit_value)d个字。")

    def values(self) -> dict[str, object]:
        data = self.cleaned_data
        occurred: dt.datetime | None = data.get("occurred_at")
        return {name: data.get(name) for name in FIELDS} | {"occurred_at": occurred}

    def apply_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            field = name if name in self.fields else None
            for message in messages:
                self.add_error(field, message)


class PersonForm(forms.Form):
    """A person not registered yet: identity (stored encrypted) and the village whose doctors answer for it."""

    person_name = forms.CharField(
        label=_("姓名"), max_length=50, error_messages={"required": _("未建档人员请填写姓名（可填“不详”）。")}
    )
    person_national_id = forms.CharField(
        label=_("身份证号"), required=False, max_length=18, help_text=_("不知道可留空")
    )
    area = forms.ChoiceField(label=_("所属村(居)"), error_messages={"required": _("请选择本辖区的村(居)。")})

    def __init__(self, data: Mapping[str, object] | None = None, *, user: User) -> None:
        super().__init__(data)
        self.villages = {v.code: v for v in villages_in_jurisdiction(user)}
        choices = village_choices(self.villages.values())
        choices[0] = ("", _("请选择"))
        area = cast(forms.ChoiceField, self.fields["area"])
        area.choices = choices
        area.error_messages["invalid_choice"] = _("请选择本辖区的村(居)。")


class LinkForm(forms.Form):
    national_id = forms.CharField(
        label=_("患者身份证号"), required=False, max_length=18, help_text=_("留空则使用记录中的身份证号")
    )
