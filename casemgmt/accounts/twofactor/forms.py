"""The one field of the code and enrolment pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("动态口令"),
        max_length=24,
        help_text=_("身份验证器上显示的6位数字；手机不在身边时，可输入一个恢复码（每个只能用一次）。"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}),
        error_messages={"required": _("请输入动态口令。")},
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label=_("验证码"),
        max_length=12,
        help_text=_("扫码或输入密钥后，身份验证器上显示的6位数字。"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": _("请输入身份验证器上显示的6位数字。")},
    )
