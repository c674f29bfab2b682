"""Issue 14 §2: the workbook import is no oracle. A row whose ID number is registered outside the importer's view
says "registered in another jurisdiction" and nothing else (no village, code, name, status or date) — on the job
page and in the report stored with the job; an administrator, who sees no patient, learns no more than that; a
report with counts never holds such a row (counts cannot tell "one of yours, unchanged" from "held elsewhere");
every matched row is audited against its patient with the job's UUID, and probes outside the view are limited per
account and day."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from casemgmt.accounts.models import Role
from casemgmt.audit.models import Action, AuditEvent
from followup.models import WorkbookImport
from followup.workbook.loading import import_workbook
from registry.models import Patient
from tests.base import World, make_area, make_patient, make_user
from tests.followup.workbook_base import PATIENT_HEADER, Sheets, patient_row, valid_sheets, write_xlsx

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]

UPLOAD = reverse("followup:workbook_upload")
ELSEWHERE = "该身份证号已在其他辖区登记"
LIMIT_MESSAGE = "查重次数已达今日上限"


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, path: Path, *, dry_run: bool = True) -> tuple[str, WorkbookImport]:
    data: dict[str, Any] = {"workbook": SimpleUploadedFile(path.name, path.read_bytes())}
    if dry_run:
        data["dry_run"] = "on"
    response = client.post(UPLOAD, data, follow=True)
    assert response.status_code == 200
    return response.content.decode(), WorkbookImport.objects.latest("pk")


def elsewhere_patients(world: World, count: int) -> list[Patient]:
    """Patients of another county (outside county_d's jurisdiction), registered by their own doctor."""
    county = make_area("320509000000", "吴中区", 3, world.city)
    township = make_area("320509001000", "丙镇", 4, county)
    village = make_area("320509001001", "丙一村", 5, township)
    doctor = make_user("doctor_x", Role.DOCTOR, township)
    return [make_patient(doctor, village) for _ in range(count)]


def row_of(patient: Patient, ref: str, village: str, seed: int) -> list[Any]:
    return patient_row(
        ref,
        village,
        seed=seed,
        national_id=patient.national_id,
        sex=patient.sex,
        birth_date=patient.birth_date.isoformat(),
    )


def patients_sheet(*rows: list[Any]) -> Sheets:
    return {"patients": [list(PATIENT_HEADER), *rows]}


def revealing(world: World, patient: Patient) -> list[str]:
    """What must not appear anywhere a hostile importer can read about a patient outside their view."""
    village = patient.village
    return [
        village.code,
        village.code[:9],
        village.name,
        village.parent.name if village.parent else "",
        patient.name,
        patient.status,
        patient.get_status_display(),
        patient.registered_on.isoformat(),
        str(patient.uuid),
    ]


@pytest.mark.parametrize("same_village", [True, False])
def test_an_administrators_dry_run_says_only_registered_elsewhere(
    world: World, tmp_path: Path, same_village: bool
) -> None:
    """The finding: an administrator (who sees no patient) learnt the village, or an "unchanged" count."""
    target = world.patient_b
    village = target.village_id if same_village else world.village_a1.code
    before = Patient.objects.count()
    page, job = upload(
        login(world.admin_e), write_xlsx(tmp_path / "probe.xlsx", patients_sheet(row_of(target, "X", village, 1)))
    )
    assert job.status == WorkbookImport.Status.REJECTED, job.report
    assert ELSEWHERE in page
    assert job.report["counts"] == {} and job.report["problem_total"] == 1
    stored = json.dumps(job.report, ensure_ascii=False)
    for secret in revealing(world, target):
        assert secret not in page and secret not in stored, secret
    [problem] = job.report["problems"]
    assert problem[:3] == ["patients", 2, "national_id"]
    assert Patient.objects.count() == before


def test_the_same_words_for_every_place_and_every_importer(world: World, tmp_path: Path) -> None:
    """Rows held in different places read alike, for an administrator and for county staff of another county."""
    [far] = elsewhere_patients(world, 1)
    sheet = patients_sheet(
        row_of(world.patient_b, "X1", world.village_b1.code, 1), row_of(far, "X2", world.village_a1.code, 2)
    )
    _page, by_admin = upload(login(world.admin_e), write_xlsx(tmp_path / "a.xlsx", sheet))
    messages = {p[3] for p in by_admin.report["problems"]}
    assert len(messages) == 1 and ELSEWHERE in messages.pop()
    _page, by_county = upload(login(world.county_d), write_xlsx(tmp_path / "b.xlsx", sheet))
    [(column, message)] = [(p[2], p[3]) for p in by_county.report["problems"]]
    assert column == "national_id" and ELSEWHERE in message  # patient_b is county_d's own: matched, no problem


def test_every_probe_is_audited_against_its_patient_with_the_job(world: World, tmp_path: Path) -> None:
    [far] = elsewhere_patients(world, 1)
    sheet = patients_sheet(
        row_of(world.patient_a, "X1", world.village_a1.code, 1), row_of(far, "X2", world.village_a1.code, 2)
    )
    before = Patient.objects.count()
    _page, job = upload(login(world.county_d), write_xlsx(tmp_path / "probe.xlsx", sheet))
    assert job.status == WorkbookImport.Status.REJECTED and Patient.objects.count() == before
    events = AuditEvent.objects.filter(action=Action.IDENTITY_PROBE, actor=world.county_d)
    by_subject = {str(s.patient_uuid): e for e in events for s in e.subjects.all()}
    assert set(by_subject) == {str(world.patient_a.uuid), str(far.uuid)}
    for patient, outcome in ((world.patient_a, "matched"), (far, "registered_elsewhere")):
        event = by_subject[str(patient.uuid)]
        assert event.detail["channel"] == "import" and event.detail["job"] == str(job.uuid)
        assert event.detail["dry_run"] is True and event.detail["outcome"] == outcome
        text = json.dumps([event.purpose, event.detail], ensure_ascii=False)
        assert patient.national_id not in text and patient.name not in text
    # The patient's own doctor finds the probe in the record's access log.
    doctor_x = far.created_by
    url = reverse("registry:access_log", kwargs={"patient_uuid": far.uuid})
    page = login(doctor_x).get(url).content.decode()
    assert "身份证号查重" in page and "登记表导入" in page and str(world.county_d) in page


def test_probes_outside_the_view_are_limited_per_account(world: World, tmp_path: Path, settings: Any) -> None:
    settings.IDENTITY_PROBE_LIMIT_PER_DAY = 2
    far = elsewhere_patients(world, 3)
    sheet = patients_sheet(*(row_of(p, f"X{i}", world.village_a1.code, i) for i, p in enumerate(far)))
    client = login(world.county_d)
    page, job = upload(client, write_xlsx(tmp_path / "three.xlsx", sheet))
    assert job.status == WorkbookImport.Status.REJECTED
    # More hits than the allowance: every row is refused alike, none says which is registered.
    assert LIMIT_MESSAGE in page and ELSEWHERE not in page
    assert [p[2] for p in job.report["problems"]] == ["national_id"] * 3
    # The allowance is spent: a workbook of people registered nowhere is refused alike (the refusal answers
    # nothing), and nothing is written, dry run or not.
    before = Patient.objects.count()
    page, job = upload(client, write_xlsx(tmp_path / "new.xlsx", valid_sheets(world)), dry_run=False)
    assert job.status == WorkbookImport.Status.REJECTED and LIMIT_MESSAGE in page
    assert Patient.objects.count() == before
    outcomes = {
        e.detail["outcome"] for e in AuditEvent.objects.filter(action=Action.IDENTITY_PROBE, actor=world.county_d)
    }
    assert outcomes == {"refused_over_limit"}
    # Another account has its own allowance.
    _page, other = upload(login(world.admin_e), write_xlsx(tmp_path / "new2.xlsx", valid_sheets(world)))
    assert other.status == WorkbookImport.Status.DONE, other.report


def test_reloading_ones_own_patients_is_not_limited(world: World, tmp_path: Path, settings: Any) -> None:
    settings.IDENTITY_PROBE_LIMIT_PER_DAY = 1
    path = write_xlsx(tmp_path / "book.xlsx", valid_sheets(world))
    assert import_workbook(path, actor=world.admin_e).ok  # the command's way: everywhere, not limited
    client = login(world.county_d)
    for _ in range(3):
        _page, job = upload(client, path)
        assert job.status == WorkbookImport.Status.DONE, job.report
        assert job.report["counts"]["patients"][:2] == [0, 3]


def test_the_command_is_not_limited_but_audited(world: World, tmp_path: Path, settings: Any) -> None:
    settings.IDENTITY_PROBE_LIMIT_PER_DAY = 0
    path = write_xlsx(tmp_path / "book.xlsx", valid_sheets(world))
    assert import_workbook(path, actor=world.admin_e).ok
    report = import_workbook(path, actor=world.admin_e, dry_run=True)
    assert report.ok and report.counts["patients"].unchanged == 3
    event = AuditEvent.objects.filter(action=Action.IDENTITY_PROBE).latest("id")
    assert event.detail["channel"] == "import" and event.subjects.count() == 3
