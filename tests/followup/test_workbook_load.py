"""Loading a valid registry workbook: what is written, custody and status history, idempotency, variants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from casemgmt.audit.models import Action, AuditEvent
from followup.models import Case, FollowUp, HealthCheck, MedicationRow, PatientCareState, RehabParticipation
from followup.workbook.loading import import_workbook
from followup.workbook.validation import Scope
from metrics.models import PatientYearState
from metrics.state import write as state_write
from metrics.state.read import counts_of_rows, counts_of_totals
from metrics.state.rebuild import rebuild
from registry.models import CustodySpan, Patient, StatusChange, Transfer, national_id_index
from registry.signals import patient_facts_changed
from tests.base import World
from tests.followup.workbook_base import TODAY, day, followup_row, valid_sheets, write_csv_folder, write_xlsx, write_zip

pytestmark = pytest.mark.django_db

MODELS = (Patient, StatusChange, CustodySpan, Transfer, FollowUp, MedicationRow, RehabParticipation, HealthCheck)


def snapshot() -> dict[str, Any]:
    return {model.__name__: sorted(map(str, model.objects.values_list("pk", flat=True))) for model in MODELS}


def state_rows() -> Any:
    """The indicator state: every patient-year row's counts and the stored totals."""
    return counts_of_rows(list(PatientYearState.objects.all())), counts_of_totals()


def patient(world: World, sheets: dict[str, Any], ref: str) -> Patient:
    row = next(r for r in sheets["patients"][1:] if r[0] == ref)
    return Patient.objects.get(national_id_index=national_id_index(row[1]))


def test_a_valid_workbook_is_loaded_with_history_and_custody(world: World, tmp_path: Path) -> None:
    sheets = valid_sheets(world)
    report = import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.admin_e)
    assert report.ok, report.lines()
    assert report.counts["patients"].created == 3
    assert report.counts["followups"].created == 4
    assert report.counts["medications"].created == 2
    p1, p2, p3 = (patient(world, sheets, ref) for ref in ("P1", "P2", "P3"))
    assert p1.name == sheets["patients"][1][2] and p1.village_id == world.village_a1.code
    assert FollowUp.objects.filter(patient=p1).count() == 2
    assert FollowUp.objects.get(patient=p1, source_ref="F2").risk_level is None  # kept as unknown
    spans = list(CustodySpan.objects.filter(patient=p2).order_by("start_date").values_list("area_id", "end_date"))
    assert spans == [(world.village_a1.code, TODAY.fromisoformat(day(190))), (world.village_a2.code, None)]
    assert Transfer.objects.get(patient=p2).state == "accepted"
    history = list(StatusChange.objects.filter(patient=p3).values_list("from_status", "to_status", "death_cause"))
    assert history == [("", "ACTIVE", None), ("ACTIVE", "DEAD", 2)]
    assert p3.status == "DEAD" and p3.status_since.isoformat() == day(30)
    assert MedicationRow.objects.get(followup__source_ref="F3").shape == "depot"
    assert RehabParticipation.objects.filter(patient=p1).count() == HealthCheck.objects.filter(patient=p1).count() == 1
    assert PatientCareState.objects.get(patient=p1).last_followup_date == TODAY.fromisoformat(day(200))
    assert AuditEvent.objects.filter(detail__source="workbook_import").exists()


def test_loading_twice_changes_nothing(world: World, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "book.xlsx", valid_sheets(world))
    import_workbook(path, actor=world.admin_e)
    before = snapshot()
    last_event = AuditEvent.objects.latest("id").pk
    report = import_workbook(path, actor=world.admin_e)
    assert report.ok and not report.changed
    assert report.counts["patients"].unchanged == 3 and report.counts["followups"].unchanged == 4
    assert snapshot() == before
    # Nothing but the probes of the three matched ID numbers (issue 14 §2) is recorded.
    assert list(AuditEvent.objects.filter(pk__gt=last_event).values_list("action", flat=True)) == [
        Action.IDENTITY_PROBE
    ]


def test_a_dry_run_writes_nothing_but_counts_exactly(world: World, tmp_path: Path) -> None:
    before = snapshot()
    report = import_workbook(write_xlsx(tmp_path / "book.xlsx", valid_sheets(world)), actor=world.admin_e, dry_run=True)
    assert report.ok and report.counts["patients"].created == 3
    assert snapshot() == before


@pytest.mark.parametrize("writer", [write_csv_folder, write_zip], ids=["csv-folder", "zip"])
def test_csv_folder_and_zip_load_the_same(world: World, tmp_path: Path, writer: Any) -> None:
    target = tmp_path / ("book.zip" if writer is write_zip else "book")
    report = import_workbook(writer(target, valid_sheets(world)), actor=world.admin_e)
    assert report.ok, report.lines()
    assert report.counts["followups"].created == 4 and FollowUp.objects.filter(source_ref__isnull=False).count() == 4


def test_rows_kept_on_disk_load_the_same_as_rows_kept_in_memory(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond its memory budget the checking pass keeps its rows in an encrypted temporary file (a province's
    workbook); the load is the same, field for field."""
    from followup.workbook import kept

    sheets = valid_sheets(world)
    in_memory = import_workbook(write_xlsx(tmp_path / "a.xlsx", sheets), actor=world.admin_e, dry_run=True)
    monkeypatch.setattr(kept, "IN_MEMORY", 0)
    monkeypatch.setattr(kept, "BATCH", 2)
    spilled: list[bool] = []
    original_close = kept.KeptRows.close

    def close(self: kept.KeptRows) -> None:
        spilled.append(self.spilled)
        original_close(self)

    monkeypatch.setattr(kept.KeptRows, "close", close)
    report = import_workbook(write_xlsx(tmp_path / "b.xlsx", sheets), actor=world.admin_e)
    assert report.ok, report.lines()
    assert spilled[-1] is True
    assert {name: c.created for name, c in report.counts.items()} == {
        name: c.created for name, c in in_memory.counts.items()
    }
    p1 = patient(world, sheets, "P1")
    assert p1.name == sheets["patients"][1][2]
    assert FollowUp.objects.filter(patient=p1).count() == 2 and MedicationRow.objects.count() == 2


@pytest.mark.postgres
def test_references_are_deferred_again_for_a_transaction_that_goes_on(world: World, tmp_path: Path) -> None:
    """The load checks foreign keys per COPY (SET CONSTRAINTS ALL IMMEDIATE); its caller's transaction then
    checks them at the commit again, as Django declares them."""
    from django.db import IntegrityError, connection, transaction

    assert import_workbook(write_xlsx(tmp_path / "book.xlsx", valid_sheets(world)), actor=world.admin_e).ok
    with transaction.atomic(), connection.cursor() as cursor:  # a savepoint in the test's transaction
        cursor.execute(
            "INSERT INTO registry_custodyspan (patient_id, area_id, start_date) VALUES (-1, %s, %s) RETURNING id",
            [world.village_a1.code, TODAY],
        )  # refers to no patient: accepted until the commit
        cursor.execute("DELETE FROM registry_custodyspan WHERE patient_id = -1")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "INSERT INTO registry_custodyspan (patient_id, area_id, start_date) VALUES (-1, %s, %s)",
            [world.village_a1.code, TODAY],
        )


def test_chinese_header_aliases_and_real_excel_dates(world: World, tmp_path: Path) -> None:
    sheets = valid_sheets(world)
    aliases = {"ref": "档案编号", "national_id": "身份证号", "name": "姓名", "registered_on": "建档日期"}
    sheets["patients"][0] = [aliases.get(k, k) for k in sheets["patients"][0]]
    for row in sheets["patients"][1:]:
        row[7] = TODAY.fromisoformat(row[7])  # a real date cell, not text
    sheets["followups"][1][2] = TODAY.fromisoformat(sheets["followups"][1][2])
    report = import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.admin_e)
    assert report.ok, report.lines()
    assert patient(world, sheets, "P1").registered_on == sheets["patients"][1][7]


def test_changed_patients_are_announced_in_batches(world: World, tmp_path: Path) -> None:
    calls: list[tuple[tuple[int, ...], Any]] = []

    def listener(sender: Any, patient_ids: tuple[int, ...], since: Any, **kwargs: Any) -> None:
        calls.append((patient_ids, since))

    patient_facts_changed.connect(listener)
    try:
        import_workbook(write_xlsx(tmp_path / "book.xlsx", valid_sheets(world)), actor=world.admin_e)
    finally:
        patient_facts_changed.disconnect(listener)
    assert len(calls) == 1 and len(calls[0][0]) == 3
    assert calls[0][1].isoformat() == day(400)


@pytest.mark.parametrize("set_based_above", [0, 10_000], ids=["set-based", "in Python"])
def test_the_indicator_state_after_a_load_equals_a_full_rebuild(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, set_based_above: int
) -> None:
    monkeypatch.setattr(state_write, "SET_BASED_ABOVE", set_based_above)  # on PostgreSQL: which refresh runs
    sheets = valid_sheets(world)
    assert import_workbook(write_xlsx(tmp_path / "book.xlsx", sheets), actor=world.admin_e).ok
    loaded = state_rows()
    assert any(row.patient_id == patient(world, sheets, "P1").pk for row in PatientYearState.objects.all())
    rebuild()
    assert state_rows() == loaded


def test_an_existing_patient_in_scope_is_matched_and_gets_new_followups(world: World, tmp_path: Path) -> None:
    sheets = valid_sheets(world)
    import_workbook(write_xlsx(tmp_path / "one.xlsx", sheets), actor=world.admin_e)
    sheets["followups"].append(followup_row("F9", "P1", 10))
    county = Scope(prefixes=("320508",))
    report = import_workbook(write_xlsx(tmp_path / "two.xlsx", sheets), actor=world.county_d, scope=county)
    assert report.ok, report.lines()
    assert report.counts["patients"].unchanged == 3 and report.counts["followups"].created == 1
    p1 = patient(world, sheets, "P1")
    assert PatientCareState.objects.get(patient=p1).last_followup_date == TODAY.fromisoformat(day(10))


def test_progress_is_reported_for_both_passes(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from followup.workbook import loading, validation

    monkeypatch.setattr(validation, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(loading, "PROGRESS_EVERY", 2)
    calls: list[tuple[str, int, int]] = []
    path = write_xlsx(tmp_path / "book.xlsx", valid_sheets(world))
    import_workbook(path, actor=world.admin_e, progress=lambda *args: calls.append(args))
    checks = [done for stage, done, _total in calls if stage == "check"]
    loads = [(done, total) for stage, done, total in calls if stage == "load"]
    assert checks == sorted(checks) and checks[-1] >= 10
    assert loads[-1] == (12, 12) and [d for d, _t in loads] == sorted(d for d, _t in loads)
    assert calls.index(next(c for c in calls if c[0] == "load")) > calls.index(
        next(c for c in calls if c[0] == "check")
    )


def test_a_conflict_during_the_write_pass_rolls_everything_back(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone registers the same ID number between the check and the write: nothing of the file remains."""
    import datetime as dt

    from followup.workbook import kept, loading
    from tests.base import make_patient
    from tests.followup.workbook_base import PATIENT_HEADER

    monkeypatch.setattr(loading, "PROGRESS_EVERY", 1)
    monkeypatch.setattr(kept, "BATCH", 1)  # one patient per batch: the conflict arrives before the last one
    sheets = valid_sheets(world)
    row = sheets["patients"][3]
    column = PATIENT_HEADER.index

    def register_the_same_person(stage: str, done: int, total: int) -> None:
        if stage == "load" and not Patient.objects.filter(national_id_index=national_id_index(row[1])).exists():
            born = dt.date.fromisoformat(row[column("birth_date")])
            make_patient(world.doctor_a, world.village_a1, national_id=row[1], sex=row[column("sex")], birth_date=born)

    path = write_xlsx(tmp_path / "book.xlsx", sheets)
    with pytest.raises(loading.WorkbookError, match="未写入任何数据"):
        import_workbook(path, actor=world.admin_e, progress=register_the_same_person)
    assert Patient.objects.count() == 2 and not FollowUp.objects.filter(source_ref__isnull=False).exists()


def test_imported_histories_open_the_cases_their_latest_follow_up_calls_for(world: World, tmp_path: Path) -> None:
    sheets = valid_sheets(world)
    sheets["followups"].append(followup_row("F5", "P2", 20, risk_level=3, classification=1, next_date=day(6)))
    path = write_xlsx(tmp_path / "book.xlsx", sheets)
    assert import_workbook(path, actor=world.admin_e).ok
    p1, p2, p3 = (patient(world, sheets, ref) for ref in ("P1", "P2", "P3"))
    case = Case.objects.get(patient=p2)
    assert case.is_open and case.opened_on.isoformat() == day(20)
    assert sorted(case.opened_reasons) == ["risk", "unstable"]
    assert case.opened_from is not None and case.opened_from.source_ref == "F5"
    assert not Case.objects.filter(patient__in=[p1, p3]).exists()  # stable; dead
    assert import_workbook(path, actor=world.admin_e).ok
    assert Case.objects.count() == 1
