"""The demo city: the real map, patients spread over disorders and statuses, idempotent, hand-made records
through the real services. Loaded at a small fraction of the demo's prevalence (PER_THOUSAND), for speed."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from casemgmt.accounts.models import Role, User
from casemgmt.areas.models import Area, AreaPopulation
from casemgmt.areas.population import population_of
from casemgmt.audit.models import Action, AuditEvent
from devdata import registry_demo as demo
from followup.models import FollowUp
from registry import codes
from registry.models import ClosureRequest, Patient, StatusChange
from tests.base import build_world

pytestmark = pytest.mark.django_db


PER_THOUSAND = 0.2  # a twentieth of the demo's patients: about 730


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("load_demo", *args, "--per-thousand", str(PER_THOUSAND), stdout=out)
    return out.getvalue()


def test_demo_city_is_the_real_map_and_spread() -> None:
    today = timezone.localdate()
    output = _run()
    assert Area.objects.get(code="340200000000").name == "芜湖市"
    assert Area.objects.filter(level=3).count() == 9
    assert Area.objects.filter(level=4).count() == 79
    assert Area.objects.filter(level=5).count() == 950
    assert Area.objects.get(code=demo.COUNTY[0]).name == "南陵县"
    years = range(today.year - 2, today.year + 1)
    village_figures = AreaPopulation.objects.filter(area__level=5, year__in=years)
    assert village_figures.count() == 950 * 3
    for year in years:  # the villages add up to the census figures of the city and its counties
        assert population_of("340200000000", year).total == 3_644_420
        assert population_of("340202000000", year).total == 478_658  # 镜湖区

    patients = Patient.objects.all()
    expected = 3_644_420 * PER_THOUSAND / 1000
    assert expected * 0.95 <= patients.count() <= expected * 1.05
    assert set(patients.values_list("village__parent__parent_id", flat=True)) == set(
        Area.objects.filter(level=3).values_list("code", flat=True)
    )
    assert FollowUp.objects.count() > patients.count() * 5  # histories of three years
    disorders = Counter(patients.values_list("disorder", flat=True))
    assert set(disorders) == set(range(1, 7))
    assert disorders[codes.Disorder.SCHIZOPHRENIA] > patients.count() / 2
    statuses = Counter(patients.values_list("status", flat=True))
    assert set(statuses) == set(codes.Status.values)
    assert statuses[codes.Status.ACTIVE] > patients.count() / 2
    assert statuses[codes.Status.CLOSED] == 1
    registered = sorted(patients.values_list("registered_on", flat=True))
    assert (registered[-1] - registered[0]).days > 2 * 365
    assert len(set(patients.values_list("village", flat=True))) > 300
    assert "Demo-Pass-2026" in output and "doctor1b" in output


def test_every_date_lies_on_or_before_the_day_it_is_loaded_for() -> None:
    today = dt.date(2026, 3, 1)
    demo.load_demo(today=today, per_thousand=PER_THOUSAND)
    assert Patient.objects.filter(registered_on__gt=today).count() == 0
    assert FollowUp.objects.filter(date__gt=today).count() == 0
    assert Patient.objects.filter(status_since__gt=today).count() == 0
    assert StatusChange.objects.filter(effective_date__gt=today).count() == 0
    assert {c.effective_date for c in ClosureRequest.objects.all()} == {today}
    assert set(AreaPopulation.objects.values_list("year", flat=True)) == {2020, 2024, 2025, 2026}  # 2020: census


def test_closure_through_the_real_two_person_review() -> None:
    _run()
    closed = Patient.objects.get(status=codes.Status.CLOSED)
    change = StatusChange.objects.get(patient=closed, to_status=codes.Status.CLOSED)
    assert change.actor.username == "doctor1" and change.confirmed_by is not None
    assert change.confirmed_by.username == "doctor1b"
    pending = ClosureRequest.objects.get(decision=ClosureRequest.Decision.PENDING)
    assert pending.patient.status == codes.Status.ACTIVE
    assert AuditEvent.objects.filter(action=Action.CLOSURE_DECISION).count() == 1


def test_each_township_written_by_its_own_doctor() -> None:
    _run()
    for index in range(1, 7):
        doctor = User.objects.get(username=f"doctor{index}")
        visible = Patient.objects.visible_to(doctor)
        # All but those who moved in from elsewhere (the generator's accepted transfers).
        assert visible.count() * 0.9 <= visible.filter(created_by=doctor).count()
        assert visible.filter(created_by=doctor).count() > 0


def test_accounts_one_per_role_with_the_demo_password() -> None:
    _run()
    expected = {
        "doctor1": Role.DOCTOR,
        "doctor1b": Role.DOCTOR,
        "doctor6": Role.DOCTOR,
        "county": Role.AREA_STAFF,
        "city": Role.AREA_STAFF,
        "police1": Role.CASE_MEMBER,
        "admin": Role.ADMIN,
    }
    for username, role in expected.items():
        user = authenticate(username=username, password=demo.DEMO_PASSWORD)
        assert user is not None and user.role == role
    admin = User.objects.get(username="admin")
    assert admin.is_staff and not admin.memberships.exists()
    police = User.objects.get(username="police1")  # affiliated with the demo county: no visibility from it
    assert police.memberships.get().area_id == demo.COUNTY[0] and police.jurisdiction_prefixes() == []
    assert User.objects.get(username="county").memberships.get().area_id == demo.COUNTY[0]
    assert not Patient.objects.visible_to(User.objects.get(username="police1")).exists()
    county = Patient.objects.filter(village__code__startswith=demo.COUNTY[0][:6])
    assert Patient.objects.visible_to(User.objects.get(username="county")).count() == county.count() > 0
    assert Patient.objects.visible_to(User.objects.get(username="city")).count() == Patient.objects.count()


def test_second_run_changes_nothing_and_prints_the_accounts() -> None:
    _run()
    counts = [model.objects.count() for model in (Area, AreaPopulation, User, Patient, StatusChange, AuditEvent)]
    output = _run("--seed", "99")
    assert [model.objects.count() for model in (Area, AreaPopulation, User, Patient, StatusChange, AuditEvent)] == (
        counts
    )
    assert "演示数据已存在" in output
    for username in ("doctor1", "doctor1b", "doctor6", "county", "city", "police1", "admin"):
        assert username in output


def test_refuses_codes_used_for_other_places_and_writes_nothing() -> None:
    Area.objects.create(code="340000000000", name="东川省", level=1)  # the real map names it 安徽省
    areas = Area.objects.count()
    with pytest.raises(CommandError, match="340000000000"):
        _run()
    assert Area.objects.count() == areas
    assert not User.objects.filter(username="doctor1").exists()


def test_refuses_a_database_with_patients_outside_the_demo_city() -> None:
    world = build_world()
    Patient.objects.filter(pk=world.patient_a.pk).update(
        village=Area.objects.create(code="330000000001", name="外省某村", level=5)
    )
    with pytest.raises(CommandError, match="演示城市以外"):
        _run()


def test_help_renders(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        call_command("load_demo", "--help")
    assert "装入演示城市芜湖市" in capsys.readouterr().out
