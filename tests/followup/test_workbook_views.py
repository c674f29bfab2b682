"""The workbook import pages: who may upload (administrators and area staff), the job page with progress and
the report, the stored file's life, the template, the audit; 403 / 404 / 405 for everyone else."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from casemgmt.audit.models import AuditEvent
from followup.models import FollowUp, WorkbookImport
from followup.workbook.jobs import JobProgress, live_progress
from registry.models import Patient
from tests.base import PASSWORD, World
from tests.followup.workbook_base import PATIENT_HEADER, valid_sheets, write_xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

UPLOAD = reverse("followup:workbook_upload")
TEMPLATE = reverse("followup:workbook_template")


def login(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def workbook_file(world: World, tmp_path: Path, sheets: dict[str, Any] | None = None) -> SimpleUploadedFile:
    path = write_xlsx(tmp_path / "登记表.xlsx", sheets or valid_sheets(world))
    return SimpleUploadedFile(path.name, path.read_bytes())


def upload(client: Client, file: SimpleUploadedFile, *, dry_run: bool = False) -> Any:
    data: dict[str, Any] = {"workbook": file}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(UPLOAD, data, follow=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["admin_e", "county_d"])
def test_allowed_users_upload_and_see_the_report(world: World, tmp_path: Path, who: str) -> None:
    client = login(getattr(world, who))
    assert client.get(UPLOAD).status_code == 200
    response = upload(client, workbook_file(world, tmp_path))
    job = WorkbookImport.objects.get()
    assert job.status == WorkbookImport.Status.DONE, job.report
    assert response.status_code == 200 and "导入完成" in response.content.decode()
    assert Patient.objects.count() == 5 and FollowUp.objects.filter(source_ref__isnull=False).count() == 4
    assert job.file_path == "" and not list(
        (Path(__file__).resolve().parents[2] / "var" / "imports").glob(f"{job.uuid}*")
    )
    events = AuditEvent.objects.filter(actor=getattr(world, who), detail__source="workbook_import_upload")
    assert events.count() == 1 and events.get().detail["job"] == str(job.uuid)
    assert AuditEvent.objects.filter(detail__source="workbook_import", detail__job=str(job.uuid)).exists()


@pytest.mark.django_db(transaction=True)
def test_a_dry_run_shows_counts_and_writes_nothing(world: World, tmp_path: Path) -> None:
    response = upload(login(world.county_d), workbook_file(world, tmp_path), dry_run=True)
    assert "试运行未写入任何数据" in response.content.decode()
    assert Patient.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_problems_are_listed_with_sheet_row_and_column(world: World, tmp_path: Path) -> None:
    sheets = valid_sheets(world)
    sheets["patients"][2][PATIENT_HEADER.index("disorder")] = 42
    response = upload(login(world.county_d), workbook_file(world, tmp_path, sheets))
    page = response.content.decode()
    assert "发现 1 个问题，未写入任何数据" in page and "代码“42”无效" in page and '<td data-label="行">3</td>' in page
    assert WorkbookImport.objects.get().status == WorkbookImport.Status.REJECTED
    assert Patient.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_county_staff_cannot_load_into_another_county(world: World, tmp_path: Path) -> None:
    from tests.base import make_area, make_user

    other = make_area("320509000000", "吴中区", 3, world.city)
    staff = make_user("county_x", "area_staff", other)
    page = upload(login(staff), workbook_file(world, tmp_path)).content.decode()
    assert "不在您的管辖范围内" in page and Patient.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_broken_file_is_reported_plainly(world: World, tmp_path: Path) -> None:
    broken = SimpleUploadedFile("book.xlsx", b"this is not a workbook")
    page = upload(login(world.admin_e), broken).content.decode()
    job = WorkbookImport.objects.get()
    assert "“book.xlsx”不是Excel或WPS表格文件" in page
    assert "book.xlsx" in job.report["error"] and str(job.uuid) not in job.report["error"]  # not the stored name


def test_a_file_of_another_type_is_refused_by_the_form(world: World) -> None:
    response = login(world.admin_e).post(UPLOAD, {"workbook": SimpleUploadedFile("book.pdf", b"%PDF")})
    assert response.status_code == 200 and "请上传 .xlsx、.xls、.ods、.csv 或 .zip 文件" in response.content.decode()
    assert not WorkbookImport.objects.exists()


@pytest.mark.parametrize("who", ["doctor_a", "police_c"])
@pytest.mark.parametrize("url", [UPLOAD, TEMPLATE])
def test_doctors_and_case_members_get_403(world: World, who: str, url: str) -> None:
    assert login(getattr(world, who)).get(url).status_code == 403


def test_a_doctor_cannot_post_an_upload(world: World, tmp_path: Path) -> None:
    response = login(world.doctor_a).post(UPLOAD, {"workbook": workbook_file(world, tmp_path)})
    assert response.status_code == 403 and not WorkbookImport.objects.exists()


def test_someone_elses_job_is_404(world: World) -> None:
    job = WorkbookImport.objects.create(requested_by=world.admin_e, file_name="a.xlsx")
    url = reverse("followup:workbook_job", kwargs={"job_uuid": job.uuid})
    assert login(world.county_d).get(url).status_code == 404
    assert login(world.admin_e).get(url).status_code == 200


@pytest.mark.parametrize("method", ["put", "delete"])
def test_wrong_method_is_405(world: World, method: str) -> None:
    client = login(world.admin_e)
    assert getattr(client, method)(UPLOAD).status_code == 405
    assert client.post(TEMPLATE).status_code == 405


def test_anonymous_users_are_sent_to_login(world: World) -> None:
    response = Client().get(UPLOAD)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_template_has_every_sheet_with_chinese_headers_and_codes(world: World) -> None:
    response = login(world.county_d).get(TEMPLATE)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "说明",
        "areas",
        "population",
        "patients",
        "transfers",
        "status_history",
        "followups",
        "medications",
        "rehab",
        "health_checks",
        "cases",
        "emergencies",
    ]  # fmt: skip (v2)
    header = [cell.value for cell in book["patients"][1]]
    assert header[:3] == ["档案编号", "身份证号", "姓名"]
    sex = book["patients"].cell(row=1, column=4)
    assert sex.value == "性别" and sex.comment is not None and "1 男、2 女" in sex.comment.text


def test_the_template_offers_version_2_with_its_code_hints(world: World) -> None:
    book = openpyxl.load_workbook(io.BytesIO(login(world.county_d).get(TEMPLATE).content))
    comments = {
        (sheet, cell.value): cell.comment.text if cell.comment else ""
        for sheet in ("transfers", "followups", "status_history", "cases", "emergencies", "rehab")
        for cell in book[sheet][1]
    }
    assert "REJECTED" in comments["transfers", "结果"] and "WITHDRAWN" in comments["transfers", "结果"]
    assert "1 外出务工" in comments["followups", "失访原因"] and "2 自杀" in comments["followups", "死亡原因"]
    assert "LOST" in comments["status_history", "状态"]
    assert "RISK_3_PLUS" in comments["cases", "开案原因"] and "stable_twice" in comments["cases", "结案原因"]
    assert (
        "self_harm（1）" in comments["emergencies", "情形"] and "admit（2）住院" in comments["emergencies", "处置结果"]
    )
    assert "clubhouse（2）康复会所" in comments["rehab", "康复机构类型"]


def test_the_template_loads_as_an_empty_workbook(world: World, tmp_path: Path) -> None:
    from followup.workbook.loading import import_workbook

    path = tmp_path / "template.xlsx"
    path.write_bytes(login(world.admin_e).get(TEMPLATE).content)
    report = import_workbook(path, actor=world.admin_e)
    assert report.ok, report.lines()
    assert report.counts["patients"].created == 0


def test_the_job_page_shows_progress_while_running(world: World) -> None:
    job = WorkbookImport.objects.create(requested_by=world.admin_e, file_name="a.xlsx")
    progress = JobProgress(job)
    progress("check", 50_000, 0)
    job.refresh_from_db()
    assert job.status == WorkbookImport.Status.PENDING and job.progress == 25 and job.rows_done == 50_000
    progress("load", 30, 40)
    assert live_progress(job).progress == 87 and job.status == WorkbookImport.Status.LOADING
    page = login(world.admin_e).get(reverse("followup:workbook_job", kwargs={"job_uuid": job.uuid}))
    content = page.content.decode()
    assert '<meta http-equiv="refresh" content="2">' in content and "87%" in content


@pytest.mark.django_db(transaction=True)
def test_a_single_csv_file_is_the_patients_sheet(world: World, tmp_path: Path) -> None:
    from tests.followup.workbook_base import write_csv_folder

    folder = write_csv_folder(tmp_path / "csv", {"patients": valid_sheets(world)["patients"]})
    file = SimpleUploadedFile("县登记表.csv", (folder / "patients.csv").read_bytes())
    page = upload(login(world.county_d), file).content.decode()
    assert "导入完成" in page and Patient.objects.count() == 5
    imports = Path(__file__).resolve().parents[2] / "var" / "imports"
    assert not (imports / str(WorkbookImport.objects.get().uuid)).exists()


@pytest.mark.parametrize(("who", "shown"), [("admin_e", True), ("county_d", True), ("doctor_a", False)])
def test_the_menu_links_the_import_page_for_importers_only(world: World, who: str, shown: bool) -> None:
    page = login(getattr(world, who)).get(reverse("home"), follow=True).content.decode()
    assert (f'href="{UPLOAD}"' in page) is shown
