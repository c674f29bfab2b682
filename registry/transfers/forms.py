"""Forms of the transfer pages: the request (target village) and the rejection (reason)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from casemgmt.areas.models import Area
from registry.models import Patient
from registry.patients.forms import village_choices
from registry.transfers.services import REASON_MAX, is_valid_target, target_choices


class TransferRequestForm(forms.Form):
    """A village of the same county from the list, or the 12-digit code of a village further away."""

    to_village = forms.ChoiceField(label=_("迁入村(居)"), required=False)
    to_code = forms.CharField(
        label=_("或输入迁入村(居)的12位区划代码"),
        required=False,
        max_length=12,
        help_text=_("迁往本区县以外时填写。"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]{12}", "autocomplete": "off"}),
    )
    reason = forms.CharField(
        label=_("迁移原因"),
        required=False,
        max_length=REASON_MAX,
        help_text=_("请勿填写姓名、住址等可识别个人的信息。"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, data: Mapping[str, object] | None = None, *, patient: Patient) -> None:
        super().__init__(data)
        self.patient = patient
        choices = village_choices(target_choices(patient))
        choices[0] = ("", _("请选择"))
        village_field = cast(forms.ChoiceField, self.fields["to_village"])
        village_field.choices = choices
        self.fields["to_code"].error_messages["max_length"] = _("区划代码为12位数字。")
        self.fields["reason"].error_messages["max_length"] = _("迁移原因不能超过%(limit_value)d个字。")

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        code = (cleaned.get("to_code") or "").strip() or cleaned.get("to_village") or ""
        if not code:
            raise forms.ValidationError(_("请选择迁入村(居)，或输入其12位区划代码。"))
        if (cleaned.get("to_code") or "").strip() and cleaned.get("to_village"):
            raise forms.ValidationError(_("请只选择一个迁入地：从列表选择或输入代码。"))
        target = Area.objects.filter(code=code).first() if code.isdigit() and len(code) == 12 else None
        if target is None:
            raise forms.ValidationError(_("找不到区划代码为“%(code)s”的地区。") % {"code": code[:12]})
        if not is_valid_target(self.patient.village_id, target):
            raise forms.ValidationError(_("迁入地必须是本乡镇(街道)以外的村(居)。"))
        cleaned["target"] = target
        return cleaned


class TransferRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("拒绝理由"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": _("请填写拒绝理由。"),
            "max_length": _("拒绝理由不能超过%(limit_value)d个字。"),
        },
    )
