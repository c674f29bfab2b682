"""The registry export pages: doctors export their jurisdiction with identity, area staff without (the
disclosure rules), both only within their jurisdiction; the job is the owner's alone; every build and download is
audited; case-team members, administrators and anonymous users get 404 or the login page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from casemgmt.audit.models import Action, AuditEvent
from followup.models import WorkbookExport
from followup.workbook.export import NOTE_SHEET
from tests.base import PASSWORD, World
from tests.followup.test_workbook_export import sheet_rows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

EXPORT = reverse("followup:workbook_export")


@pytest.fixture(autouse=True)
def _built_files_removed() -> Iterator[None]:
    yield
    for path in WorkbookExport.objects.exclude(file_path="").values_list("file_path", flat=True):
        Path(path).unlink(missing_ok=True)


def login(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def exported(client: Client, area_code: str, capture: Any) -> tuple[WorkbookExport, list[dict[str, Any]]]:
    """Ask for the export of *area_code*, run its job, download the file; the job and its patients rows."""
    with capture(execute=True):
        response = client.post(EXPORT, {"area": area_code})
    export = WorkbookExport.objects.latest("id")
    assert response.status_code == 302 and response["Location"].endswith(f"/export/{export.uuid}/")
    export.refresh_from_db()
    assert export.status == WorkbookExport.Status.DONE, export.failure_message
    page = client.get(response["Location"])
    assert page.status_code == 200 and "下载登记表" in page.content.decode()
    download = client.get(reverse("followup:workbook_export_download", args=[export.uuid]))
    assert download.status_code == 200
    return export, sheet_rows(Path(export.file_path), "patients")


def test_a_doctor_exports_the_patients_of_his_township_with_identity(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    client = login(world.doctor_a)
    assert client.get(EXPORT).status_code == 200
    export, patients = exported(client, world.township_a.code, django_capture_on_commit_callbacks)
    assert export.identity is True and export.patients == 1
    assert [row["national_id"] for row in patients] == [world.patient_a.national_id]
    assert patients[0]["name"] == world.patient_a.name and patients[0]["ref"] == str(world.patient_a.uuid)
    built = AuditEvent.objects.get(action=Action.EXPORT, actor=world.doctor_a, detail__report="registry_workbook")
    assert list(built.subjects.values_list("patient_uuid", flat=True)) == [world.patient_a.uuid]
    downloaded = AuditEvent.objects.get(action=Action.EXPORT, detail__report="registry_workbook_download")
    assert downloaded.detail["export"] == str(export.uuid) and downloaded.detail["identity"] is True


def test_county_staff_export_the_county_without_identity(world: World, django_capture_on_commit_callbacks: Any) -> None:
    client = login(world.county_d)
    export, patients = exported(client, world.county.code, django_capture_on_commit_callbacks)
    assert export.identity is False
    assert {row["ref"] for row in patients} == {str(world.patient_a.uuid), str(world.patient_b.uuid)}
    for key in ("national_id", "name", "phone", "address", "guardian_name", "guardian_phone", "birth_date"):
        assert all(row[key] is None for row in patients), key
    assert NOTE_SHEET in load_workbook(export.file_path, read_only=True).sheetnames
    body = client.get(reverse("followup:workbook_export_job", args=[export.uuid])).content.decode()
    assert world.patient_a.name not in body and "不含身份信息" in body


def test_the_report_page_offers_the_export_of_its_area(world: World) -> None:
    body = login(world.county_d).get(reverse("metrics:report")).content.decode()
    assert EXPORT in body and "导出本地区登记表" in body


@pytest.mark.parametrize("who", ["doctor_b", "county_d"])
def test_an_area_outside_the_jurisdiction_is_not_found(world: World, who: str) -> None:
    client = login(getattr(world, who))
    outside = world.township_a.code if who == "doctor_b" else "329999000000"
    assert client.post(EXPORT, {"area": outside}).status_code == 404
    assert client.post(EXPORT, {"area": "not a code"}).status_code == 404
    assert not WorkbookExport.objects.exists()


@pytest.mark.parametrize("who", ["police_c", "admin_e"])
def test_case_team_members_and_administrators_do_not_export(world: World, who: str) -> None:
    client = login(getattr(world, who))
    assert client.get(EXPORT).status_code == 404
    assert client.post(EXPORT, {"area": world.county.code}).status_code == 404
    assert not WorkbookExport.objects.exists()


def test_anonymous_users_are_sent_to_the_login_page() -> None:
    response = Client().get(EXPORT)
    assert response.status_code == 302 and "login" in response["Location"]


def test_an_export_is_its_owners_alone(world: World, django_capture_on_commit_callbacks: Any) -> None:
    export, _patients = exported(login(world.doctor_a), world.township_a.code, django_capture_on_commit_callbacks)
    for other in (world.doctor_a2, world.county_d, world.doctor_b):
        client = login(other)
        assert client.get(reverse("followup:workbook_export_job", args=[export.uuid])).status_code == 404
        assert client.get(reverse("followup:workbook_export_download", args=[export.uuid])).status_code == 404


def test_the_downloaded_file_is_named_by_the_local_date_it_was_built(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """Built at 01:30 in China (17:30 UTC the day before): the name carries China's date, as the command's does."""
    client = login(world.doctor_a)
    export, _patients = exported(client, world.township_a.code, django_capture_on_commit_callbacks)
    WorkbookExport.objects.filter(pk=export.pk).update(finished_at=dt.datetime(2026, 12, 6, 17, 30, tzinfo=dt.UTC))
    download = client.get(reverse("followup:workbook_export_download", args=[export.uuid]))
    assert f'filename="registry-{world.township_a.code}-20261207.xlsx"' in download["Content-Disposition"]


def test_past_its_retention_the_file_is_deleted_and_the_doctor_may_export_again(
    world: World, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    from casemgmt.jobs import delete_expired_files

    client = login(world.doctor_a)
    export, _patients = exported(client, world.township_a.code, django_capture_on_commit_callbacks)
    path = Path(export.file_path)
    later = export.requested_at + dt.timedelta(hours=settings.JOB_FILE_RETENTION_HOURS, minutes=1)
    assert delete_expired_files(now=later) == 1
    assert not path.exists()
    page = client.get(reverse("followup:workbook_export_job", args=[export.uuid])).content.decode()
    assert "保留期限，已删除" in page and "下载登记表" not in page
    assert client.get(reverse("followup:workbook_export_download", args=[export.uuid])).status_code == 404
    again, patients = exported(client, world.township_a.code, django_capture_on_commit_callbacks)
    assert again.pk != export.pk and len(patients) == 1
