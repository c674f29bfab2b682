"""Forms of the case pages. They parse; ``followup.cases.services`` validates and writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casemgmt.accounts.models import User
from followup.cases.services import CaseError
from followup.models import CaseCloseReason, CaseContactMode, CaseRole
from registry.patients.forms import phone_validator

if TYPE_CHECKING:
    from django.db.models import QuerySet

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXT = forms.Textarea(attrs={"rows": 3})


class UserChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]  # the class is not subscriptable at run time
    def label_from_instance(self, obj: User) -> str:
        return f"{obj}（{obj.username}，{obj.get_role_display()}）"


class ServiceErrorsMixin(forms.Form):
    def apply_service_errors(self, exc: CaseError) -> None:
        for name, messages in exc.errors.items():
            field = name if name in self.fields else None
            for message in messages:
                self.add_error(field, message)


class MemberForm(ServiceErrorsMixin):
    role = forms.ChoiceField(label=_("团队角色"), choices=[("", "—"), *CaseRole.choices])
    user = UserChoiceField(
        label=_("系统用户"), queryset=User.objects.none(), required=False, help_text=_("有账号的成员：民警、网格员等")
    )
    person_name = forms.CharField(
        label=_("外部人员姓名"), required=False, max_length=50, help_text=_("无账号的成员（如家属、志愿者）")
    )
    person_phone = forms.CharField(label=_("外部人员电话"), required=False, max_length=20, validators=[phone_validator])

    def __init__(self, data: Mapping[str, object] | None = None, *, users: QuerySet[User]) -> None:
        super().__init__(data)
        self.fields["user"].queryset = users  # type: ignore[attr-defined]
        self.fields["role"].error_messages["required"] = _("请选择团队角色。")

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if not data.get("user") and not (data.get("person_name") or "").strip():
            raise forms.ValidationError(_("请选择系统用户，或填写外部人员的姓名和电话。"))
        return data


class PlanForm(ServiceErrorsMixin):
    goals = forms.CharField(label=_("管理目标"), required=False, max_length=1000, widget=TEXT)
    treatment = forms.CharField(label=_("治疗措施"), required=False, max_length=1000, widget=TEXT)
    rehabilitation = forms.CharField(label=_("康复措施"), required=False, max_length=1000, widget=TEXT)
    risk_prevention = forms.CharField(label=_("风险防范措施"), required=False, max_length=1000, widget=TEXT)
    family_support = forms.CharField(label=_("家庭支持措施"), required=False, max_length=1000, widget=TEXT)
    review_date = forms.DateField(
        label=_("方案评估日期"),
        required=False,
        widget=DATE,
        error_messages={"invalid": _("请输入有效的日期。")},
    )


class ContactForm(ServiceErrorsMixin):
    date = forms.DateField(
        label=_("联系日期"),
        widget=DATE,
        error_messages={"required": _("请填写联系日期。"), "invalid": _("请输入有效的日期。")},
    )
    mode = forms.TypedChoiceField(
        label=_("联系方式"),
        coerce=int,
        choices=CaseContactMode.choices,
        error_messages={"required": _("请选择联系方式。"), "invalid_choice": _("请选择联系方式。")},
    )
    who = forms.CharField(
        label=_("联系对象"),
        max_length=100,
        help_text=_("如：患者本人、监护人、邻居"),
        error_messages={"required": _("请填写联系对象。")},
    )
    findings = forms.CharField(
        label=_("发现情况"), max_length=1000, widget=TEXT, error_messages={"required": _("请填写发现的情况。")}
    )
    actions = forms.CharField(label=_("采取措施"), required=False, max_length=1000, widget=TEXT)

    def __init__(self, data: Mapping[str, object] | None = None) -> None:
        super().__init__(data, initial={"date": timezone.localdate(), "mode": CaseContactMode.VISIT})


class CloseForm(ServiceErrorsMixin):
    reason = forms.ChoiceField(
        label=_("结案原因"),
        # A closed record closes its case by itself (case_services.close_case_when_record_ends).
        choices=[("", "—"), *(c for c in CaseCloseReason.choices if c[0] != CaseCloseReason.RECORD_CLOSED)],
        error_messages={"required": _("请选择结案原因。"), "invalid_choice": _("请选择结案原因。")},
    )
    note = forms.CharField(label=_("结案说明"), required=False, max_length=200)
