"""A case-team member sees exactly what domain.md §8 gives the team (issue 14 §8): the patient's identity and
contacts, the guardian, the risk level, the classification, the next due date, the plan and the contacts —
never the diagnosis, the record's status, age or birth date, the registration date, medication, the details of
follow-ups, emergencies, rehabilitation, health checks or the supplementary form.

The member (police_c, on the team of township A's patient) opens every page the URL resolver defines, its path
parameters filled with that patient's and that case's ids (tests/casemgmt/url_probe.py), and submits every form
empty; no response may show a value or a label outside §8.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.utils import formats, timezone

from tests.base import World, edit_patient
from tests.casemgmt.url_probe import (
    Hidden,
    build_hidden,
    build_path,
    client_for,
    fills_for,
    not_probed,
    probe_query,
    response_text,
    routes,
)

pytestmark = pytest.mark.django_db

NOTES = "备注里的探针"


@pytest.fixture
def hidden(world: World, tmp_path: Path) -> Hidden:
    hidden = build_hidden(world, tmp_path)
    hidden.patient = edit_patient(world.doctor_a, hidden.patient, notes=NOTES)
    return hidden


def day_forms(day: dt.date) -> list[str]:
    return [day.isoformat(), f"{day.year}年{day.month}月{day.day}日", formats.date_format(day, "DATE_FORMAT")]


def outside_section_8(hidden: Hidden) -> dict[str, list[str]]:
    """What §8 keeps from the team: the patient's own values, and the labels of the fields that carry them."""
    patient = hidden.patient
    return {
        "diagnosis": [patient.get_disorder_display(), "诊断", "确诊"],
        "record status": [patient.get_status_display(), "档案状态"],
        "birth date": [*day_forms(patient.birth_date), "出生日期"],
        "age": ["年龄", f"{patient.age_on(timezone.localdate())} 岁"],
        "registration date": [*day_forms(patient.registered_on), "建档日期"],
        "notes": [NOTES],
        "medication": ["利培酮", "用药", "服药"],
        "follow-up details": ["自知力", "目前症状", "社会功能", "危险行为", "不良反应", "治疗效果", "住院"],
        "emergencies": ["应急处置"],
        "rehabilitation": ["康复会所", "社区康复"],
        "health check": ["体检"],
        "supplementary form": ["补充表", "知情同意", "初次发病", "就业"],
    }


def test_the_team_member_sees_only_the_section_8_fields(hidden: Hidden) -> None:
    client = client_for(hidden.world.police_c)
    forbidden = outside_section_8(hidden)
    problems: list[str] = []
    answered: set[str] = set()
    for route in routes():
        if not_probed(route) or route.name in {"logout", "set_language"}:
            continue
        for values in fills_for(route, hidden):
            path = build_path(route, values)
            if not route.params:
                path = f"{path}?{urlencode(probe_query(hidden))}"
            for method in ("get", "post"):
                with transaction.atomic():
                    response: Any = client.get(path) if method == "get" else client.post(path, {})
                    transaction.set_rollback(True)
                if response.status_code != 200:
                    continue
                answered.add(route.name)
                text = response_text(response)
                if hidden.patient.name not in text:
                    continue  # a page about nothing of this patient (the member's home, the password form ...)
                for what, markers in forbidden.items():
                    if found := [marker for marker in markers if marker in text]:
                        problems.append(f"{method.upper()} {route.label} as {path} shows the {what}: {found}")
    # A control: the member does reach the pages of their case.
    assert {"followup:case_detail", "followup:case_list", "registry:patient_detail"} <= answered
    assert not problems, "\n".join(problems)
