"""Forms of the follow-up pages: the follow-up record (随访服务记录表) with its medication rows (rehabilitation and
the health check have theirs in ``followup.rehab.forms``).

The follow-up form is the web's edge: it parses what the browser sent, each field within
``followup.visits.bounds``, into one ``values.FollowUpEntry`` (``FollowUpForm.entry``). The rules that span
fields (clinical items only when reached, the discharge date for hospitalisation 2, the self-harm confirmation,
the next date, complete medication rows) live once, in ``followup.visits.services``;
``FollowUpForm.apply_service_errors`` puts the service's messages back on the fields they concern, so the doctor
sees every refusal next to its field and nothing is written. ``parse_followup`` runs the same forms over plain
values for callers without a browser (the demo, the benchmarks, the tests).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from followup import codes
from followup.codes import StrOrPromise
from followup.models import DOSE_FIELDS, SHAPE_FIELDS, DosingShape, MedicationRow
from followup.visits import bounds
from followup.visits.services import Errors, FollowUpError
from followup.visits.values import FollowUpEntry, MedicationEntry
from registry import codes as registry_codes

DATE_ATTRS = {"type": "date"}
NUL_MESSAGE = _("含有无效字符。")


def date_field(
    label: StrOrPromise,
    *,
    required: bool = False,
    required_message: StrOrPromise | None = None,
    initial: Callable[[], dt.date] | None = None,
    help_text: StrOrPromise = "",
) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs=DATE_ATTRS, format="%Y-%m-%d"),
        error_messages={
            "invalid": _("请输入有效日期（年-月-日）。"),
            "required": required_message or _("请填写日期。"),
        },
        initial=initial,
        help_text=help_text,
    )


def code_field(
    label: StrOrPromise, choices: type[models.Choices], *, radio: bool = True, help_text: StrOrPromise = ""
) -> forms.TypedChoiceField:
    """A coded answer of the national form. Optional here: which ones are required depends on the outcome."""
    widget: type[forms.Widget] = forms.RadioSelect if radio else forms.Select
    return forms.TypedChoiceField(
        label=label,
        choices=list(choices.choices) if radio else [("", _("请选择")), *choices.choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=widget,
        help_text=help_text,
        error_messages={"invalid_choice": _("请从列表中选择。")},
    )


def multi_code_field(label: StrOrPromise, choices: type[models.Choices]) -> forms.TypedMultipleChoiceField:
    return forms.TypedMultipleChoiceField(
        label=label,
        choices=choices.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("请从列表中选择。"), "invalid_list": _("请从列表中选择。")},
    )


def count_field(label: StrOrPromise, help_text: StrOrPromise) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        required=False,
        initial=0,
        min_value=bounds.COUNT_MIN,
        max_value=bounds.COUNT_MAX,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": bounds.COUNT_MIN, "max": bounds.COUNT_MAX}),
        error_messages={
            "invalid": _("次数必须是整数。"),
            "min_value": _("次数不能为负数。"),
            "max_value": _("次数不能超过%(limit_value)s。"),
        },
    )


def flag_field(label: StrOrPromise, help_text: StrOrPromise = "") -> forms.BooleanField:
    return forms.BooleanField(label=label, required=False, help_text=help_text)


def text_field(label: StrOrPromise, name: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=bounds.TEXT_MAX_LENGTH[name],
        required=False,
        error_messages={"max_length": _("最多%(limit_value)s个字。"), "null_characters_not_allowed": NUL_MESSAGE},
    )


def coded(name: str, label: StrOrPromise, *, help_text: StrOrPromise = "") -> forms.TypedChoiceField:
    """The field of a coded clinical item, with its code list from the bounds."""
    return code_field(label, bounds.CODED_FIELDS[name], help_text=help_text)


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
STACKED = frozenset({"risk_level", "adherence"})  # long labels: one option per line
# Fields whose help is one definition list below their group (the counted behaviours), not under each field.
HELP_BELOW = frozenset(codes.DANGER_NAMES)


@dataclass(frozen=True)
class FieldItem:
    field: forms.BoundField
    show_if: str = ""
    stacked: bool = False
    help_below: bool = False


class FollowUpForm(forms.Form):
    """One follow-up (domain.md §5). ``submission_key`` is generated when the form is first rendered, so a
    double tap, a refresh or a retried request saves one follow-up (``record_followup`` is idempotent on it).

    ``today`` (default: the local date) bounds the visit date: records describe the past.
    """

    FIELDSETS: tuple[tuple[StrOrPromise, tuple[str, ...]], ...] = (
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
    date = date_field(_("随访日期"), required=True, required_message=_("请填写随访日期。"), initial=timezone.localdate)
    mode = code_field(_("随访方式"), bounds.MODE)
    contacts = multi_code_field(_("随访对象"), bounds.CONTACTS)
    outcome = forms.ChoiceField(
        label=_("随访结果"),
        choices=bounds.OUTCOME.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择随访结果。"), "invalid_choice": _("请选择随访结果。")},
    )
    lost_reason = code_field(_("失访原因"), bounds.LOST_REASON, radio=False)
    death_date = date_field(_("死亡日期"))
    death_cause = code_field(_("死亡原因"), bounds.DEATH_CAUSE, radio=False)
    death_subcause = code_field(_("躯体疾病死因"), bounds.DEATH_SUBCAUSE, radio=False)

    risk_level = coded("risk_level", _("危险性评估"))
    self_harm_level_confirmed = flag_field(
        _("确认：记录了自伤或自杀未遂，危险性评估仍低于4级"),
        _("自伤、自杀属于4级行为。如确认危险性等级无误，请勾选。"),
    )
    symptoms = multi_code_field(_("目前症状"), bounds.MULTI_FIELDS["symptoms"])
    symptom_other = text_field(_("其他症状"), "symptom_other")
    obvious_psychotic_symptoms = flag_field(_("有明显精神病性症状"), _("医生判断；勾选后建议分类为不稳定。"))
    insight = coded("insight", _("自知力"))
    sleep = coded("sleep", _("睡眠情况"))
    diet = coded("diet", _("饮食情况"))
    locking = coded("locking", _("关锁情况"), help_text=codes.LOCKING_HELP)
    hospitalisation = coded("hospitalisation", _("住院情况"))
    last_discharge_date = date_field(_("末次出院时间"), help_text=_("“曾住院，现未住院”时必填。"))
    lab = coded("lab", _("实验室检查"))
    lab_text = text_field(_("检查结果"), "lab_text")
    adherence = coded("adherence", _("用药依从性"))
    adverse_reaction = coded("adverse_reaction", _("药物不良反应"))
    adverse_reaction_text = text_field(_("不良反应描述"), "adverse_reaction_text")
    adverse_reaction_severe = flag_field(_("严重药物不良反应"))
    severe_physical_illness = flag_field(_("严重躯体疾病"))
    treatment_effect = coded("treatment_effect", _("治疗效果"))
    referral = coded("referral", _("是否转诊"))
    referral_reason = text_field(_("转诊原因"), "referral_reason")
    referral_institution = text_field(_("转诊机构"), "referral_institution")
    referral_department = text_field(_("转诊科室"), "referral_department")
    rehabilitation = multi_code_field(_("康复措施（建议）"), bounds.MULTI_FIELDS["rehabilitation"])
    rehabilitation_other = text_field(_("其他康复措施"), "rehabilitation_other")
    family_support = flag_field(_("已对家属进行心理支持和健康教育"))
    classification = coded("classification", _("本次随访分类"))
    next_date = date_field(_("下次随访日期"))
    next_date_reason = text_field(_("晚于建议日期的理由"), "next_date_reason")

    def __init__(self, data: Mapping[str, object] | None = None, *, today: dt.date | None = None) -> None:
        super().__init__(data)
        self.today = today
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4())
        for name, label, help_text in codes.DANGER_FIELDS:
            self.fields[name] = count_field(label, help_text)
        for name, label in codes.SOCIAL_FIELDS:
            self.fields[name] = coded(name, label)
        self.order_fields(list(self.declared_fields))

    def clean_date(self) -> dt.date:
        day: dt.date = self.cleaned_data["date"]
        if day > (self.today or timezone.localdate()):
            raise forms.ValidationError(_("随访日期不能晚于今天。"))
        return day

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if cleaned.get("mode") is None and "mode" not in self.errors:
            self.add_error("mode", _("请选择随访方式。"))
        return cleaned

    # --- layout helpers for the template --------------------------------------------------------------------

    def fieldsets(self) -> Iterator[tuple[StrOrPromise, str, list[FieldItem]]]:
        """(legend, css class, items) of the clinical part, in the order of the national form."""
        for legend, names in self.FIELDSETS:
            css = {codes.DANGER_FIELDS[0][0]: "counts", "sleep": "assessed"}.get(names[0], "") if names else ""
            yield (
                legend,
                css,
                [FieldItem(self[name], SHOW_IF.get(name, ""), name in STACKED, name in HELP_BELOW) for name in names],
            )

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

    def entry(self, medications: Sequence[MedicationEntry] = ()) -> FollowUpEntry:
        """The typed follow-up (call once the form is valid). The details of the other outcomes are left out;
        clinical items are passed as entered even on an attempt, so the service can refuse them."""
        cleaned = self.cleaned_data
        outcome: str = cleaned["outcome"]
        values: dict[str, Any] = {name: cleaned[name] for name in OUTCOME_FIELDS.get(outcome, ())}
        for name in (*bounds.CODED_FIELDS, *bounds.TEXT_FIELDS, "last_discharge_date", "next_date"):
            values[name] = cleaned[name]
        for name in bounds.MULTI_FIELDS:
            values[name] = tuple(sorted(set(cleaned[name])))
        for name in bounds.COUNT_FIELDS:
            values[name] = cleaned[name] or 0
        for name in bounds.FLAG_FIELDS:
            values[name] = cleaned[name]
        return FollowUpEntry(
            date=cleaned["date"],
            outcome=outcome,
            mode=cleaned["mode"],
            contacts=tuple(sorted(set(cleaned["contacts"]))),
            self_harm_level_confirmed=outcome == codes.Outcome.REACHED and cleaned["self_harm_level_confirmed"],
            medications=tuple(medications),
            **values,
        )

    def apply_service_errors(self, errors: Errors, formset: BaseMedicationFormSet) -> None:
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


def dose_field(label: StrOrPromise) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=bounds.DOSE_MIN,
        max_value=bounds.DOSE_MAX,
        max_digits=bounds.DOSE_MAX_DIGITS,
        decimal_places=bounds.DOSE_DECIMAL_PLACES,
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


def whole_field(label: StrOrPromise, name: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=1,
        max_value=bounds.WHOLE_NUMBER_MAX[name],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "size": 4}),
        error_messages={
            "invalid": _("请填写整数。"),
            "min_value": _("必须大于0。"),
            "max_value": _("不能超过%(limit_value)s。"),
        },
    )


class MedicationForm(forms.Form):
    """One drug going forward, in one of the three dosing shapes (item 19). Each number is checked against its
    bound here; the service checks that the row is complete for its shape."""

    drug = forms.CharField(
        label=_("药物名称"),
        max_length=bounds.DRUG_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"list": "drug-names", "autocomplete": "off"}),
        error_messages={
            "max_length": _("药物名称不能超过%(limit_value)s个字。"),
            "null_characters_not_allowed": _("药物名称：含有无效字符。"),
        },
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
    times_per_day = whole_field(_("每日次数"), "times_per_day")
    mg_per_dose = dose_field(_("每次剂量(mg)"))
    depot_every_weeks = whole_field(_("每几周一次"), "depot_every_weeks")
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

    def shape_groups(self) -> list[tuple[str, StrOrPromise, list[forms.BoundField]]]:
        labels = dict(DosingShape.choices)
        return [(shape, labels[shape], [self[name] for name in names]) for shape, names in SHAPE_FIELDS.items()]

    def entry(self) -> MedicationEntry:
        """The typed row (call once the form is valid): every dose field as entered."""
        cleaned = self.cleaned_data
        return MedicationEntry(
            drug=cleaned["drug"],
            shape=cleaned["shape"],
            **{name: cleaned[name] for name in DOSE_FIELDS},
        )


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

    def entries(self) -> list[MedicationEntry]:
        return [form.entry() for form in self.filled_forms()]


MedicationFormSet = cast(
    type[BaseMedicationFormSet],
    forms.formset_factory(
        MedicationForm, formset=BaseMedicationFormSet, extra=1, max_num=20, absolute_max=40, validate_max=True
    ),
)
MEDICATION_PREFIX = "med"


def regimen_initial(rows: Sequence[MedicationRow]) -> list[dict[str, object]]:
    """The current regimen as initial rows: most follow-ups continue the same prescription."""
    initial = []
    for row in rows:
        values: dict[str, object] = {"drug": row.drug, "shape": row.shape}
        for name in SHAPE_FIELDS.get(row.shape, ()):
            value = getattr(row, name)
            values[name] = _plain(value) if isinstance(value, Decimal) else value
        initial.append(values)
    return initial


def _plain(value: Decimal) -> str:
    """150.00 → "150", 0.50 → "0.5" (``normalize`` alone would give "1.5E+2")."""
    return f"{value.normalize():f}"


def _regimen_key(rows: Sequence[MedicationEntry | MedicationRow]) -> list[tuple[str, ...]]:
    def text(value: object) -> str:
        return _plain(Decimal(value)) if isinstance(value, int | Decimal) else ""

    return sorted((row.drug, row.shape, *(text(getattr(row, name)) for name in DOSE_FIELDS)) for row in rows)


def is_prefilled_regimen(rows: Sequence[MedicationEntry], regimen: Sequence[MedicationRow]) -> bool:
    """The rows are exactly the prefilled current regimen, left as they were.

    Without JavaScript the medication rows of a not-reached attempt stay on the page, prefilled; sending them
    back unchanged is not an entry, so the view drops them instead of refusing the attempt.
    """
    return bool(rows) and _regimen_key(rows) == _regimen_key(regimen)


# --- the same parser for callers without a browser ---------------------------------------------------------


def parse_followup(
    data: Mapping[str, object], medications: Sequence[Mapping[str, object]] = (), *, today: dt.date
) -> FollowUpEntry:
    """The typed follow-up from plain values (the demo, the benchmarks, tests), through the web form's fields.

    ``data`` holds the form's items by name (codes as ints or digit strings, multi-choice items as lists, dates
    as ``datetime.date`` or ISO text); ``medications`` one mapping per row (``drug``, ``shape``, dose fields).
    Raises FollowUpError with every single-field problem, medication rows keyed ``medication-N`` in the order
    given.
    """
    form = FollowUpForm({**data, "submission_key": uuid.uuid4()}, today=today)
    rows = [MedicationForm({key: value for key, value in row.items() if value is not None}) for row in medications]
    errors: Errors = {}
    if not form.is_valid():
        errors.update({key: [str(m) for m in messages] for key, messages in form.errors.items()})
    for number, row in enumerate(rows, start=1):
        if not row.is_valid():
            errors[f"medication-{number}"] = [str(m) for messages in row.errors.values() for m in messages]
    if errors:
        raise FollowUpError(errors)
    return form.entry([row.entry() for row in rows])
