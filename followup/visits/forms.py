"""Forms of the follow-up pages: the follow-up record (随访服务记录表) with its medication rows, rehabilitation
participation and the annual health check.

The forms parse and type-check what the browser sent; the cross-field rules of domain.md §5–7 (clinical fields
only when reached, discharge date for hospitalisation 2, the self-harm confirmation, the next date) live once,
in ``followup.visits.services.validate``. ``FollowUpForm.apply_service_errors`` puts the service's messages back on the
fields they concern, so the doctor sees every refusal next to its field and nothing is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from followup import codes
from followup.models import SHAPE_FIELDS, DosingShape, HealthCheck, MedicationRow, RehabParticipation
from registry import codes as registry_codes

DATE_ATTRS = {"type": "date"}
COUNT_LIMIT = 99
DOSE_LIMIT = Decimal("99999.99")
MAX_TIMES_PER_DAY = 12
MAX_DEPOT_WEEKS = 52


def date_field(label: Any, *, required: bool = False, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs=DATE_ATTRS, format="%Y-%m-%d"),
        error_messages={"invalid": _("请输入有效日期（年-月-日）。"), "required": _("请填写日期。")},
        **kwargs,
    )


def code_field(
    label: Any, choices: Sequence[tuple[Any, Any]], *, radio: bool = True, help_text: Any = ""
) -> forms.TypedChoiceField:
    """A coded answer of the national form. Optional here: which ones are required depends on the outcome."""
    widget: type[forms.Widget] = forms.RadioSelect if radio else forms.Select
    return forms.TypedChoiceField(
        label=label,
        choices=list(choices) if radio else [("", _("请选择")), *choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=widget,
        help_text=help_text,
        error_messages={"invalid_choice": _("请从列表中选择。")},
    )


def multi_code_field(label: Any, choices: Sequence[tuple[Any, Any]]) -> forms.TypedMultipleChoiceField:
    return forms.TypedMultipleChoiceField(
        label=label,
        choices=choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("请从列表中选择。")},
    )


def count_field(label: Any, help_text: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        required=False,
        initial=0,
        min_value=0,
        max_value=COUNT_LIMIT,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": COUNT_LIMIT}),
        error_messages={
            "invalid": _("次数必须是整数。"),
            "min_value": _("次数不能为负数。"),
            "max_value": _("次数不能超过%(limit_value)s。"),
        },
    )


def flag_field(label: Any, help_text: Any = "") -> forms.BooleanField:
    return forms.BooleanField(label=label, required=False, help_text=help_text)


def text_field(label: Any, max_length: int) -> forms.CharField:
    return forms.CharField(label=label, max_length=max_length, required=False)


# Which fields are shown for which outcome; the template and the JavaScript use the same names.
OUTCOME_FIELDS: dict[str, tuple[str, ...]] = {
    codes.Outcome.LOST: ("lost_reason",),
    codes.Outcome.DEAD: ("death_date", "death_cause", "death_subcause"),
}


# A field shown only when another field has a value ("name=value"); followup.js reads these, and without
# JavaScript every field is shown.
SHOW_IF: dict[str, str] = {
    "symptom_other": f"symptoms={registry_codes.Symptom.OTHER}",
    "last_discharge_date": f"hospitalisation={codes.Hospitalisation.BEFORE}",
    "lab_text": f"lab={codes.Lab.DONE}",
    "adverse_reaction_text": f"adverse_reaction={codes.AdverseReaction.PRESENT}",
    "referral_reason": f"referral={codes.Referral.YES}",
    "referral_institution": f"referral={codes.Referral.YES}",
    "referral_department": f"referral={codes.Referral.YES}",
    "rehabilitation_other": f"rehabilitation={codes.Rehabilitation.OTHER}",
    "death_subcause": f"death_cause={registry_codes.DeathCause.PHYSICAL}",
}
STACKED = frozenset({"risk_level", "hospitalisation", "adherence"})  # long labels: one option per line


@dataclass(frozen=True)
class FieldItem:
    field: forms.BoundField
    show_if: str = ""
    stacked: bool = False


class FollowUpForm(forms.Form):
    """One follow-up (domain.md §5). ``submission_key`` is generated when the form is first rendered, so a
    double tap, a refresh or a retried request saves one follow-up (``record_followup`` is idempotent on it)."""

    FIELDSETS: tuple[tuple[Any, tuple[str, ...]], ...] = (
        (_("危险性评估"), ("risk_level",)),
        (_("危险行为（自上次随访以来的次数，无则为0）"), tuple(name for name, _l, _h in codes.DANGER_FIELDS)),
        (_("症状与自知力"), ("symptoms", "symptom_other", "obvious_psychotic_symptoms", "insight")),
        (_("睡眠、饮食与社会功能"), ("sleep", "diet", *(name for name, _l in codes.SOCIAL_FIELDS))),
        (_("关锁、住院与检查"), ("locking", "hospitalisation", "last_discharge_date", "lab", "lab_text")),
        (
            _("用药与治疗效果"),
            (
                "adherence",
                "adverse_reaction",
                "adverse_reaction_text",
                "adverse_reaction_severe",
                "severe_physical_illness",
                "treatment_effect",
            ),
        ),
        (
            _("转诊、康复与家属支持"),
            (
                "referral",
                "referral_reason",
                "referral_institution",
                "referral_department",
                "rehabilitation",
                "rehabilitation_other",
                "family_support",
            ),
        ),
    )

    submission_key = forms.UUIDField(
        widget=forms.HiddenInput, error_messages={"required": _("表单已失效，请重新打开。")}
    )
    date = date_field(_("随访日期"), required=True, initial=timezone.localdate)
    mode = code_field(_("随访方式"), codes.Mode.choices)
    contacts = multi_code_field(_("随访对象"), codes.Contact.choices)
    outcome = forms.ChoiceField(
        label=_("随访结果"),
        choices=codes.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择随访结果。"), "invalid_choice": _("请选择随访结果。")},
    )
    lost_reason = code_field(_("失访原因"), registry_codes.LostReason.choices, radio=False)
    death_date = date_field(_("死亡日期"))
    death_cause = code_field(_("死亡原因"), registry_codes.DeathCause.choices, radio=False)
    death_subcause = code_field(_("躯体疾病死因"), registry_codes.PhysicalDeathCause.choices, radio=False)

    risk_level = code_field(_("危险性评估"), codes.RiskLevel.choices)
    self_harm_level_confirmed = flag_field(
        _("确认：记录了自伤或自杀未遂，危险性评估仍低于4级"),
        _("自伤、自杀属于4级行为。如确认危险性等级无误，请勾选。"),
    )
    symptoms = multi_code_field(_("目前症状"), registry_codes.Symptom.choices)
    symptom_other = text_field(_("其他症状"), 100)
    obvious_psychotic_symptoms = flag_field(_("有明显精神病性症状"), _("医生判断；勾选后建议分类为不稳定。"))
    insight = code_field(_("自知力"), codes.Insight.choices)
    sleep = code_field(_("睡眠情况"), codes.Grade.choices)
    diet = code_field(_("饮食情况"), codes.Grade.choices)
    locking = code_field(_("关锁情况"), codes.Locking.choices, help_text=codes.LOCKING_HELP)
    hospitalisation = code_field(_("住院情况"), codes.Hospitalisation.choices)
    last_discharge_date = date_field(_("末次出院时间"), help_text=_("“曾住院，现未住院”时必填。"))
    lab = code_field(_("实验室检查"), codes.Lab.choices)
    lab_text = text_field(_("检查结果"), 200)
    adherence = code_field(_("用药依从性"), codes.Adherence.choices)
    adverse_reaction = code_field(_("药物不良反应"), codes.AdverseReaction.choices)
    adverse_reaction_text = text_field(_("不良反应描述"), 200)
    adverse_reaction_severe = flag_field(_("严重药物不良反应"))
    severe_physical_illness = flag_field(_("严重躯体疾病"))
    treatment_effect = code_field(_("治疗效果"), codes.TreatmentEffect.choices)
    referral = code_field(_("是否转诊"), codes.Referral.choices)
    referral_reason = text_field(_("转诊原因"), 200)
    referral_institution = text_field(_("转诊机构"), 200)
    referral_department = text_field(_("转诊科室"), 100)
    rehabilitation = multi_code_field(_("康复措施（建议）"), codes.Rehabilitation.choices)
    rehabilitation_other = text_field(_("其他康复措施"), 100)
    family_support = flag_field(_("已对家属进行心理支持和健康教育"))
    classification = code_field(_("本次随访分类"), codes.Classification.choices)
    next_date = date_field(_("下次随访日期"))
    next_date_reason = text_field(_("晚于建议日期的理由"), 200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4())
        for name, label, help_text in codes.DANGER_FIELDS:
            self.fields[name] = count_field(label, help_text)
        for name, label in codes.SOCIAL_FIELDS:
            choices = codes.WorkGrade.choices if name == "social_work" else codes.Grade.choices
            self.fields[name] = code_field(label, choices)
        self.order_fields(list(self.declared_fields))

    # --- layout helpers for the template --------------------------------------------------------------------

    def fieldsets(self) -> Iterator[tuple[Any, str, list[FieldItem]]]:
        """(legend, css class, items) of the clinical part, in the order of the national form."""
        for legend, names in self.FIELDSETS:
            css = "counts" if names and names[0] == codes.DANGER_FIELDS[0][0] else ""
            yield legend, css, [FieldItem(self[name], SHOW_IF.get(name, ""), name in STACKED) for name in names]

    def outcome_fields(self, outcome: str) -> list[FieldItem]:
        return [FieldItem(self[name], SHOW_IF.get(name, "")) for name in OUTCOME_FIELDS[outcome]]

    def lost_fields(self) -> list[FieldItem]:
        return self.outcome_fields(codes.Outcome.LOST)

    def death_fields(self) -> list[FieldItem]:
        return self.outcome_fields(codes.Outcome.DEAD)

    # --- to the service -------------------------------------------------------------------------------------

    @property
    def reached(self) -> bool:
        return self.cleaned_data.get("outcome") == codes.Outcome.REACHED

    def service_data(self) -> dict[str, Any]:
        """The values ``record_followup`` takes. The fields of the other outcomes are left out; clinical fields
        are passed as entered even on an attempt, so the service can refuse them with its message."""
        cleaned = dict(self.cleaned_data)
        cleaned.pop("submission_key", None)
        outcome = cleaned.get("outcome")
        for other, names in OUTCOME_FIELDS.items():
            if other != outcome:
                for name in names:
                    cleaned.pop(name, None)
        if outcome != codes.Outcome.REACHED:
            cleaned.pop("self_harm_level_confirmed", None)
        return cleaned

    def apply_service_errors(self, errors: dict[str, list[str]], formset: BaseMedicationFormSet) -> None:
        """Put the messages of ``services.FollowUpError`` on their fields (medication rows on their row)."""
        rows = formset.filled_forms()
        for key, messages in errors.items():
            for message in messages:
                if key.startswith("medication-"):
                    index = int(key.rsplit("-", 1)[1]) - 1
                    if 0 <= index < len(rows):
                        rows[index].add_error(None, message)
                        continue
                    self.add_error(None, message)
                elif key in self.fields:
                    self.add_error(key, message)
                else:
                    self.add_error(None, message)


# --- medication rows ---------------------------------------------------------------------------------------


def dose_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal("0.01"),
        max_value=DOSE_LIMIT,
        max_digits=7,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 6}),
        error_messages={
            "invalid": _("剂量必须是数字。"),
            "min_value": _("剂量必须大于0。"),
            "max_value": _("剂量过大，请核对单位（mg）。"),
            "max_digits": _("剂量过大，请核对单位（mg）。"),
            "max_whole_digits": _("剂量过大，请核对单位（mg）。"),
            "max_decimal_places": _("剂量最多保留两位小数。"),
        },
    )


def whole_field(label: Any, limit: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=1,
        max_value=limit,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "size": 4}),
        error_messages={
            "invalid": _("请填写整数。"),
            "min_value": _("必须大于0。"),
            "max_value": _("不能超过%(limit_value)s。"),
        },
    )


class MedicationForm(forms.Form):
    """One drug going forward, in one of the three dosing shapes (item 19). Only the chosen shape's fields are
    passed on; the service checks that they are complete."""

    drug = forms.CharField(
        label=_("药物名称"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"list": "drug-names", "autocomplete": "off"}),
        error_messages={"max_length": _("药物名称不能超过60个字。")},
    )
    shape = forms.ChoiceField(
        label=_("用法"),
        choices=DosingShape.choices,
        initial=DosingShape.SCHEDULE,
        error_messages={"invalid_choice": _("请选择用法。"), "required": _("请选择用法。")},
    )
    morning_mg = dose_field(_("早(mg)"))
    noon_mg = dose_field(_("中(mg)"))
    evening_mg = dose_field(_("晚(mg)"))
    times_per_day = whole_field(_("每日次数"), MAX_TIMES_PER_DAY)
    mg_per_dose = dose_field(_("每次剂量(mg)"))
    depot_every_weeks = whole_field(_("每几周一次"), MAX_DEPOT_WEEKS)
    depot_mg = dose_field(_("每次剂量(mg)"))

    def has_changed(self) -> bool:
        """A row the browser did not send at all is blank, whatever its initial values.

        The form's script disables the medication rows of a not-reached attempt, so the browser sends none of
        their fields while the management form still counts them. Django would compare the missing values with
        the initial dosing shape, call the row changed and validate it (the defect that stopped every missed
        visit from being saved).
        """
        if self.is_bound and not any(self.add_prefix(name) in self.data for name in self.fields):
            return False
        return super().has_changed()

    def shape_groups(self) -> list[tuple[str, Any, list[forms.BoundField]]]:
        labels = dict(DosingShape.choices)
        return [(shape, labels[shape], [self[name] for name in names]) for shape, names in SHAPE_FIELDS.items()]

    def row(self) -> dict[str, Any]:
        shape = self.cleaned_data.get("shape") or ""
        row: dict[str, Any] = {"drug": self.cleaned_data.get("drug", ""), "shape": shape}
        for name in SHAPE_FIELDS.get(shape, ()):
            row[name] = self.cleaned_data.get(name)
        return row


class BaseMedicationFormSet(forms.BaseFormSet):  # type: ignore[type-arg]  # the class is not subscriptable at run time
    """Every row is optional: a blank row is skipped, and a row prefilled from the current regimen can be
    cleared to stop that drug. (Django treats "initial" rows as required, so there are none here.)"""

    def initial_form_count(self) -> int:
        return 0

    def total_form_count(self) -> int:
        if self.is_bound:
            return super().total_form_count()
        return len(self.initial or ()) + self.extra

    def filled_forms(self) -> list[MedicationForm]:
        """The rows the doctor filled, in order: the service numbers its messages over these."""
        return [form for form in self.forms if form.has_changed() and form.is_valid()]

    def rows(self) -> list[dict[str, Any]]:
        return [form.row() for form in self.filled_forms()]


MedicationFormSet = cast(
    type[BaseMedicationFormSet],
    forms.formset_factory(
        MedicationForm, formset=BaseMedicationFormSet, extra=1, max_num=20, absolute_max=40, validate_max=True
    ),
)
MEDICATION_PREFIX = "med"


def regimen_initial(rows: Sequence[MedicationRow]) -> list[dict[str, Any]]:
    """The current regimen as initial rows: most follow-ups continue the same prescription."""
    initial = []
    for row in rows:
        values: dict[str, Any] = {"drug": row.drug, "shape": row.shape}
        for name in SHAPE_FIELDS.get(row.shape, ()):
            value = getattr(row, name)
            values[name] = _plain(value) if isinstance(value, Decimal) else value
        initial.append(values)
    return initial


def _plain(value: Decimal) -> str:
    """150.00 → "150", 0.50 → "0.5" (``normalize`` alone would give "1.5E+2")."""
    return f"{value.normalize():f}"


def _regimen_key(rows: Sequence[dict[str, Any]]) -> list[tuple[tuple[str, str], ...]]:
    def text(value: Any) -> str:
        return _plain(Decimal(value)) if isinstance(value, int | Decimal) else str(value or "")

    return sorted(tuple((name, text(value)) for name, value in sorted(row.items())) for row in rows)


def is_prefilled_regimen(rows: Sequence[dict[str, Any]], regimen: Sequence[MedicationRow]) -> bool:
    """The rows are exactly the prefilled current regimen, left as they were.

    Without JavaScript the medication rows of a not-reached attempt stay on the page, prefilled; sending them
    back unchanged is not an entry, so the view drops them instead of refusing the attempt.
    """
    return bool(rows) and _regimen_key(rows) == _regimen_key(regimen_initial(regimen))


# --- rehabilitation and health check -----------------------------------------------------------------------


class RehabParticipationForm(forms.ModelForm):  # type: ignore[type-arg]  # the class is not subscriptable at run time
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

    def clean(self) -> dict[str, Any]:
        """The order of the dates, with its own message (the model's constraint would only say it is violated;
        an error on the field also keeps that constraint from being checked a second time)."""
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("结束日期不能早于开始日期。"))
        return cleaned

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class EndRehabForm(forms.Form):
    end_date = date_field(_("结束日期"), required=True, initial=timezone.localdate)

    def clean_end_date(self) -> Any:
        value = self.cleaned_data["end_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("结束日期不能晚于今天。"))
        return value


class HealthCheckForm(forms.ModelForm):  # type: ignore[type-arg]  # the class is not subscriptable at run time
    """The annual health check (健康体检). Results need the patient's consent; a refusal is recorded alone."""

    RESULT_FIELDS = (
        "physical_exam",
        "blood_pressure",
        "weight_kg",
        "blood_count",
        "liver_enzymes",
        "glucose",
        "ecg",
    )

    class Meta:
        model = HealthCheck
        fields = (
            "date",
            "consent",
            "physical_exam",
            "blood_pressure",
            "weight_kg",
            "blood_count",
            "liver_enzymes",
            "glucose",
            "ecg",
        )
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate
        self.fields["weight_kg"].widget.attrs.update({"inputmode": "decimal"})

    def clean_weight_kg(self) -> Decimal | None:
        value: Decimal | None = self.cleaned_data.get("weight_kg")
        if value is not None and value <= 0:
            raise forms.ValidationError(_("体重必须大于0。"))
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("consent") and any(cleaned.get(name) not in (None, "") for name in self.RESULT_FIELDS):
            self.add_error("consent", _("患者未同意体检时不能填写体检结果。"))
        return cleaned

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
