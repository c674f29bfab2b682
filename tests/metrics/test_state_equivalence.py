"""The state table is correct at speed: on randomized registries the report read from the incrementally kept
state, the report after a full rebuild, and the direct definition of domain.md §11 are the same document, for
areas of every level, periods of every kind and every option combination (issue 6, point 3).

Registries are written through the real services (registration, status changes, the two-person closure,
transfers requested and accepted, rehabilitation, health checks) and follow-ups through a bulk insert that
announces its batch, as the workbook import does — so the randomized follow-ups can hold what the form
refuses on purpose (a reached visit without a risk level, any next date) and the definitions must cope.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casemgmt.areas.models import Area, AreaLevel
from followup.models import FollowUp
from followup.rehab import services as rehab_services
from followup.visits import services as followup_services
from metrics.indicators.definitions import DEATHS_IN_PERIOD, MEDICATION_DENOMINATORS, REGULAR_MANAGEMENT_RULES, Options
from metrics.indicators.periods import Quarter, parse_period
from metrics.models import PatientYearState
from metrics.reports.engine import compute, compute_direct
from metrics.state.calendar import answers
from metrics.state.read import counts_of_rows, counts_of_totals
from metrics.state.rebuild import rebuild
from registry import codes
from registry.models import Patient
from registry.patients import services
from registry.patients.services import RegistryError
from registry.signals import announce_patients_changed
from registry.transfers import services as transfers
from registry.transfers.services import TransferError
from tests.base import TODAY, World, make_area, make_patient

pytestmark = pytest.mark.django_db
FIRST = dt.date(TODAY.year - 2, 1, 1)
QUARTER_STARTS = [Quarter(y, q).start for y in range(FIRST.year, TODAY.year + 1) for q in range(1, 5)]
OPTIONS = [
    Options(regular_management=r, medication_denominator=m, deaths_in_period=d)
    for r in REGULAR_MANAGEMENT_RULES
    for m in MEDICATION_DENOMINATORS
    for d in DEATHS_IN_PERIOD
]

days = st.integers(min_value=0, max_value=(TODAY - FIRST).days).map(lambda n: FIRST + dt.timedelta(days=n))
registration_days = st.one_of(days, st.sampled_from([d for d in QUARTER_STARTS if d <= TODAY]))


@dataclass
class Visit:
    offset: int  # days after registration
    reached: bool
    risk: int | None
    hospitalisation: int
    adherence: int | None
    mode: int
    classification: int
    family_support: bool
    next_in: int
    trouble: tuple[int, int, int]


@dataclass
class Spec:
    village: int
    disorder: int
    registered_on: dt.date
    visits: list[Visit] = field(default_factory=list)
    statuses: list[tuple[str, int]] = field(default_factory=list)  # status, days after registration
    transfer: tuple[str, int, int] | None = None  # "accepted" / "pending", request and acceptance offsets
    rehab: list[tuple[int, int | None]] = field(default_factory=list)
    checks: list[tuple[int, bool]] = field(default_factory=list)


visits = st.builds(
    Visit,
    offset=st.one_of(st.integers(0, 1100), st.sampled_from([0, 1, 90, 91, 92, 365])),  # same-day ties too
    reached=st.booleans(),
    risk=st.one_of(st.none(), st.integers(0, 5)),
    hospitalisation=st.sampled_from([0, 0, 1, 2]),
    adherence=st.one_of(st.none(), st.integers(1, 4)),
    mode=st.integers(1, 3),
    classification=st.integers(1, 3),
    family_support=st.booleans(),
    next_in=st.integers(10, 120),
    trouble=st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(0, 1)),
)
specs = st.builds(
    Spec,
    village=st.integers(0, 3),
    disorder=st.sampled_from([1, 1, 4, 99]),
    registered_on=registration_days,
    visits=st.lists(visits, max_size=12),
    statuses=st.lists(
        st.tuples(st.sampled_from(["LOST", "ACTIVE", "REFUSED", "DEAD", "CLOSED"]), st.integers(0, 900)), max_size=3
    ),
    transfer=st.one_of(
        st.none(), st.tuples(st.sampled_from(["accepted", "pending"]), st.integers(0, 500), st.integers(0, 200))
    ),
    rehab=st.lists(st.tuples(st.integers(0, 900), st.one_of(st.none(), st.integers(0, 300))), max_size=2),
    checks=st.lists(st.tuples(st.integers(0, 900), st.booleans()), max_size=2),
)


def within(registered_on: dt.date, offset: int) -> dt.date | None:
    day = registered_on + dt.timedelta(days=offset)
    return day if day <= TODAY else None


@dataclass
class Places:
    world: World
    villages: list[Area]
    areas: list[Area]


@pytest.fixture
def places(world: World) -> Places:
    other_county = make_area("320509000000", "另一区", AreaLevel.COUNTY, world.city)
    other_township = make_area("320509001000", "丙街道", AreaLevel.TOWNSHIP, other_county)
    other_village = make_area("320509001001", "丙一社区", AreaLevel.VILLAGE, other_township)
    w = world
    villages = [w.village_a1, w.village_a2, w.village_b1, other_village]
    areas = [w.province, w.city, w.county, other_county, w.township_a, w.township_b, w.village_a1, other_village]
    return Places(world, villages, areas)


def _doctor(w: World, village: Area) -> Any:
    return w.doctor_b if village.code.startswith(w.township_b.code[:9]) else w.doctor_a


def _apply_transfer(w: World, patient: Patient, spec: Spec, villages: list[Area]) -> None:
    if spec.transfer is None or spec.village == 3:
        return
    kind, request_offset, accept_offset = spec.transfer
    asked = within(spec.registered_on, request_offset)
    if asked is None:
        return
    target = w.village_b1 if spec.village in (0, 1) else w.village_a1
    try:
        transfer = transfers.request_transfer(
            actor=_doctor(w, villages[spec.village]),
            patient=patient,
            to_village=target,
            reason="随子女居住",
            today=asked,
        )
        accepted = within(asked, accept_offset)
        if kind == "accepted" and accepted is not None:
            transfers.accept_transfer(actor=_doctor(w, target), transfer=transfer, today=accepted)
    except TransferError:
        pass


def _apply_statuses(w: World, patient: Patient, spec: Spec) -> None:
    for status, offset in sorted(spec.statuses, key=lambda s: s[1]):
        day = within(spec.registered_on, offset)
        if day is None:
            continue
        try:
            if status == "CLOSED":
                closure = services.request_closure(
                    actor=w.doctor_a, patient=patient, effective_date=day, reason=codes.ClosureReason.DUPLICATE
                )
                services.decide_closure(actor=w.doctor_a2, closure=closure, confirm=True)
            else:
                services.change_status(
                    actor=w.doctor_a, patient=patient, to_status=status, effective_date=day, lost_reason=1,
                    death_cause=codes.DeathCause.SUICIDE if offset % 2 else codes.DeathCause.ACCIDENT,
                )  # fmt: skip
        except RegistryError:
            pass  # a transition the registry refuses (e.g. anything after death) is simply not made


def _insert_visits(w: World, patient: Patient, spec: Spec) -> None:
    rows = []
    for visit in spec.visits:
        day = within(spec.registered_on, visit.offset)
        if day is None:
            continue
        reached = visit.reached
        rows.append(
            FollowUp(
                submission_key=uuid.uuid4(), patient=patient, doctor=w.doctor_a, date=day, mode=visit.mode,
                outcome="REACHED" if reached else "NOT_REACHED",
                risk_level=visit.risk if reached else None,
                hospitalisation=visit.hospitalisation if reached else None,
                adherence=visit.adherence if reached else None,
                classification=visit.classification if reached else None,
                family_support=reached and visit.family_support,
                next_date=day + dt.timedelta(days=visit.next_in) if reached else None,
                minor_trouble=visit.trouble[0], trouble=visit.trouble[1], disaster=visit.trouble[2],
            )
        )  # fmt: skip
    FollowUp.objects.bulk_create(rows)
    if rows:
        announce_patients_changed(patient_ids=[patient.pk], since=min(r.date for r in rows))


def _apply_side(w: World, patient: Patient, spec: Spec) -> None:
    for start_offset, length in spec.rehab:
        start = within(spec.registered_on, start_offset)
        if start is None:
            continue
        end = None if length is None else within(start, length)
        data: dict[str, Any] = {"provider_type": "clubhouse", "service_type": "职业康复", "start_date": start}
        if end is not None:
            data["end_date"] = end
        rehab_services.record_rehab_participation(actor=w.doctor_a, patient=patient, data=data, today=TODAY)
    for offset, consent in spec.checks:
        day = within(spec.registered_on, offset)
        if day is not None:
            with contextlib.suppress(followup_services.FollowUpError):  # a second check on one day
                rehab_services.record_health_check(
                    actor=w.doctor_a, patient=patient, data={"date": day, "consent": consent}, today=TODAY
                )


def build(places: Places, registry: list[Spec]) -> None:
    w = places.world
    for index, spec in enumerate(registry):
        village = places.villages[spec.village]
        patient = make_patient(
            _doctor(w, village), village, registered_on=spec.registered_on, disorder=spec.disorder,
            birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=index * 37 + spec.registered_on.toordinal() % 30),
        )  # fmt: skip
        _insert_visits(w, patient, spec)
        _apply_side(w, patient, spec)
        _apply_transfer(w, patient, spec, places.villages)
        _apply_statuses(w, patient, spec)


periods = st.one_of(
    st.integers(FIRST.year, TODAY.year).map(str),
    st.tuples(st.integers(FIRST.year, TODAY.year), st.integers(1, 4)).map(lambda t: f"{t[0]}-Q{t[1]}"),
    st.tuples(st.integers(FIRST.year, TODAY.year), st.integers(1, 12)).map(lambda t: f"{t[0]}-{t[1]:02d}"),
    st.tuples(st.integers(FIRST.year, TODAY.year), st.integers(1, 12)).map(lambda t: f"{t[0]}-YTD-{t[1]:02d}"),
)


def started(key: str) -> bool:
    try:
        parse_period(key)
    except ValueError:
        return False
    return True


def document(report: Any) -> dict[str, Any]:
    body = report.document()
    body.pop("computed_at")
    return body


def assert_same(places: Places, picks: list[tuple[int, str]]) -> None:
    for area_index, key in picks:
        period = parse_period(key)
        area = places.areas[area_index]
        assert answers(period)
        for options in OPTIONS:
            expected = document(compute_direct(area, period, options, children=True))
            assert document(compute(area, period, options, children=True)) == expected, (area.code, key, options)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    registry=st.lists(specs, min_size=1, max_size=6),
    picks=st.lists(st.tuples(st.integers(0, 7), periods.filter(started)), min_size=1, max_size=4),
    stale_days=st.integers(0, 70),
)
def test_incremental_state_rebuild_and_definition_agree(
    places: Places, registry: list[Spec], picks: list[tuple[int, str]], stale_days: int
) -> None:
    with transaction.atomic():
        build(places, registry)
        incremental = counts_of_rows(list(PatientYearState.objects.all()))
        totals = counts_of_totals()
        assert_same(places, picks)  # the state kept by the writers' signals

        rebuild()
        assert counts_of_rows(list(PatientYearState.objects.all())) == incremental  # a rebuild changes nothing
        assert counts_of_totals() == totals
        assert_same(places, picks)

        # State computed some days ago and never touched since: the report refreshes what the calendar made stale.
        rebuild(day=TODAY - dt.timedelta(days=stale_days))
        assert_same(places, picks)
        transaction.set_rollback(True)
