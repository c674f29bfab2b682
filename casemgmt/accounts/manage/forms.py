"""Forms of the account pages. Every message is Chinese and attached to its field."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from casemgmt.accounts.manage.approvals import username_pending
from casemgmt.accounts.management.provisioning import check_role_areas
from casemgmt.accounts.models import Role, User
from casemgmt.areas.models import Area

MAX_AREAS = 20


class AreaCodesField(forms.Field):
    """Area codes chosen with the level-by-level picker (``static/js/area_picker.js``), as a list of areas."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: object) -> list[Area]:
        if not value:
            return []
        raw = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else []
        codes = list(dict.fromkeys(str(code).strip() for code in raw))
        if len(codes) > MAX_AREAS:
            raise ValidationError(_("辖区最多选择%(count)d个。"), params={"count": MAX_AREAS}, code="too_many")
        if any(len(code) != 12 or not (code.isascii() and code.isdigit()) for code in codes):
            raise ValidationError(_("请用区划选择器选择辖区。"), code="invalid")
        found = {area.code: area for area in Area.objects.filter(code__in=codes)}
        if len(found) != len(codes):
            raise ValidationError(_("所选辖区不存在，请重新选择。"), code="unknown")
        return [found[code] for code in codes]


class AccountFields(forms.Form):
    display_name = forms.CharField(
        label=_("姓名"),
        max_length=50,
        required=True,
        error_messages={"required": _("请填写姓名。"), "max_length": _("姓名最长50个字符。")},
    )
    role = forms.ChoiceField(
        label=_("角色"),
        choices=Role.choices,
        error_messages={"required": _("请选择角色。"), "invalid_choice": _("请选择有效的角色。")},
    )
    areas = AreaCodesField(
        label=_("辖区"),
        required=False,
        help_text=_(
            "精防医生选乡镇/街道或村/社区；县/市/省精防管理人员选县/区、市或省；个案管理团队成员可选所属的一个县/区"
            "（只决定可加入哪些患者的团队，不增加可见范围）；系统管理员不设辖区。"
        ),
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        role = cleaned.get("role")
        areas = cleaned.get("areas")
        if isinstance(role, str) and isinstance(areas, list) and "areas" not in self.errors:
            problems = check_role_areas(role, [area for area in areas if isinstance(area, Area)])
            for problem in problems:
                self.add_error("areas", problem.replace("（--area）", ""))
        return cleaned

    def chosen_areas(self) -> list[Area]:
        value = self.cleaned_data.get("areas")
        return [area for area in value if isinstance(area, Area)] if isinstance(value, list) else []


class AccountCreateForm(AccountFields):
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        help_text=_("登录名：字母、数字和 @ . + - _。"),
        error_messages={"required": _("请填写用户名。"), "max_length": _("用户名最长150个字符。")},
    )
    field_order = ["username", "display_name", "role", "areas"]

    def clean_username(self) -> str:
        username = str(self.cleaned_data["username"]).strip()
        try:
            User._meta.get_field("username").run_validators(username)
        except ValidationError:
            raise ValidationError(gettext("用户名只能包含字母、数字和 @ . + - _，最长150个字符。")) from None
        if User.objects.filter(username__iexact=username).exists() or username_pending(username):
            raise ValidationError(gettext("该用户名已被使用。"))
        return username


class AccountEditForm(AccountFields):
    def __init__(self, data: QueryDict | None, *, initial: Mapping[str, object], actor: User, account: User) -> None:
        super().__init__(data, initial=dict(initial))
        self.actor = actor
        self.account = account

    def clean_role(self) -> str:
        role = str(self.cleaned_data["role"])
        if self.account.pk == self.actor.pk and role != self.account.role:
            raise ValidationError(gettext("不能修改自己的角色，请由另一位管理员处理。"))
        return role


class RejectForm(forms.Form):
    note = forms.CharField(
        label=_("驳回理由"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("选填，申请人可以看到。"),
        error_messages={"max_length": _("驳回理由最长200个字符。")},
    )


class AccountFilterForm(forms.Form):
    q = forms.CharField(label=_("用户名或姓名"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("角色"), choices=[("", _("全部")), *Role.choices], required=False)
    area = forms.CharField(label=_("辖区区划代码"), max_length=12, required=False, help_text=_("含下级区划"))
    active = forms.ChoiceField(
        label=_("状态"),
        choices=[("", _("全部")), ("1", _("启用")), ("0", _("已停用"))],
        required=False,
    )

    def clean_area(self) -> str:
        code = str(self.cleaned_data.get("area") or "").strip()
        if code and (not (code.isascii() and code.isdigit()) or len(code) != 12):
            raise ValidationError(gettext("区划代码应为12位数字。"))
        return code
