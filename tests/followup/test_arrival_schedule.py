"""An accepted transfer puts the patient on the receiving doctor's work list (issue 13 §5, domain.md §4.4): due by
the first-visit date (accepted + 14 days) until the receiver reaches the patient, then the normal schedule; a
rebuild of the care states agrees with the incremental path."""

from __future__ import annotations

import datetime as dt

import pytest

from followup.models import PatientCareState
from followup.visits import queries, rules, services
from followup.visits.rules import REACHED, Arrival, Attempt
from registry.models import Transfer
from registry.transfers import services as transfers
from tests.base import TODAY, World
from tests.followup.base import reached_data, record

D = dt.date
DAY = dt.timedelta(days=1)


def reached(day: dt.date, next_date: dt.date) -> Attempt:
    return Attempt(key=day.toordinal(), date=day, outcome=REACHED, risk_level=0, classification=3, next_date=next_date)


ARRIVAL = Arrival(on=D(2026, 3, 1), visit_by=D(2026, 3, 15))


@pytest.mark.parametrize(
    ("history", "arrival", "due"),
    [
        ([], None, None),  # never seen, never moved: no schedule yet
        ([], ARRIVAL, D(2026, 3, 15)),  # arrived without any follow-up: due by the first visit
        ([reached(D(2026, 1, 10), D(2026, 4, 10))], ARRIVAL, D(2026, 3, 15)),  # the first visit comes first
        ([reached(D(2026, 2, 20), D(2026, 3, 6))], ARRIVAL, D(2026, 3, 6)),  # an earlier own date stays
        ([reached(D(2026, 3, 5), D(2026, 6, 5))], ARRIVAL, D(2026, 6, 5)),  # reached after arrival: the schedule
        ([reached(D(2026, 1, 10), D(2026, 4, 10))], None, D(2026, 4, 10)),
    ],
)
def test_the_first_visit_after_an_arrival(history: list[Attempt], arrival: Arrival | None, due: dt.date) -> None:
    assert rules.care_snapshot(history, arrival).next_due_date == due


pytestmark = pytest.mark.django_db


def accept(world: World, on: dt.date) -> Transfer:
    transfer = transfers.request_transfer(
        actor=world.doctor_a, patient=world.patient_a, to_village=world.village_b1, reason="随子女居住", today=on
    )
    return transfers.accept_transfer(actor=world.doctor_b, transfer=transfer, today=on)


def test_an_accepted_transfer_is_on_the_receivers_work_list(world: World) -> None:
    last = TODAY - 20 * DAY
    record(world.patient_a, world.doctor_a, reached_data(last, next_date=last + 90 * DAY))
    accepted = accept(world, TODAY - 10 * DAY)
    visit_by = accepted.visit_by()
    assert visit_by == TODAY + 4 * DAY  # within the work list's "due soon" week

    assert PatientCareState.objects.get(patient=world.patient_a).next_due_date == visit_by
    due_soon = queries.work_list(world.doctor_b, TODAY).due_soon
    assert [(item.patient.pk, item.next_due) for item in due_soon] == [(world.patient_a.pk, visit_by)]
    assert queries.work_list(world.doctor_a, TODAY).due_soon == []  # the sender no longer follows the patient
    assert services.rebuild_care_states(batch_size=1) == (1, 0)  # the rebuild agrees


def test_the_receivers_first_visit_starts_the_normal_schedule(world: World) -> None:
    accept(world, TODAY - 5 * DAY)
    assert PatientCareState.objects.get(patient=world.patient_a).next_due_date == TODAY + 9 * DAY
    record(world.patient_a, world.doctor_b, reached_data(TODAY - DAY, next_date=TODAY - DAY + 90 * DAY))
    assert PatientCareState.objects.get(patient=world.patient_a).next_due_date == TODAY - DAY + 90 * DAY


def test_a_rebuild_agrees_with_the_arrival(world: World) -> None:
    accept(world, TODAY - 3 * DAY)  # no follow-up at all: only the arrival schedules the patient
    fields = [f.attname for f in PatientCareState._meta.fields if f.name != "updated_at"]
    before = list(PatientCareState.objects.order_by("patient_id").values(*fields))
    PatientCareState.objects.all().delete()
    services.rebuild_care_states(batch_size=1)
    assert list(PatientCareState.objects.order_by("patient_id").values(*fields)) == before
    assert before and before[0]["next_due_date"] == TODAY + 11 * DAY
