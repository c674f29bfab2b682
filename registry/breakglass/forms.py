"""The break-glass form (full ID number and reason) and the acknowledgement form.

The ID number is checked by the registry's own checker (``registry.patients.idnumber``, the messages of
``registry.patients.bounds``): only a complete, valid number is ever looked up. The reason goes into the audit
log as the event's purpose, so it must say something (a minimum length, more than a repeated character) and must
not carry an ID number.
"""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from registry.models import REASON_MAX_LENGTH, REASON_MIN_LENGTH, REVIEW_NOTE_MAX_LENGTH
from registry.patients import bounds
from registry.patients.forms import validated_national_id

MIN_DISTINCT_CHARACTERS = 4  # "啊啊啊啊啊啊啊啊" or "........" is no reason
ID_NUMBER_LIKE = re.compile(r"\d{15,}|\d{17}[Xx]")
ID_NUMBER_INPUT_MAX_LENGTH = 24  # 18 characters and the spaces people type between groups


class BreakGlassForm(forms.Form):
    national_id = forms.CharField(
        label=_("患者身份证号（18位，完整填写）"),
        max_length=ID_NUMBER_INPUT_MAX_LENGTH,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
        error_messages={
            "required": _("请填写患者的完整身份证号。"),
            "max_length": bounds.ID_NUMBER_MESSAGES["shape"],
        },
    )
    reason = forms.CharField(
        label=_("紧急调阅理由"),
        min_length=REASON_MIN_LENGTH,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("例如：患者在本辖区突发冲动行为，需核对诊断和用药")}),
        help_text=_("理由会记入访问记录，并由患者所在辖区审阅；请勿填写患者姓名、身份证号等身份信息。"),
        error_messages={
            "required": _("请说明紧急调阅的理由。"),
            "min_length": _("理由太短，请具体说明（至少%(limit_value)d个字）。"),
            "max_length": _("理由不能超过%(limit_value)d个字。"),
        },
    )

    def clean_national_id(self) -> str:
        return validated_national_id(str(self.cleaned_data.get("national_id") or ""))

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data.get("reason") or ""
        if ID_NUMBER_LIKE.search(reason):
            raise forms.ValidationError(_("请勿在理由中填写身份证号。"), code="identity")
        if len(set(reason) - set(" \t\r\n,.，。、;；:：!！?？-—_")) < MIN_DISTINCT_CHARACTERS:
            raise forms.ValidationError(_("请具体说明发生了什么、为何需要查看该档案。"), code="vague")
        return reason


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=_("审阅意见（可不填）"),
        required=False,
        max_length=REVIEW_NOTE_MAX_LENGTH,
        error_messages={"max_length": _("审阅意见不能超过%(limit_value)d个字。")},
    )
