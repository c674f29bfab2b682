"""The demo emergencies: one completed, one incomplete after 24 hours, one of an unregistered person."""

from __future__ import annotations

import pytest
from django.utils import timezone

from casemgmt.accounts.models import User
from devdata.followup_demo import load_demo_emergencies
from followup.emergencies import services as emergency_services
from followup.models import Emergency
from tests.base import World

pytestmark = pytest.mark.django_db


def test_demo_emergencies(world: World) -> None:
    def actor_for(patient: object) -> User:
        return world.doctor_a if patient == world.patient_a else world.doctor_b

    assert load_demo_emergencies(actor_for=actor_for) == 3
    assert load_demo_emergencies(actor_for=actor_for) == 0  # idempotent
    assert Emergency.objects.filter(emergency_services.open_late_q(timezone.now())).count() == 1
    assert Emergency.objects.filter(patient__isnull=True).count() == 1
