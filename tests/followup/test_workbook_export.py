"""Exporting an area's registry as a registry workbook (issue 15 §7): the file ``import_workbook`` reads, with
identity only where it may be disclosed, audited; and the round trip — export a synthetic county, load the file
into an empty database, and every period's indicator document is the same."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from openpyxl import load_workbook

from casemgmt.accounts.models import Role
from casemgmt.areas.models import Area, AreaPopulation
from casemgmt.audit.models import Action, AuditEvent
from devdata.synthetic.run import generate
from followup.cases.bulk import open_cases_after_bulk_load
from followup.cases.services import close_case
from followup.emergencies.services import record_emergency
from followup.management.commands.import_workbook import system_actor
from followup.models import Case, CaseCloseReason, Emergency, FollowUp, HealthCheck, MedicationRow, RehabParticipation
from followup.workbook.export import NOTE_SHEET, area_selection, export_workbook
from followup.workbook.export_rows import IDENTITY_COLUMNS
from followup.workbook.loading import import_workbook
from followup.workbook.schema import PATIENTS, SHEETS
from metrics.indicators.periods import Period, parse_period
from metrics.models.state import AreaSlotState
from metrics.reports.engine import compute
from registry.codes import Status
from registry.models import Patient, Transfer
from registry.transfers.services import reject_transfer, request_transfer, withdraw_transfer
from tests.base import TODAY, make_user
from tests.followup.base import RISPERIDONE, reached_data, record

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
PROVINCE = "71"
COMPUTED_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def county() -> Area:
    """A synthetic province; its county holding the most patients (some moved in or out of it)."""
    generate(patients=300, years=2, seed=11, province=PROVINCE, batch_size=100)
    counts = Counter(code[:6] for code in Patient.objects.values_list("village_id", flat=True))
    return Area.objects.get(code=counts.most_common(1)[0][0] + "000000")


@pytest.fixture
def county_with_history(county: Area) -> Area:
    """The synthetic county with what the generator leaves out, entered through the services: follow-ups with
    medication, the cases the system opens (one closed), emergencies of a patient and of a person not registered,
    a rejected and a withdrawn transfer."""
    doctor = make_user("county_doctor", Role.DOCTOR, county)
    prefix = county.code[:6]
    active = list(
        Patient.objects.filter(village__code__startswith=prefix, status=Status.ACTIVE, transfers__isnull=True)
        .select_related("village")
        .order_by("pk")[:6]
    )
    for patient in active[:3]:
        record(patient, doctor, reached_data(TODAY - dt.timedelta(days=1)), [RISPERIDONE])
    open_cases_after_bulk_load(actor=doctor, patient_ids=Patient.objects.values_list("pk", flat=True))
    case = Case.objects.filter(patient__village__code__startswith=prefix, closed_on__isnull=True).first()
    assert case is not None
    close_case(actor=doctor, case=case, reason=CaseCloseReason.OTHER, note="团队商议结案", today=TODAY)
    now = timezone.now()
    values = {"occurred_at": now - dt.timedelta(hours=2), "place": "家中"}
    record_emergency(actor=doctor, values=values, handler=None, complete=False, now=now, patient=active[3])
    village = active[3].village
    record_emergency(
        actor=doctor, values=values, handler=None, complete=False, now=now, area=village, person_name="路遇者"
    )
    elsewhere = Area.objects.filter(code__startswith=prefix, level=5).exclude(code=active[4].village_id).first()
    assert elsewhere is not None
    moving = request_transfer(actor=doctor, patient=active[4], to_village=elsewhere, reason="随子女居住", today=TODAY)
    reject_transfer(actor=doctor, transfer=moving, reason="查无此人", today=TODAY)
    moving = request_transfer(actor=doctor, patient=active[5], to_village=elsewhere, reason="随子女居住", today=TODAY)
    withdraw_transfer(actor=doctor, transfer=moving, today=TODAY)
    return county


def sheet_rows(path: Path, name: str) -> list[dict[str, Any]]:
    """The rows of a sheet as mappings from its header's keys (trailing empty cells included)."""
    book = load_workbook(path, read_only=True)
    rows = list(book[name].iter_rows(values_only=True))
    header = [str(key) for key in rows[0]]
    return [dict(zip(header, (*row, *[None] * (len(header) - len(row))), strict=True)) for row in rows[1:]]


def _periods() -> list[Period]:
    """Every year, quarter and month from the earliest registration to today."""
    first = Patient.objects.order_by("registered_on").values_list("registered_on", flat=True).first()
    assert first is not None
    today = timezone.localdate()
    keys: list[str] = []
    for year in range(first.year, today.year + 1):
        keys.append(str(year))
        keys += [f"{year}-Q{q}" for q in range(1, 5) if dt.date(year, 3 * q - 2, 1) <= today]
        keys += [f"{year}-{m:02d}" for m in range(1, 13) if dt.date(year, m, 1) <= today]
    return [parse_period(key) for key in keys]


def _documents(area_code: str, periods: list[Period]) -> dict[str, dict[str, Any]]:
    area = Area.objects.get(code=area_code)
    return {period.label: compute(area, period, children=True).document(computed_at=COMPUTED_AT) for period in periods}


def _differences(before: Any, after: Any, path: str = "") -> list[str]:
    """Where two documents differ, as paths with both values (for a readable failure)."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(set(before) | set(after))
        return [d for key in keys for d in _differences(before.get(key), after.get(key), f"{path}.{key}")]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            d for i, (b, a) in enumerate(zip(before, after, strict=True)) for d in _differences(b, a, f"{path}[{i}]")
        ]
    return [] if before == after else [f"{path}: {before!r} -> {after!r}"]


def _empty_the_database() -> None:
    """Remove every area and patient, all that refers to them, and the state of the indicators (its sums per
    village refer to no row)."""
    tables = ", ".join(model._meta.db_table for model in (Patient, Area, AreaSlotState))
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # pending deferred checks would block TRUNCATE
        cursor.execute(f"TRUNCATE {tables} CASCADE")


def test_the_export_carries_the_area_in_the_sheets_of_the_import(county: Area, tmp_path: Path) -> None:
    prefix = county.code[:6]
    path = tmp_path / "county.xlsx"
    call_command("export_workbook", "--area", prefix, "--output", str(path))
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == [spec.name for spec in SHEETS]
    patients = sheet_rows(path, "patients")
    assert list(patients[0]) == list(PATIENTS.columns)
    exported = {row["ref"] for row in patients}
    held_now = {str(u) for u in Patient.objects.filter(village__code__startswith=prefix).values_list("uuid", flat=True)}
    moved_out = {
        str(t.patient.uuid)
        for t in Transfer.objects.filter(from_village__code__startswith=prefix, state="accepted").select_related(
            "patient"
        )
    }
    assert held_now <= exported and moved_out <= exported
    assert exported == held_now | moved_out  # nobody the area never held
    assert all(row["national_id"] and row["name"] for row in patients)
    ids = Patient.objects.filter(uuid__in=exported)
    assert len(sheet_rows(path, "followups")) == FollowUp.objects.filter(patient__in=ids).count()
    assert len(sheet_rows(path, "rehab")) == RehabParticipation.objects.filter(patient__in=ids).count()
    assert len(sheet_rows(path, "health_checks")) == HealthCheck.objects.filter(patient__in=ids).count()
    populations = sheet_rows(path, "population")
    assert len(populations) == AreaPopulation.objects.filter(area__code__startswith=prefix).count() > 0
    event = AuditEvent.objects.filter(action=Action.EXPORT, detail__report="registry_workbook").get()
    assert event.detail["area"] == county.code and event.detail["identity"] is True
    assert event.subjects.count() == len(exported)


def test_without_identity_the_identity_columns_are_empty_and_the_file_says_so(
    county_with_history: Area, tmp_path: Path
) -> None:
    county = county_with_history
    path = tmp_path / "masked.xlsx"
    summary = export_workbook(area_selection(county, identity=False), path, actor=None)
    assert summary.patients > 0
    patients = sheet_rows(path, "patients")
    assert all(row[key] is None for row in patients for key in IDENTITY_COLUMNS)
    assert all(row["ref"] and row["disorder"] and row["village_code"] for row in patients)
    transfers = sheet_rows(path, "transfers")  # free text that may name people or places: with identity only
    assert {row["outcome"] for row in transfers} >= {"REJECTED", "WITHDRAWN"}
    assert all(row["reason"] is None for row in transfers)
    emergencies = sheet_rows(path, "emergencies")
    assert len(emergencies) == 2 and all(row["place"] is None for row in emergencies)
    note = [row[0] for row in load_workbook(path, read_only=True)[NOTE_SHEET].iter_rows(values_only=True)]
    assert any("身份证号" in str(line) for line in note)
    event = AuditEvent.objects.filter(action=Action.EXPORT, detail__report="registry_workbook").get()
    assert event.detail["identity"] is False


def test_a_bad_area_is_a_message(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="格式不正确"):
        call_command("export_workbook", "--area", "7a", "--output", str(tmp_path / "x.xlsx"))
    with pytest.raises(CommandError, match="未找到"):
        call_command("export_workbook", "--area", "79", "--output", str(tmp_path / "x.xlsx"))


def test_round_trip_into_an_empty_database_gives_the_same_indicators(county_with_history: Area, tmp_path: Path) -> None:
    county = county_with_history
    periods = _periods()
    province = Area.objects.get(code=PROVINCE + "0000000000")
    before = _documents(county.code, periods)
    path = tmp_path / "county.xlsx"
    call_command("export_workbook", "--area", county.code, "--output", str(path))
    exported_patients, exported_followups = len(sheet_rows(path, "patients")), len(sheet_rows(path, "followups"))
    _empty_the_database()
    assert not Patient.objects.exists() and not Area.objects.exists()
    report = import_workbook(path, actor=system_actor())
    assert report.ok, report.lines()
    assert Area.objects.filter(code=province.code).exists()
    after = _documents(county.code, periods)
    differences = {label: _differences(document, after[label]) for label, document in before.items()}
    assert not any(differences.values()), {label: found for label, found in differences.items() if found}
    assert Patient.objects.count() == exported_patients > 0
    assert FollowUp.objects.count() == exported_followups > 0
    assert (
        MedicationRow.objects.count() == 3 and Transfer.objects.filter(state__in=["rejected", "withdrawn"]).count() == 2
    )
    assert Case.objects.filter(closed_on__isnull=False).count() == 1 and Emergency.objects.count() == 2


def test_importing_an_export_into_its_own_database_changes_nothing(county_with_history: Area, tmp_path: Path) -> None:
    """Records entered on the web carry their UUID as ref in the file: loading it back finds them."""
    path = tmp_path / "county.xlsx"
    call_command("export_workbook", "--area", county_with_history.code, "--output", str(path))
    counts = {model: model.objects.count() for model in (Patient, FollowUp, MedicationRow, Case, Emergency, Transfer)}
    report = import_workbook(path, actor=system_actor())
    assert report.ok, report.lines()
    assert {model: model.objects.count() for model in counts} == counts
