"""The workbook import on a desktop: county staff upload a file of the wrong kind (refused on the form), a bad
file (the report names sheet, row and column; nothing is written) and a dry run of a good one (counts shown;
nothing written); the administrator imports the good file (patients, follow-ups, medication, rehabilitation and a
health check written). With JavaScript on and off: a workbook saved as .xls by LibreOffice is imported (its rows
written), and hostile files are refused with Chinese messages (an empty file on the form, no job; a text file named
.xlsx rejected by the job, the message naming the user's file), nothing written. The job runs in the request's
process, as in the demo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from followup.models import FollowUp, MedicationRow, WorkbookImport
from registry.models import Patient
from tests.base import PASSWORD, World
from tests.browser.conftest import log_in, screenshot
from tests.followup.test_workbook_files import with_real_dates
from tests.followup.workbook_base import PATIENT_HEADER, Sheets, valid_sheets, write_xlsx
from tests.office import convert

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]


def upload(page: Any, live_server: Any, path: Path, *, dry_run: bool = False) -> WorkbookImport:
    """Upload through the page and wait for the job's report; the job as stored."""
    page.goto(f"{live_server.url}/followup/import/")
    page.set_input_files("input[name=workbook]", str(path))
    if dry_run:
        page.check("input[name=dry_run]")
    page.click("button:has-text('上传并检查')")
    page.wait_for_url("**/followup/import/*-*/")
    page.wait_for_selector("text=返回导入页面")
    job = WorkbookImport.objects.latest("pk")
    assert not job.is_open, job.report
    return job


def bad_sheets(world: World) -> Sheets:
    sheets = valid_sheets(world)
    sheets["patients"][2][PATIENT_HEADER.index("sex")] = 7  # the second patient (spreadsheet row 3)
    return sheets


def test_county_staff_bad_file_and_dry_run(world: World, live_server: Any, desktop_page: Any, tmp_path: Path) -> None:
    page = desktop_page
    log_in(page, live_server, "county_d", PASSWORD)
    page.goto(f"{live_server.url}/followup/import/")
    screenshot(page, "workbook-01-upload")
    wrong = tmp_path / "登记表.txt"
    wrong.write_text("not a workbook")
    page.set_input_files("input[name=workbook]", str(wrong))
    page.click("button:has-text('上传并检查')")
    page.wait_for_load_state("networkidle")
    assert "请上传 .xlsx、.xls、.ods、.csv 或 .zip 文件" in page.inner_text("#id_workbook_error")
    assert page.get_attribute("#id_workbook", "aria-describedby") == "id_workbook_helptext id_workbook_error"
    assert not WorkbookImport.objects.exists()

    upload(page, live_server, write_xlsx(tmp_path / "有错.xlsx", bad_sheets(world)))
    assert "未写入任何数据" in page.inner_text("main")
    problem = page.locator("tr:has(td[data-label='列']:text-is('sex'))")
    assert problem.count() == 1, page.inner_text("main")
    assert problem.locator("td[data-label='工作表']").inner_text() == "patients"
    assert problem.locator("td[data-label='行']").inner_text() == "3"
    screenshot(page, "workbook-02-bad-file-report")
    assert Patient.objects.count() == 2 and not FollowUp.objects.filter(source_ref__isnull=False).exists()

    job = upload(page, live_server, write_xlsx(tmp_path / "登记表.xlsx", valid_sheets(world)), dry_run=True)
    assert job.dry_run and job.status == WorkbookImport.Status.DONE
    assert "试运行未写入任何数据" in page.inner_text("main")
    created = page.locator("tr:has(td[data-label='工作表']:text-is('patients')) td[data-label='新增']")
    assert created.inner_text() == "3"
    screenshot(page, "workbook-03-dry-run-report")
    assert Patient.objects.count() == 2 and not FollowUp.objects.filter(source_ref__isnull=False).exists()


def test_administrator_imports_a_good_file(world: World, live_server: Any, desktop_page: Any, tmp_path: Path) -> None:
    page = desktop_page
    log_in(page, live_server, "admin_e", PASSWORD)
    job = upload(page, live_server, write_xlsx(tmp_path / "登记表.xlsx", valid_sheets(world)))
    assert job.status == WorkbookImport.Status.DONE and not job.dry_run
    assert "导入完成" in page.inner_text("main")
    screenshot(page, "workbook-04-imported")
    assert Patient.objects.count() == 5
    assert FollowUp.objects.filter(source_ref__isnull=False).count() == 4
    assert Patient.objects.filter(rehab_participations__isnull=False).count() == 1
    assert Patient.objects.filter(health_checks__isnull=False).count() == 1
    page.goto(f"{live_server.url}/followup/import/")
    assert "登记表.xlsx" in page.inner_text("main")


JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])


def browser_page(request: Any, javascript: bool) -> Any:
    return request.getfixturevalue("desktop_page" if javascript else "phone_page_without_javascript")


@JAVASCRIPT
def test_a_workbook_saved_by_libreoffice_as_xls_is_imported(
    world: World, live_server: Any, request: Any, javascript: bool, tmp_path: Path
) -> None:
    page = browser_page(request, javascript)
    source = write_xlsx(tmp_path / "甲街道登记表.xlsx", with_real_dates(valid_sheets(world)))
    (made,) = convert([source], "xls", tmp_path / "xls")
    log_in(page, live_server, "admin_e", PASSWORD)
    job = upload(page, live_server, made)
    assert job.status == WorkbookImport.Status.DONE and not job.dry_run, job.report
    assert job.file_name == "甲街道登记表.xls"
    text = page.inner_text("main")
    assert "导入完成" in text and "甲街道登记表.xls" in text
    screenshot(page, f"workbook-05-xls-imported-{javascript}")
    assert Patient.objects.count() == 5
    assert FollowUp.objects.filter(source_ref__isnull=False).count() == 4 and MedicationRow.objects.count() == 2
    assert Patient.objects.filter(rehab_participations__isnull=False).count() == 1
    assert Patient.objects.filter(health_checks__isnull=False).count() == 1
    registered = Patient.objects.order_by("-pk").values_list("registered_on", flat=True)[0]
    assert isinstance(registered, dt.date)


@JAVASCRIPT
def test_hostile_files_are_refused_by_name_and_nothing_written(
    world: World, live_server: Any, request: Any, javascript: bool, tmp_path: Path
) -> None:
    page = browser_page(request, javascript)
    log_in(page, live_server, "county_d", PASSWORD)
    patients, followups = Patient.objects.count(), FollowUp.objects.count()

    empty = tmp_path / "甲街道登记表.xlsx"
    empty.write_bytes(b"")
    page.goto(f"{live_server.url}/followup/import/")
    page.set_input_files("input[name=workbook]", str(empty))
    page.click("button:has-text('上传并检查')")
    page.wait_for_load_state("networkidle")
    assert "所提交的是空文件" in page.inner_text("#id_workbook_error")
    screenshot(page, f"workbook-06-empty-file-{javascript}")
    assert not WorkbookImport.objects.exists()

    text_file = tmp_path / "renamed" / "甲街道登记表.xlsx"
    text_file.parent.mkdir()
    text_file.write_text("档案编号,姓名\n", encoding="utf-8")
    job = upload(page, live_server, text_file)
    assert job.status == WorkbookImport.Status.REJECTED and job.file_name == "甲街道登记表.xlsx", job.report
    says = "“甲街道登记表.xlsx”不是Excel或WPS表格文件（内容是文本）"
    assert says in page.inner_text("[role=alert]") and says in job.report["error"]
    assert str(job.uuid) not in page.inner_text("main")
    screenshot(page, f"workbook-07-text-as-xlsx-{javascript}")
    assert (Patient.objects.count(), FollowUp.objects.count()) == (patients, followups)
    assert WorkbookImport.objects.count() == 1
