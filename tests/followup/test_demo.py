from __future__ import annotations

import pytest
from django.utils import timezone

from devdata.followup_demo import load_demo_followups
from followup.models import FollowUp, PatientCareState
from tests.base import World

pytestmark = pytest.mark.django_db


def test_demo_history_goes_through_the_service_and_is_idempotent(world: World) -> None:
    today = timezone.localdate()
    written = load_demo_followups(actor_for=lambda p: p.created_by, seed=1, today=today)
    assert written == FollowUp.objects.count() > 2
    assert PatientCareState.objects.count() == 2
    assert all(f.date < today for f in FollowUp.objects.all())
    assert load_demo_followups(actor_for=lambda p: p.created_by, seed=1, today=today) == 0
