"""Health-check values within plausible bounds (issue 13 §4), the same message from the form and the service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from followup.rehab import bounds
from followup.rehab import services as rehab_services
from followup.rehab.forms import HealthCheckForm
from followup.visits.services import FollowUpError
from tests.base import TODAY, World


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("120/80", False),
        (" 135 / 85 ", False),
        ("", False),
        ("abc", True),
        ("120", True),
        ("999/80", True),
        ("120/10", True),
        ("80/120", True),  # diastolic above systolic
    ],
)
def test_blood_pressure_bounds(text: str, refused: bool) -> None:
    assert bool(bounds.blood_pressure_problem(text)) is refused


@pytest.mark.parametrize(("weight", "refused"), [("60.5", False), ("1", False), ("0", True), ("99999", True)])
def test_weight_bounds(weight: str, refused: bool) -> None:
    assert bool(bounds.weight_problem(Decimal(weight))) is refused


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"), [("blood_pressure", "abc"), ("blood_pressure", "80/120"), ("weight_kg", "600")]
)
def test_the_form_and_the_service_refuse_alike(world: World, field: str, value: str) -> None:
    data = {"date": TODAY.isoformat(), "consent": "True", field: value}
    form = HealthCheckForm(data)
    assert not form.is_valid()
    service_data: dict[str, object] = {"date": TODAY - dt.timedelta(days=0), "consent": True, field: value}
    with pytest.raises(FollowUpError) as refused:
        rehab_services.record_health_check(actor=world.doctor_a, patient=world.patient_a, data=service_data)
    assert refused.value.errors[field] == form.errors[field]
