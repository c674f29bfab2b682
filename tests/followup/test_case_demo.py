"""The demo case teams: the demo police account joins the first open cases, with a plan and contacts."""

from __future__ import annotations

import pytest

from casemgmt.accounts.models import Role, User
from devdata.followup_demo import load_demo_cases
from followup.cases import services as case_services
from followup.models import CaseContact, CaseMember
from registry.models import Patient
from tests.base import TODAY, World, make_user
from tests.followup.case_base import open_case

pytestmark = pytest.mark.django_db


def test_demo_teams(world: World) -> None:
    police = make_user("police1", Role.CASE_MEMBER, world.county)
    cases = [open_case(world), open_case(world, world.patient_b)]

    def actor_for(patient: object) -> User:
        return world.doctor_a if patient == world.patient_a else world.doctor_b

    assert load_demo_cases(actor_for=actor_for, today=TODAY) == 2
    assert load_demo_cases(actor_for=actor_for, today=TODAY) == 0  # idempotent
    assert set(Patient.objects.visible_to(police)) == {world.patient_a, world.patient_b}
    assert list(case_services.my_cases(police).order_by("patient_id")) == cases
    assert CaseMember.objects.filter(user__isnull=True).count() == 2
    assert CaseContact.objects.count() == 4
    assert all(c.review_date and c.goals for c in case_services.my_cases(police))
