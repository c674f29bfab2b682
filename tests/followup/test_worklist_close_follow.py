"""An emergency's close follow-up period shows on the doctor's work list (issue 13 §5, domain.md §9), audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from casemgmt.audit.models import AuditEvent
from tests.base import World
from tests.followup.test_emergency_views import make

pytestmark = pytest.mark.django_db


def test_the_close_follow_up_period_is_on_the_work_list(world: World) -> None:
    make(world, world.patient_a)
    client = Client()
    client.force_login(world.doctor_a)
    body = client.get(reverse("followup:worklist")).content.decode()
    assert 'id="close-follow"' in body and world.patient_a.name in body
    event = AuditEvent.objects.filter(detail__page="worklist").latest("id")
    assert str(world.patient_a.uuid) in {str(s.patient_uuid) for s in event.subjects.all()}

    other = Client()
    other.force_login(world.doctor_b)  # another township: not theirs
    assert world.patient_a.name not in other.get(reverse("followup:worklist")).content.decode()
