"""Forms of the registry pages. They validate input completely, so a view only calls a service when the input
is sound, and every refusal reaches the user as a Chinese message on the form with nothing written.

The identity, registration and supplementary forms are the web's edge of a patient record: each field within
``registry.patients.bounds``, sex and birth date agreeing with the ID number, they hand the services one typed
value of ``registry.patients.values`` (``PatientForm.entry``, ``NewPatientForm.registration``,
``SupplementaryFormForm.entry``). ``parse_patient``, ``parse_supplementary`` and ``parse_registration`` run the
same forms over plain values for callers without a browser (tests, scripts); the workbook's patient rows build
the same values in ``followup.workbook.rows``.

The model forms here are always bound to a *fresh* instance, never to the stored patient: ``ModelForm``
copies cleaned values into its instance while validating, and the services detect changes by comparing the
new values with the stored ones, so a form that wrote into the stored instance would make every edit look
like no change at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, cast

from django import forms
from django.core.validators import RegexValidator
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casemgmt.accounts.models import User
from casemgmt.areas.models import Area, AreaLevel
from casemgmt.areas.scope import within
from casemgmt.crypto.fields import encrypted_fields
from registry import codes
from registry.models import Patient, SupplementaryForm
from registry.patients import bounds, idnumber, services
from registry.patients.values import PatientEntry, Registration, SupplementaryEntry

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DATE_WIDGET_ATTRS = {"type": "date"}
FormData = Mapping[str, object]  # what a form is bound to: the request's QueryDict, or plain values
SHORT_TEXT_LIMIT = 200  # encrypted fields up to this length get a one-line input, longer ones a text area

phone_validator = RegexValidator(bounds.PHONE_PATTERN, bounds.PHONE_MESSAGE, code="phone")


def villages_in_jurisdiction(user: User) -> QuerySet[Area]:
    """Villages (level 5) in force under the areas of the user's memberships; none for users without any.
    A village retired by an area change holds no record and takes no new one."""
    prefixes = user.jurisdiction_prefixes()
    if not prefixes:
        return Area.objects.none()
    return (
        Area.objects.filter(within(prefixes, "code"), level=AreaLevel.VILLAGE, retired_on__isnull=True)
        .select_related("parent")
        .order_by("code")
    )


def village_choices(villages: Iterable[Area]) -> list[tuple[str, StrOrPromise | list[tuple[str, str]]]]:
    """Villages grouped by township (optgroups), so a long list stays usable on a phone."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for village in villages:
        township = village.parent.name if village.parent else ""
        groups.setdefault(township, []).append((village.code, village.name))
    return [("", _("全部村(居)")), *groups.items()]


def not_in_future(value: dt.date | None) -> None:
    if value is not None and value > timezone.localdate():
        raise forms.ValidationError(_("日期不能晚于今天。"), code="future")


def validated_national_id(value: str) -> str:
    """The checked, normalised 18-character ID number, or the field's Chinese message (one message table)."""
    try:
        return idnumber.validate(value, today=timezone.localdate())
    except idnumber.IdNumberError as exc:
        raise forms.ValidationError(bounds.ID_NUMBER_MESSAGES[str(exc)], code=str(exc)) from exc


class DateRulesMixin(forms.BaseForm):
    """Every date field gets a date picker and refuses dates in the future; cross-field order checks here."""

    def setup_dates(self) -> None:
        for form_field in self.fields.values():
            if isinstance(form_field, forms.DateField):
                form_field.widget = forms.DateInput(attrs=DATE_WIDGET_ATTRS, format="%Y-%m-%d")
                form_field.validators.append(not_in_future)

    def require_not_before(self, earliest: dt.date | None, names: Iterable[str], message: StrOrPromise) -> None:
        if earliest is None:
            return
        for name in names:
            value = self.cleaned_data.get(name)
            if value is not None and value < earliest:
                self.add_error(name, message)


class FieldsetsMixin(forms.BaseForm):
    """Groups fields under legends for the templates; names missing from a form are skipped."""

    FIELDSETS: tuple[tuple[StrOrPromise, tuple[str, ...]], ...] = ()

    def fieldsets(self) -> Iterator[tuple[StrOrPromise, list[forms.BoundField]]]:
        for legend, names in self.FIELDSETS:
            bound = [self[name] for name in names if name in self.fields]
            if bound:
                yield legend, bound


def short_text_widgets(model: type[Model], names: Iterable[str]) -> dict[str, type[forms.Widget]]:
    """Encrypted fields are text fields (a text area by default); short ones read better on one line."""
    wanted = set(names)
    return {
        f.name: forms.TextInput
        for f in encrypted_fields(model)
        if f.name in wanted and (f.max_plaintext_length or 0) <= SHORT_TEXT_LIMIT
    }


# --- patient list --------------------------------------------------------------------------------------------


class PatientFilterForm(forms.Form):
    """The list's search box and filters (GET). Invalid values are reported and ignored, never a 500."""

    q = forms.CharField(
        label=_("检索"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("姓名、身份证号或手机号后4位"), "type": "search"}),
    )
    village = forms.ChoiceField(label=_("村(居)"), required=False)
    disorder = forms.TypedChoiceField(
        label=_("诊断类别"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("全部诊断")), *codes.Disorder.choices],
    )
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *codes.Status.choices])
    pending_closure = forms.BooleanField(label=_("仅看待审核注销"), required=False)

    def __init__(self, data: FormData | None = None, *, villages: Iterable[Area] = ()) -> None:
        super().__init__(data)
        village_field = self.fields["village"]
        assert isinstance(village_field, forms.ChoiceField)  # noqa: S101  (narrows the type for mypy)
        village_field.choices = village_choices(villages)

    def valid_filters(self) -> dict[str, object]:
        """The filters that validated; a bad one is dropped (its error is shown) rather than failing the page."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "", False)}


# --- registration and editing --------------------------------------------------------------------------------

IDENTITY_FIELDS = (
    "name",
    "national_id",
    "sex",
    "birth_date",
    "phone",
    "address",
    "hukou_address",
    "guardian_name",
    "guardian_relation",
    "guardian_phone",
    "guardian_address",
    "committee_contact_name",
    "committee_contact_phone",
    "notes",
)
CLINICAL_FIELDS = ("disorder", "diagnosis_date", "diagnosis_hospital")


class PatientInputError(ValueError):
    """What the parsers below refuse, every message by the field it concerns (``__all__`` for the form)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _form_errors(*forms_: forms.BaseForm, prefixes: tuple[str, ...] = ()) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for index, form in enumerate(forms_):
        prefix = prefixes[index] if index < len(prefixes) else ""
        for key, messages in form.errors.items():
            errors.setdefault(prefix + key, []).extend(str(m) for m in messages)
    return errors


def _text(cleaned: Mapping[str, object], name: str) -> str:
    value = cleaned.get(name)
    return str(value) if value is not None else ""


def _optional_int(cleaned: Mapping[str, object], name: str) -> int | None:
    value = cleaned.get(name)
    return int(str(value)) if value not in (None, "") else None


def _optional_date(cleaned: Mapping[str, object], name: str) -> dt.date | None:
    value = cleaned.get(name)
    return value if isinstance(value, dt.date) else None


def _date(cleaned: Mapping[str, object], name: str) -> dt.date:
    value = cleaned[name]
    assert isinstance(value, dt.date)  # noqa: S101  (a required date field of a valid form)
    return value


class PatientForm(FieldsetsMixin, DateRulesMixin, forms.ModelForm):  # type: ignore[type-arg]  # the class is not subscriptable at run time
    """Identity and clinical basics (the edit page). Sex and birth date default to what the ID number says."""

    FIELDSETS = (
        (_("身份信息"), ("name", "national_id", "sex", "birth_date", "phone")),
        (_("住址"), ("village", "address", "hukou_address")),
        (_("诊断与建档"), ("disorder", "diagnosis_date", "diagnosis_hospital", "registered_on")),
        (_("监护人"), ("guardian_name", "guardian_relation", "guardian_phone", "guardian_address")),
        (_("村(居)委会联系人"), ("committee_contact_name", "committee_contact_phone")),
        (_("其他"), ("notes",)),
    )

    class Meta:
        model = Patient
        fields: tuple[str, ...] = (*IDENTITY_FIELDS, *CLINICAL_FIELDS)
        widgets = short_text_widgets(Patient, IDENTITY_FIELDS)
        help_texts = {
            "sex": _("留空则按身份证号自动填写。"),
            "birth_date": _("留空则按身份证号自动填写。"),
        }
        error_messages = {
            "name": {"required": _("请填写姓名。")},
            "national_id": {"required": _("请填写身份证号。")},
            "disorder": {"required": _("请选择诊断类别。")},
        }

    def __init__(
        self, data: FormData | None = None, *, initial: dict[str, object] | None = None, instance: Patient | None = None
    ) -> None:
        del instance  # see the module docstring: never the stored patient
        super().__init__(data, initial=initial)
        self.setup_dates()
        for name in ("name", "national_id"):
            self.fields[name].required = True
        sex = cast("forms.TypedChoiceField", self.fields["sex"])
        sex.required = False
        sex.choices = [("", _("按身份证号自动填写")), *codes.Sex.choices]
        self.fields["birth_date"].required = False
        for name in bounds.PHONE_FIELDS:
            self.fields[name].validators.append(phone_validator)

    def clean_national_id(self) -> str:
        return validated_national_id(str(self.cleaned_data.get("national_id") or ""))

    def clean(self) -> dict[str, object]:
        super().clean()
        cleaned = self.cleaned_data
        number = cleaned.get("national_id")
        if number:
            self._agree_with_id_number(number, cleaned)
        self.require_not_before(cleaned.get("birth_date"), self.after_birth_fields(), _("日期不能早于出生日期。"))
        return cleaned

    def after_birth_fields(self) -> tuple[str, ...]:
        return ("diagnosis_date",)

    def _agree_with_id_number(self, number: str, cleaned: dict[str, object]) -> None:
        """Sex and birth date are kept in clear for statistics; they must say what the ID number says."""
        sex, born = idnumber.sex_of(number), idnumber.birth_date_of(number)
        if cleaned.get("sex") in (None, ""):
            cleaned["sex"] = sex
        elif int(str(cleaned["sex"])) != sex:
            self.add_error("sex", _("性别与身份证号不符（身份证号第17位奇数为男、偶数为女）。"))
        if cleaned.get("birth_date") is None:
            if "birth_date" not in self.errors:
                cleaned["birth_date"] = born
        elif cleaned["birth_date"] != born:
            self.add_error("birth_date", _("出生日期与身份证号不符（身份证号第7–14位为出生日期）。"))

    def entry(self) -> PatientEntry:
        """The typed identity (call once the form is valid): the ID number normalised, sex and birth date as
        it says."""
        cleaned: dict[str, object] = self.cleaned_data
        return PatientEntry(
            name=_text(cleaned, "name"),
            national_id=_text(cleaned, "national_id"),
            sex=int(str(cleaned["sex"])),
            birth_date=_date(cleaned, "birth_date"),
            disorder=int(str(cleaned["disorder"])),
            phone=_text(cleaned, "phone"),
            address=_text(cleaned, "address"),
            hukou_address=_text(cleaned, "hukou_address"),
            guardian_name=_text(cleaned, "guardian_name"),
            guardian_relation=_text(cleaned, "guardian_relation"),
            guardian_phone=_text(cleaned, "guardian_phone"),
            guardian_address=_text(cleaned, "guardian_address"),
            committee_contact_name=_text(cleaned, "committee_contact_name"),
            committee_contact_phone=_text(cleaned, "committee_contact_phone"),
            notes=_text(cleaned, "notes"),
            diagnosis_date=_optional_date(cleaned, "diagnosis_date"),
            diagnosis_hospital=_text(cleaned, "diagnosis_hospital"),
        )


class NewPatientForm(PatientForm):
    """The identity form with the registration date: a new record, wherever its village comes from."""

    class Meta(PatientForm.Meta):
        fields: tuple[str, ...] = (*IDENTITY_FIELDS, *CLINICAL_FIELDS, "registered_on")
        error_messages = {**PatientForm.Meta.error_messages, "registered_on": {"required": _("请填写建档日期。")}}

    def __init__(self, data: FormData | None = None, *, initial: dict[str, object] | None = None) -> None:
        super().__init__(data, initial=initial)
        self.fields["registered_on"].initial = timezone.localdate

    def after_birth_fields(self) -> tuple[str, ...]:
        return ("diagnosis_date", "registered_on")

    def registration(self, supplementary: SupplementaryEntry) -> Registration:
        """The typed registration (call once this form and the supplementary form are valid)."""
        return Registration(
            patient=self.entry(), registered_on=_date(self.cleaned_data, "registered_on"), supplementary=supplementary
        )


class RegistrationForm(NewPatientForm):
    """A new record on the web: the village of current residence, among the user's, on top."""

    class Meta(NewPatientForm.Meta):
        fields = (*IDENTITY_FIELDS, "village", *CLINICAL_FIELDS, "registered_on")
        error_messages = {
            **NewPatientForm.Meta.error_messages,
            "village": {
                "required": _("请选择现住址所在村(居)。"),
                "invalid_choice": _("所选地区不是您辖区内的村(居)，请从列表中选择。"),
            },
        }

    def __init__(self, data: FormData | None = None, *, user: User) -> None:
        super().__init__(data)
        village_field = self.fields["village"]
        assert isinstance(village_field, forms.ModelChoiceField)  # noqa: S101  (narrows the type for mypy)
        village_field.queryset = villages_in_jurisdiction(user)
        village_field.empty_label = _("请选择")
        self.user = user


SUPPLEMENTARY_FIELDSETS = (
    (_("基本情况"), ("household_type", "employment", "economic_status")),
    (_("知情同意"), ("consent", "consent_signer", "consent_date", "harmed_others")),
    (
        _("既往情况"),
        (
            "onset_date",
            "onset_year_only",
            "past_symptoms",
            "past_locking",
            "past_outpatient",
            "first_antipsychotic_date",
            "past_admissions",
            "last_treatment_result",
        ),
    ),
    (
        _("发病以来危险行为（次数）"),
        ("minor_trouble", "trouble", "disaster", "other_harm", "self_harm", "suicide_attempt"),
    ),
    (_("专科医生意见"), ("specialist_opinion", "filled_on")),
)
SUPPLEMENTARY_FIELDS = tuple(name for _legend, names in SUPPLEMENTARY_FIELDSETS for name in names)


class SupplementaryFormForm(FieldsetsMixin, DateRulesMixin, forms.ModelForm):  # type: ignore[type-arg]  # the class is not subscriptable at run time
    """个人信息补充表 (domain.md §4.2). ``filled_on`` left empty means the registration date, or today."""

    FIELDSETS = SUPPLEMENTARY_FIELDSETS

    past_symptoms = forms.TypedMultipleChoiceField(
        label=SupplementaryForm._meta.get_field("past_symptoms").verbose_name,
        choices=bounds.PAST_SYMPTOMS.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = SupplementaryForm
        fields = SUPPLEMENTARY_FIELDS
        widgets = {
            **short_text_widgets(SupplementaryForm, ("consent_signer",)),
            "consent": forms.RadioSelect,
        }
        help_texts = {
            "minor_trouble": _("警察到场，仅予警告，未造成人员和财产损失。"),
            "trouble": _("违反治安管理处罚法，但未构成犯罪。"),
            "disaster": _("构成犯罪。"),
            "past_locking": _("关锁：因非医疗原因，用绳索、铁链、笼子或锁闭房间等限制人身自由。"),
            "filled_on": _("留空则为建档日期（新建）或今天（修改）。"),
        }
        error_messages = {"consent": {"required": _("请选择是否同意参加管理。")}}

    def __init__(
        self,
        data: FormData | None = None,
        *,
        prefix: str | None = None,
        initial: dict[str, object] | None = None,
        birth_date: dt.date | None = None,
    ) -> None:
        super().__init__(data, prefix=prefix, initial=initial)  # never an instance: see the module docstring
        self.setup_dates()
        self.fields["filled_on"].required = False
        consent = cast("forms.TypedChoiceField", self.fields["consent"])
        consent.choices = codes.Consent.choices  # a radio group: no blank "---------" button
        for name in bounds.COUNT_FIELDS:
            self.fields[name].required = False
        self.birth_date = birth_date

    def clean(self) -> dict[str, object]:
        super().clean()
        cleaned = self.cleaned_data
        for name in bounds.COUNT_FIELDS:  # an empty count means none, as on the paper form
            if name in cleaned and cleaned[name] is None:
                cleaned[name] = 0
        self.require_not_before(
            self.birth_date, ("onset_date", "first_antipsychotic_date"), _("日期不能早于出生日期。")
        )
        return cleaned

    def entry(self) -> SupplementaryEntry:
        """The typed form (call once it is valid); ``filled_on`` stays None when left empty."""
        cleaned: dict[str, object] = self.cleaned_data
        symptoms = cleaned.get("past_symptoms")
        return SupplementaryEntry(
            consent=int(str(cleaned["consent"])),
            household_type=_optional_int(cleaned, "household_type"),
            employment=_optional_int(cleaned, "employment"),
            economic_status=_optional_int(cleaned, "economic_status"),
            consent_signer=_text(cleaned, "consent_signer"),
            consent_date=_optional_date(cleaned, "consent_date"),
            harmed_others=bool(cleaned.get("harmed_others")),
            onset_date=_optional_date(cleaned, "onset_date"),
            onset_year_only=bool(cleaned.get("onset_year_only")),
            past_symptoms=tuple(sorted({int(code) for code in symptoms})) if isinstance(symptoms, list) else (),
            past_locking=_optional_int(cleaned, "past_locking"),
            past_outpatient=_optional_int(cleaned, "past_outpatient"),
            first_antipsychotic_date=_optional_date(cleaned, "first_antipsychotic_date"),
            past_admissions=_optional_int(cleaned, "past_admissions") or 0,
            last_treatment_result=_optional_int(cleaned, "last_treatment_result"),
            minor_trouble=_optional_int(cleaned, "minor_trouble") or 0,
            trouble=_optional_int(cleaned, "trouble") or 0,
            disaster=_optional_int(cleaned, "disaster") or 0,
            other_harm=_optional_int(cleaned, "other_harm") or 0,
            self_harm=_optional_int(cleaned, "self_harm") or 0,
            suicide_attempt=_optional_int(cleaned, "suicide_attempt") or 0,
            specialist_opinion=_text(cleaned, "specialist_opinion"),
            filled_on=_optional_date(cleaned, "filled_on"),
        )


# --- disclosure, status and closure --------------------------------------------------------------------------


class OpenWithReasonForm(forms.Form):
    purpose = forms.CharField(
        label=_("查看理由"),
        min_length=4,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("例如：核查逾期随访情况")}),
        help_text=_("理由会记入访问记录；请勿填写患者姓名、身份证号等身份信息。"),
        error_messages={
            "required": _("请说明查看完整档案的理由。"),
            "min_length": _("理由太短，请具体说明（至少4个字）。"),
        },
    )


def _optional_choice(label: StrOrPromise, choices: Iterable[tuple[int, StrOrPromise]]) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, required=False, coerce=int, empty_value=None, choices=[("", "---------"), *choices]
    )


class StatusChangeForm(DateRulesMixin, forms.Form):
    """ACTIVE/LOST/REFUSED/DEAD are changed at once; CLOSED becomes a request that a second person reviews."""

    to_status = forms.ChoiceField(label=_("变更为"), error_messages={"required": _("请选择新的状态。")})
    effective_date = forms.DateField(
        label=_("生效日期"), initial=timezone.localdate, error_messages={"required": _("请填写生效日期。")}
    )
    lost_reason = _optional_choice(_("失访原因"), codes.LostReason.choices)
    death_cause = _optional_choice(_("死亡原因"), codes.DeathCause.choices)
    death_subcause = _optional_choice(_("躯体疾病死因"), codes.PhysicalDeathCause.choices)
    closure_reason = _optional_choice(_("注销原因"), codes.ClosureReason.choices)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(
        self,
        data: FormData | None = None,
        *,
        patient: Patient,
        has_pending_closure: bool,
        proposed: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(data)
        self.setup_dates()
        targets = services.ALLOWED_TRANSITIONS[patient.status]
        choices = [(value, label) for value, label in codes.Status.choices if value in targets]
        self._propose(proposed or {}, allowed={value for value, _label in choices})
        if patient.status in services.CLOSABLE_STATUSES and not has_pending_closure:
            choices.append((codes.Status.CLOSED, _("注销（需另一人审核）")))
        to_status = self.fields["to_status"]
        assert isinstance(to_status, forms.ChoiceField)  # noqa: S101  (narrows the type for mypy)
        to_status.choices = [("", _("请选择")), *choices]
        self.has_choices = bool(choices)

    def _propose(self, proposed: Mapping[str, str], *, allowed: set[str]) -> None:
        """Preselect what a link proposes (``?to=LOST&lost_reason=4`` from the work list's "not reached in a
        row" section): only a status this patient may move to, and only a known reason. Nothing is saved until
        the doctor submits."""
        to_status = proposed.get("to", "")
        if to_status not in allowed:
            return
        self.initial["to_status"] = to_status
        reason = proposed.get("lost_reason", "")
        if to_status == codes.Status.LOST and reason.isdigit() and int(reason) in codes.LostReason.values:
            self.initial["lost_reason"] = int(reason)

    def clean(self) -> dict[str, object]:
        super().clean()
        cleaned = self.cleaned_data
        to_status = cleaned.get("to_status")
        required = {
            codes.Status.LOST: ("lost_reason", _("请选择失访原因。")),
            codes.Status.DEAD: ("death_cause", _("请选择死亡原因。")),
            codes.Status.CLOSED: ("closure_reason", _("请选择注销原因。")),
        }
        if to_status in required:
            name, message = required[to_status]
            if cleaned.get(name) is None and name not in self.errors:  # an invalid choice says so already
                self.add_error(name, message)
        if (
            to_status == codes.Status.DEAD
            and cleaned.get("death_cause") == codes.DeathCause.PHYSICAL
            and cleaned.get("death_subcause") is None
            and "death_subcause" not in self.errors
        ):
            self.add_error("death_subcause", _("死于躯体疾病时请选择具体疾病类别。"))
        return cleaned


class ClosureDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("confirm", _("确认注销")), ("reject", _("驳回"))],
        error_messages={"required": _("请选择确认或驳回。"), "invalid_choice": _("请选择确认或驳回。")},
    )

    @property
    def confirm(self) -> bool:
        return bool(self.cleaned_data.get("decision") == "confirm")


# --- the same parsers for callers without a browser -----------------------------------------------------------


def _given(data: Mapping[str, object]) -> dict[str, object]:
    return {key: value for key, value in data.items() if value is not None}


def parse_patient(data: Mapping[str, object]) -> PatientEntry:
    """The typed identity from plain values (tests, scripts), through the identity form's fields.

    ``data`` holds the form's items by name (codes as ints or digit strings, dates as ``datetime.date`` or ISO
    text; sex and birth date may be left out, the ID number decides). Raises PatientInputError with every
    problem.
    """
    form = PatientForm(_given(data))
    if not form.is_valid():
        raise PatientInputError(_form_errors(form))
    return form.entry()


def parse_supplementary(data: Mapping[str, object], *, birth_date: dt.date | None = None) -> SupplementaryEntry:
    """The typed supplementary form from plain values, through its form's fields (PatientInputError if not)."""
    form = SupplementaryFormForm(_given(data), birth_date=birth_date)
    if not form.is_valid():
        raise PatientInputError(_form_errors(form))
    return form.entry()


def parse_registration(patient: Mapping[str, object], supplementary: Mapping[str, object]) -> Registration:
    """A new record from plain values: ``patient`` as for :func:`parse_patient` plus ``registered_on``,
    ``supplementary`` as for :func:`parse_supplementary` (its errors keyed ``supp-<field>``). The village is not
    parsed here: the caller passes the ``Area`` to ``register_patient`` after checking the actor may write there.
    """
    form = NewPatientForm(_given(patient))
    form_valid = form.is_valid()
    birth_date = _optional_date(form.cleaned_data, "birth_date")
    supplementary_form = SupplementaryFormForm(_given(supplementary), birth_date=birth_date)
    if not (form_valid and supplementary_form.is_valid()):
        raise PatientInputError(_form_errors(form, supplementary_form, prefixes=("", "supp-")))
    return form.registration(supplementary_form.entry())
