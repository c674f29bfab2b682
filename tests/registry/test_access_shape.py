"""One access shape: every resource has one ``get_<x>_for_user(request, id, *, write=False)`` that returns the
object or raises ``Http404`` (the same for "does not exist" and "not yours"), and one ``*_visible_to(user)``
queryset its lists start from."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.http import Http404
from django.test import RequestFactory

from followup.cases.services import cases_visible_to, get_case_for_user
from followup.emergencies.services import emergencies_visible_to, get_emergency_for_user
from followup.visits.queries import followups_visible_to, get_followup_for_user
from followup.workbook.jobs import get_import_job_for_user, import_jobs_visible_to
from metrics.reports.access import get_pdf_export_for_user, pdf_exports_visible_to
from registry.access.visibility import get_closure_for_user, get_patient_for_user, visible_patients
from registry.breakglass.services import break_glass_visible_to, get_break_glass_for_user
from registry.transfers.services import Side, get_transfer_for_user, transfers_visible_to
from tests.base import World

GETTERS: list[Callable[..., Any]] = [
    get_patient_for_user,
    get_followup_for_user,
    get_case_for_user,
    get_emergency_for_user,
    get_transfer_for_user,
    get_import_job_for_user,
    get_pdf_export_for_user,
    get_closure_for_user,
    get_break_glass_for_user,
]
VISIBLE: list[Callable[..., Any]] = [
    visible_patients,
    followups_visible_to,
    cases_visible_to,
    emergencies_visible_to,
    transfers_visible_to,
    import_jobs_visible_to,
    pdf_exports_visible_to,
    break_glass_visible_to,
]


@pytest.mark.parametrize("getter", GETTERS, ids=lambda f: f.__name__)
def test_every_getter_has_the_one_shape(getter: Callable[..., Any]) -> None:
    params = list(inspect.signature(getter).parameters.values())
    assert [p.name for p in params[:1]] == ["request"]
    assert params[1].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    keyword_only = {p.name: p for p in params[2:]}
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[2:])
    assert keyword_only["write"].default is False
    assert getter.__name__.startswith("get_") and getter.__name__.endswith("_for_user")


@pytest.mark.parametrize("visible", VISIBLE, ids=lambda f: f.__name__)
def test_every_resource_has_a_visible_to_queryset(visible: Callable[..., Any]) -> None:
    assert next(iter(inspect.signature(visible).parameters)) == "user"


def _request(user: Any) -> Any:
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_missing_and_foreign_records_give_the_same_404(world: World) -> None:
    """doctor_b asks for doctor_a's patient and for a record that does not exist: both 404, nothing else."""
    missing = uuid.uuid4()
    calls: list[Callable[[Any], Any]] = [
        lambda key: get_patient_for_user(_request(world.doctor_b), key),
        lambda key: get_case_for_user(_request(world.doctor_b), key),
        lambda key: get_emergency_for_user(_request(world.doctor_b), key),
        lambda key: get_transfer_for_user(_request(world.doctor_b), key, side=Side.INCOMING),
        lambda key: get_transfer_for_user(_request(world.doctor_b), key, side=Side.OUTGOING),
        lambda key: get_import_job_for_user(_request(world.doctor_b), key),
        lambda key: get_followup_for_user(_request(world.doctor_b), key, patient=world.patient_a),
        lambda key: get_break_glass_for_user(_request(world.doctor_b), key),
    ]
    for call in calls:
        with pytest.raises(Http404):
            call(missing)
    with pytest.raises(Http404):
        get_patient_for_user(_request(world.doctor_b), world.patient_a.uuid)
    with pytest.raises(Http404):
        get_pdf_export_for_user(_request(world.county_d), 0)
