"""The form of the API令牌 page: a new token's purpose and how many days it stays valid."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

MAX_DAYS = 365


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("用途"),
        max_length=100,
        help_text=_("例如：县平台指标同步。"),
        error_messages={"required": _("请填写令牌的用途。"), "max_length": _("用途不能超过100个字。")},
    )
    days = forms.IntegerField(
        label=_("有效天数"),
        min_value=1,
        max_value=MAX_DAYS,
        help_text=_("1至365天，到期后令牌自动失效。"),
        error_messages={
            "required": _("请填写有效天数。"),
            "invalid": _("有效天数应为整数。"),
            "min_value": _("有效天数应在1至365天之间。"),
            "max_value": _("有效天数应在1至365天之间。"),
        },
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["days"].initial = min(int(settings.API_TOKEN_DAYS), MAX_DAYS)

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if "\x00" in name:
            raise forms.ValidationError(_("用途含有无效字符。"))
        return name
