"""Issue 15 §6: a history migrated through version 2 of the registry workbook counts exactly as the same history
entered by hand. The history is built once through the services (registration, follow-ups with a lost and a dead
one, lost → found again, refused → consenting, a rejected, a withdrawn and an accepted transfer, a case opened by an
unstable follow-up and closed, an emergency, rehabilitation, a health check) and its indicator documents are taken
for every year, quarter and month it spans; then it is rolled back, the same history is imported as a workbook
into the clean state, and the documents must be identical — from the state table (``manage.py indicators``) and
from the definitions directly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from followup.cases.services import close_case
from followup.emergencies.services import record_emergency
from followup.models import Case, Emergency
from followup.rehab.services import record_health_check, record_rehab_participation
from followup.workbook.loading import import_workbook
from metrics.indicators.options import default_options
from metrics.indicators.periods import Period, parse_period
from metrics.reports.engine import compute, compute_direct
from registry import codes
from registry.models import Patient, StatusChange, Transfer
from registry.patients import services as registry_services
from registry.transfers import services as transfers
from tests.base import TODAY, World, make_patient
from tests.followup.base import attempt_data, reached_data, record
from tests.followup.workbook_base import national_id, write_xlsx

pytestmark = pytest.mark.django_db

REGISTERED = TODAY - dt.timedelta(days=400)
COMPUTED_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
EMERGENCY_AT = timezone.make_aware(dt.datetime.combine(TODAY - dt.timedelta(days=110), dt.time(10, 30)))


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def iso(days: int) -> str:
    return ago(days).isoformat()


class _Rollback(Exception):
    pass


# -- the people: the same synthetic identities by hand and in the workbook -------------------------------------

PEOPLE = {  # ref: (seed, sex)
    "P1": (101, 1),
    "P2": (102, 2),
    "P3": (103, 1),
    "P4": (104, 2),
    "P5": (105, 1),
    "P6": (106, 2),
}


def born(seed: int) -> dt.date:
    return dt.date(1960, 1, 1) + dt.timedelta(days=seed * 37)


def identity(ref: str) -> dict[str, Any]:
    seed, sex = PEOPLE[ref]
    return {"national_id": national_id(seed, born(seed), sex), "sex": sex, "birth_date": born(seed)}


# -- by hand ----------------------------------------------------------------------------------------------------


def reached(patient: Patient, actor: Any, days: int, **over: Any) -> None:
    record(patient, actor, reached_data(ago(days), **over))


def enter_by_hand(w: World) -> None:
    a1, a2, b1 = w.village_a1, w.village_a2, w.village_b1
    doc_a, doc_b = w.doctor_a, w.doctor_b
    register = {ref: identity(ref) for ref in PEOPLE}

    p1 = make_patient(doc_a, a1, registered_on=REGISTERED, **register["P1"])
    for days in (380, 290, 200, 110, 20):
        reached(p1, doc_a, days)
    moving = transfers.request_transfer(actor=doc_a, patient=p1, to_village=b1, reason="探亲", today=ago(250))
    transfers.withdraw_transfer(actor=doc_a, transfer=moving, today=ago(248))
    record_rehab_participation(
        actor=doc_a, patient=p1, data={"provider_type": "clubhouse", "start_date": ago(300)}, today=TODAY
    )
    record_health_check(actor=doc_a, patient=p1, data={"date": ago(150)}, today=TODAY)

    p2 = make_patient(doc_a, a1, registered_on=REGISTERED, **register["P2"])  # lost, then found again
    reached(p2, doc_a, 350)
    record(p2, doc_a, attempt_data(ago(250), "LOST", lost_reason=1), [])
    reached(p2, doc_a, 100)

    p3 = make_patient(doc_a, a1, registered_on=REGISTERED, **register["P3"])  # died
    reached(p3, doc_a, 300)
    record(p3, doc_a, attempt_data(ago(60), "DEAD", death_date=ago(65), death_cause=codes.DeathCause.SUICIDE), [])

    p4 = make_patient(doc_a, a1, consent=0, registered_on=REGISTERED, **register["P4"])  # refused, then consenting
    registry_services.change_status(actor=doc_a, patient=p4, to_status="ACTIVE", effective_date=ago(200), note="同意")
    reached(p4, doc_a, 150)
    reached(p4, doc_a, 50, family_support=False, adherence=2)

    p5 = make_patient(doc_a, a1, registered_on=REGISTERED, **register["P5"])  # rejected transfer, case, emergency
    reached(p5, doc_a, 330)
    asked = transfers.request_transfer(actor=doc_a, patient=p5, to_village=b1, reason="务工", today=ago(300))
    transfers.reject_transfer(actor=doc_b, transfer=asked, reason="查无此人", today=ago(295))
    reached(p5, doc_a, 120, classification=1, risk_level=3, next_date=ago(106))  # opens a case
    record_emergency(
        actor=doc_a,
        values={"occurred_at": EMERGENCY_AT, "place": "家中", "situations": ["danger"], "risk_level": 3,
                "disposition": "admit"},
        handler=None,
        complete=False,
        now=timezone.now(),
        patient=p5,
    )  # fmt: skip
    reached(p5, doc_a, 100)
    reached(p5, doc_a, 10)
    close_case(actor=doc_a, case=Case.objects.get(patient=p5), reason="stable_twice", today=ago(5))

    p6 = make_patient(doc_a, a2, registered_on=REGISTERED, **register["P6"])  # moved to another township
    reached(p6, doc_a, 300, mode=3)
    moved = transfers.request_transfer(actor=doc_a, patient=p6, to_village=b1, reason="随子女居住", today=ago(200))
    transfers.accept_transfer(actor=doc_b, transfer=moved, today=ago(190))
    reached(p6, doc_b, 100, hospitalisation=1, risk_level=None)
    record_rehab_participation(
        actor=doc_b,
        patient=p6,
        data={"provider_type": "day", "start_date": ago(150), "end_date": ago(50)},
        today=TODAY,
    )


# -- the same history as a version-2 workbook ----------------------------------------------------------------

PATIENT_HEADER = ["ref", "national_id", "name", "sex", "birth_date", "village_code", "disorder", "registered_on",
                  "consent", "status", "status_date", "death_cause"]  # fmt: skip
FOLLOWUP_HEADER = ["ref", "patient_ref", "date", "mode", "outcome", "risk_level", "insight", "adherence",
                   "hospitalisation", "classification", "next_date", "family_support", "lost_reason", "death_date",
                   "death_cause"]  # fmt: skip


def patient_row(ref: str, village: str, *, consent: int = 1, status: str = "ACTIVE", since: int | None = None,
                death_cause: int | None = None) -> list[Any]:  # fmt: skip
    person = identity(ref)
    since_day = iso(since) if since is not None else None
    return [ref, person["national_id"], f"患者{ref}", person["sex"], person["birth_date"].isoformat(), village, 1,
            REGISTERED.isoformat(), consent, status, since_day, death_cause]  # fmt: skip


def followup_row(ref: str, patient_ref: str, days: int, **over: Any) -> list[Any]:
    values: dict[str, Any] = {
        "ref": ref, "patient_ref": patient_ref, "date": iso(days), "mode": 2, "outcome": "REACHED", "risk_level": 0,
        "insight": 1, "adherence": 1, "hospitalisation": 0, "classification": 3, "next_date": iso(days - 60),
        "family_support": 1, "lost_reason": None, "death_date": None, "death_cause": None,
    }  # fmt: skip
    values.update(over)
    return [values[key] for key in FOLLOWUP_HEADER]


def attempt_row(ref: str, patient_ref: str, days: int, outcome: str, **over: Any) -> list[Any]:
    blank = dict.fromkeys(("risk_level", "insight", "adherence", "hospitalisation", "classification", "next_date"))
    return followup_row(ref, patient_ref, days, mode=3, outcome=outcome, family_support=None, **{**blank, **over})


def history_workbook(w: World) -> dict[str, list[list[Any]]]:
    a1, a2, b1 = w.village_a1.code, w.village_a2.code, w.village_b1.code
    return {
        "patients": [
            PATIENT_HEADER,
            patient_row("P1", a1),
            patient_row("P2", a1, since=100),
            patient_row("P3", a1, status="DEAD", since=65, death_cause=2),
            patient_row("P4", a1, status="ACTIVE", since=200),
            patient_row("P5", a1),
            patient_row("P6", b1),
        ],
        "transfers": [
            [
                "patient_ref",
                "from_village_code",
                "to_village_code",
                "requested_on",
                "accepted_on",
                "outcome",
                "decided_on",
                "reason",
            ],
            ["P1", a1, b1, iso(250), None, "WITHDRAWN", iso(248), "探亲"],
            ["P5", a1, b1, iso(300), None, "REJECTED", iso(295), "查无此人"],
            ["P6", a2, b1, iso(200), iso(190), None, None, "随子女居住"],
        ],
        "status_history": [
            ["patient_ref", "date", "status", "lost_reason", "death_cause", "reason"],
            ["P2", iso(250), "LOST", 1, None, None],
            ["P2", iso(100), "ACTIVE", None, None, "随访时找到患者"],
            ["P3", iso(65), "DEAD", None, 2, None],
            ["P4", REGISTERED.isoformat(), "REFUSED", None, None, None],
            ["P4", iso(200), "ACTIVE", None, None, "同意"],
        ],
        "followups": [
            FOLLOWUP_HEADER,
            *(followup_row(f"F1-{days}", "P1", days) for days in (380, 290, 200, 110, 20)),
            followup_row("F2-350", "P2", 350),
            attempt_row("F2-250", "P2", 250, "LOST", lost_reason=1),
            followup_row("F2-100", "P2", 100),
            followup_row("F3-300", "P3", 300),
            attempt_row("F3-60", "P3", 60, "DEAD", death_date=iso(65), death_cause=2),
            followup_row("F4-150", "P4", 150),
            followup_row("F4-50", "P4", 50, family_support=0, adherence=2),
            followup_row("F5-330", "P5", 330),
            followup_row("F5-120", "P5", 120, classification=1, risk_level=3, next_date=iso(106)),
            followup_row("F5-100", "P5", 100),
            followup_row("F5-10", "P5", 10),
            followup_row("F6-300", "P6", 300, mode=3),
            followup_row("F6-100", "P6", 100, hospitalisation=1, risk_level=None),
        ],
        "rehab": [
            ["patient_ref", "provider_type", "start_date", "end_date"],
            ["P1", "康复会所", iso(300), None],  # the Chinese name
            ["P6", 1, iso(150), iso(50)],  # the number of 日间康复机构
        ],
        "health_checks": [["patient_ref", "date"], ["P1", iso(150)]],
        "cases": [
            ["ref", "patient_ref", "opened_on", "opened_because", "closed_on", "close_reason", "review_on"],
            ["C5", "P5", iso(120), "UNSTABLE,RISK_3_PLUS", iso(5), "stable_twice", None],
        ],
        "emergencies": [
            ["ref", "patient_ref", "occurred_at", "place", "situations", "risk_level", "disposition", "completed_at"],
            ["E5", "P5", timezone.localtime(EMERGENCY_AT).strftime("%Y-%m-%d %H:%M"), "家中", "2", 3, "住院", None],
        ],
    }


# -- the comparison -------------------------------------------------------------------------------------------


def periods() -> list[Period]:
    """Every year, quarter and month from the registration's to today's."""
    found: list[Period] = []
    for year in range(REGISTERED.year, TODAY.year + 1):
        found.append(parse_period(str(year)))
        found.extend(parse_period(f"{year}-Q{q}") for q in range(1, 5) if dt.date(year, 3 * q - 2, 1) <= TODAY)
        found.extend(parse_period(f"{year}-{m:02d}") for m in range(1, 13) if dt.date(year, m, 1) <= TODAY)
    return [p for p in found if p.end >= REGISTERED]


def documents(w: World) -> dict[tuple[str, str], Any]:
    options = default_options()
    found: dict[tuple[str, str], Any] = {}
    for period in periods():
        label = f"{period.start}..{period.end}"
        found[("state", label)] = compute(w.county, period, options, children=True).document(COMPUTED_AT)
        found[("direct", label)] = compute_direct(w.county, period, options, children=True).document(COMPUTED_AT)
    return found


def histories() -> list[tuple[Any, ...]]:
    """The registry's histories, by national ID (they decide the indicators; pks differ between the two runs)."""
    ids = {p.pk: p.national_id for p in Patient.objects.all()}
    changes = [
        (ids[pk], *rest)
        for pk, *rest in StatusChange.objects.values_list("patient_id", "from_status", "to_status", "effective_date")
    ]
    moves = [
        (ids[pk], *rest)
        for pk, *rest in Transfer.objects.values_list("patient_id", "state", "requested_on", "decided_on", "to_village")
    ]
    return sorted(changes, key=str) + sorted(moves, key=str)


def test_an_imported_history_counts_as_the_same_history_entered_by_hand(world: World, tmp_path: Path) -> None:
    with pytest.raises(_Rollback), transaction.atomic():
        enter_by_hand(world)
        by_hand, entered = documents(world), histories()
        raise _Rollback
    assert not Patient.objects.exclude(pk__in=[world.patient_a.pk, world.patient_b.pk]).exists()  # clean again

    report = import_workbook(write_xlsx(tmp_path / "history.xlsx", history_workbook(world)), actor=world.admin_e)

    assert report.ok, report.lines()
    assert histories() == entered
    imported = documents(world)
    assert sum(d["counts"]["deaths"] for d in imported.values()) > 0  # the history shows in the documents
    assert any(d["counts"]["open_cases"] for d in imported.values())
    assert any(d["counts"]["emergencies"] for d in imported.values())
    assert any(d["indicators"]["lost_rate"]["numerator"] for d in imported.values())
    assert any(d["indicators"]["rehabilitation_rate"]["numerator"] for d in imported.values())
    for key, document in by_hand.items():
        assert imported[key] == document, key
    assert Emergency.objects.get(source_ref="E5").situations == ["danger"]
