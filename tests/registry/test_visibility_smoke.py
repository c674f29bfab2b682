from __future__ import annotations

from casemgmt.accounts.models import User
from registry.models import Patient
from tests.base import World


def test_each_persona_sees_exactly_their_patients(world: World) -> None:
    def seen(user: User) -> set[object]:
        return set(Patient.objects.visible_to(user).values_list("uuid", flat=True))

    a, b = world.patient_a.uuid, world.patient_b.uuid
    assert seen(world.doctor_a) == {a}
    assert seen(world.doctor_b) == {b}
    assert seen(world.county_d) == {a, b}
    assert seen(world.police_c) == {a}
    assert seen(world.admin_e) == set()
