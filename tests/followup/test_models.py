"""The national form's code lists, the dosing rule, the drug list and the database's own checks."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from followup import codes
from followup.models import FollowUp, MedicationRow, RehabParticipation, dose_problems
from followup.visits import drugs
from tests.base import World
from tests.followup.base import TODAY, record

# --- code lists: the national numbers (domain.md §5) --------------------------------------------------------------

CODE_TABLE: list[tuple[type[models.Choices], dict[Any, str]]] = [
    (codes.Mode, {1: "门诊", 2: "家庭访视", 3: "电话"}),
    (codes.Contact, {1: "患者本人", 2: "患者家属/监护人", 3: "其他知情人"}),
    (codes.Outcome, {"REACHED": "随访到", "NOT_REACHED": "未访到", "LOST": "失访", "DEAD": "死亡"}),
    (codes.Insight, {1: "自知力完全", 2: "自知力不全", 3: "自知力缺失"}),
    (codes.Grade, {1: "良好", 2: "一般", 3: "较差"}),
    (codes.WorkGrade, {1: "良好", 2: "一般", 3: "较差", 9: "此项不适用"}),
    (codes.Locking, {1: "无关锁", 2: "关锁", 3: "关锁已解除"}),
    (codes.Hospitalisation, {0: "未住院", 1: "目前正在住院", 2: "曾住院，现未住院"}),
    (codes.Lab, {1: "无", 2: "有"}),
    (codes.Adherence, {1: "按医嘱规律用药", 2: "间断用药", 3: "不用药", 4: "医嘱勿需用药"}),
    (codes.AdverseReaction, {1: "无", 2: "有", 9: "此项不适用"}),
    (codes.TreatmentEffect, {1: "痊愈", 2: "好转", 3: "无变化", 4: "加重", 9: "此项不适用"}),
    (codes.Referral, {1: "否", 2: "是"}),
    (codes.Rehabilitation, {1: "生活劳动能力", 2: "职业训练", 3: "学习能力", 4: "社会交往", 5: "其他"}),
    (codes.Classification, {1: "不稳定", 2: "基本稳定", 3: "稳定"}),
    (
        codes.DangerousBehaviour,
        {1: "轻度滋事", 2: "肇事", 3: "肇祸", 4: "其他危害行为", 5: "自伤", 6: "自杀未遂"},
    ),
    (
        codes.Symptom,
        {
            1: "幻觉",
            2: "交流困难",
            3: "猜疑",
            4: "喜怒无常",
            5: "行为怪异",
            6: "兴奋话多",
            7: "伤人毁物",
            8: "悲观厌世",
            9: "无故外走",
            10: "自语自笑",
            11: "孤僻懒散",
            12: "其他",
        },
    ),
]


@pytest.mark.parametrize(("choices", "expected"), CODE_TABLE, ids=[c.__name__ for c, _e in CODE_TABLE])
def test_code_lists_carry_the_national_numbers(choices: type[models.Choices], expected: dict[Any, str]) -> None:
    assert {value: str(label) for value, label in choices.choices} == expected


def test_risk_levels_are_zero_to_five() -> None:
    assert codes.RiskLevel.values == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("field", "phrase"),
    [
        ("minor_trouble", "公安机关出警"),  # 轻度滋事: police called, a warning only, no harm
        ("trouble", "违反治安管理处罚法但未构成刑事犯罪"),  # 肇事
        ("disaster", "刑事犯罪"),  # 肇祸
    ],
)
def test_dangerous_behaviours_carry_their_definitions(field: str, phrase: str) -> None:
    help_texts = {name: str(help_text) for name, _label, help_text in codes.DANGER_FIELDS}
    assert phrase in help_texts[field]
    assert [name for name, _l, _h in codes.DANGER_FIELDS] == [
        "minor_trouble", "trouble", "disaster", "other_harm", "self_harm", "suicide_attempt",
    ]  # fmt: skip
    assert "绳索、铁链、笼子或上锁的房间" in str(codes.LOCKING_HELP)


def test_every_suggestion_reason_has_a_label() -> None:
    from followup.visits import rules

    reasons = set()
    for risk in (None, 0, 1, 3):
        for insight in (None, 1, 2, 3):
            for flags in ({}, {"symptoms": (1,)}, {"social": (3,)}, {"obvious_psychotic_symptoms": True},
                          {"severe_adverse_reaction": True}, {"severe_physical_illness": True},
                          {"unanswered": ("sleep",)}):  # fmt: skip
                assessment = rules.Assessment(risk_level=risk, insight=insight, **flags)
                reasons |= set(rules.suggest_classification(assessment).reasons)
    assert reasons == set(codes.SUGGESTION_REASONS)


# --- dosing shapes -------------------------------------------------------------------------------------------------

D = Decimal
DOSE_TABLE = [
    # (case, shape, values, valid?)
    ("schedule, morning and evening", "schedule", {"morning_mg": D("1"), "evening_mg": D("2")}, True),
    ("schedule, noon only", "schedule", {"noon_mg": D("0.5")}, True),
    ("schedule, nothing", "schedule", {}, False),
    ("schedule with a frequency field", "schedule", {"morning_mg": D("1"), "times_per_day": 2}, False),
    ("frequency complete", "frequency", {"times_per_day": 2, "mg_per_dose": D("5")}, True),
    ("frequency without mg", "frequency", {"times_per_day": 2}, False),
    ("frequency, fractional times", "frequency", {"times_per_day": D("1.5"), "mg_per_dose": D("5")}, False),
    ("frequency, 100 times a day", "frequency", {"times_per_day": 100, "mg_per_dose": D("5")}, False),
    ("depot complete", "depot", {"depot_every_weeks": 4, "depot_mg": D("150")}, True),
    ("depot without weeks", "depot", {"depot_mg": D("150")}, False),
    ("zero", "depot", {"depot_every_weeks": 4, "depot_mg": D("0")}, False),
    ("negative", "schedule", {"evening_mg": D("-1")}, False),
    ("three decimals", "schedule", {"evening_mg": D("0.125")}, False),
    ("too large", "schedule", {"evening_mg": D("100000")}, False),
    ("not a number", "schedule", {"evening_mg": "五"}, False),
    ("not finite", "schedule", {"evening_mg": D("NaN")}, False),
    ("a bool is not a number", "frequency", {"times_per_day": True, "mg_per_dose": D("5")}, False),
    ("unknown shape", "weekly", {"evening_mg": D("5")}, False),
]


@pytest.mark.parametrize(("case", "shape", "values", "valid"), DOSE_TABLE, ids=[r[0] for r in DOSE_TABLE])
def test_dose_problems(case: str, shape: str, values: dict[str, Any], valid: bool) -> None:
    problems = dose_problems(shape, values)
    assert (problems == []) is valid, (case, problems)
    assert all(isinstance(p, str) and p for p in problems)


def test_medication_row_clean_uses_the_same_rule() -> None:
    MedicationRow(drug="奥氮平", shape="frequency", times_per_day=1, mg_per_dose=D("10")).clean()
    with pytest.raises(ValidationError):
        MedicationRow(drug="奥氮平", shape="frequency", times_per_day=1).clean()


@pytest.mark.parametrize(
    ("name", "long_acting", "shape"),
    [
        ("利培酮", False, "schedule"),
        ("棕榈酸帕利哌酮注射液", True, "depot"),
        ("癸酸氟哌啶醇注射液", True, "depot"),
        ("五氟利多", True, "depot"),  # a weekly tablet: "every N weeks"
        (" 碳酸锂 ", False, "schedule"),
        ("某新药", None, "schedule"),  # free text is allowed
    ],
)
def test_drug_list(name: str, long_acting: bool | None, shape: str) -> None:
    drug = drugs.find_drug(name)
    assert (drug.long_acting if drug else None) == long_acting
    assert drugs.default_shape(name) == shape


def test_the_drug_list_holds_the_common_antipsychotics_and_mood_stabilisers() -> None:
    required = {
        "利培酮", "奥氮平", "喹硫平", "阿立哌唑", "氯氮平", "氨磺必利", "齐拉西酮", "帕利哌酮", "棕榈酸帕利哌酮注射液",
        "氟哌啶醇", "癸酸氟哌啶醇注射液", "奋乃静", "舒必利", "氯丙嗪", "五氟利多", "碳酸锂", "丙戊酸钠", "拉莫三嗪",
        "卡马西平",
    }  # fmt: skip
    assert required <= set(drugs.DRUG_NAMES)
    assert len(set(drugs.DRUG_NAMES)) == len(drugs.DRUGS)
    assert all(d.english for d in drugs.DRUGS)


# --- the database's own checks -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_database_refuses_clinical_fields_on_an_attempt(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.create(
            submission_key=uuid.uuid4(), patient=world.patient_a, date=TODAY, mode=3, outcome="NOT_REACHED",
            risk_level=0, doctor=world.doctor_a,
        )  # fmt: skip


@pytest.mark.django_db
def test_the_database_refuses_a_risk_level_above_five(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.create(
            submission_key=uuid.uuid4(), patient=world.patient_a, date=TODAY, mode=1, outcome="REACHED",
            risk_level=6, doctor=world.doctor_a,
        )  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values",
    [
        {"shape": "frequency", "times_per_day": 2},  # incomplete
        {"shape": "schedule", "morning_mg": D("1"), "depot_mg": D("5")},  # another shape's field
        {"shape": "schedule", "morning_mg": D("-1")},  # not positive
    ],
)
def test_the_database_refuses_a_medication_row_that_breaks_its_shape(world: World, values: dict[str, Any]) -> None:
    followup = record(world.patient_a, world.doctor_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        MedicationRow.objects.create(followup=followup, drug="奥氮平", **values)


@pytest.mark.django_db
def test_complete_follow_ups(world: World) -> None:
    followup = record(world.patient_a, world.doctor_a)
    assert followup.is_complete and list(FollowUp.objects.complete()) == [followup]
    FollowUp.objects.filter(pk=followup.pk).update(risk_level=None, hospitalisation=2)  # an old, partial record
    assert not FollowUp.objects.get(pk=followup.pk).is_complete and not FollowUp.objects.complete().exists()
    assert FollowUp.objects.reached().count() == 1


@pytest.mark.django_db
def test_the_database_refuses_rehab_ending_before_it_starts(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        RehabParticipation.objects.create(
            patient=world.patient_a, provider_type="day", start_date=TODAY, end_date=TODAY - dt.timedelta(days=1),
            recorded_by=world.doctor_a,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("start", "end", "window", "overlaps"),
    [
        (dt.date(2025, 1, 1), None, (dt.date(2025, 6, 1), dt.date(2025, 6, 30)), True),  # ongoing
        (dt.date(2025, 1, 1), dt.date(2025, 5, 31), (dt.date(2025, 6, 1), dt.date(2025, 6, 30)), False),
        (dt.date(2025, 1, 1), dt.date(2025, 6, 1), (dt.date(2025, 6, 1), dt.date(2025, 6, 30)), True),  # one day
        (dt.date(2025, 7, 1), None, (dt.date(2025, 6, 1), dt.date(2025, 6, 30)), False),  # starts after
        (dt.date(2025, 6, 30), None, (dt.date(2025, 6, 1), dt.date(2025, 6, 30)), True),
    ],
)
def test_rehab_overlap(start: dt.date, end: dt.date | None, window: tuple[dt.date, dt.date], overlaps: bool) -> None:
    participation = RehabParticipation(provider_type="day", start_date=start, end_date=end)
    assert participation.overlaps(*window) is overlaps
