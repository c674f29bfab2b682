"""The registry export in Chromium, with JavaScript on and off: a township doctor exports his township from the
export page (reached by the nav link) and downloads a file with identity; county staff export the county from the
indicator report's button and from the export page and download files without identity (empty identity columns,
a 说明 sheet). Every outcome of the form: a job built and downloadable, an open job rejoined instead of a second
one, an area no longer in the user's jurisdiction refused (404, nothing written), another user's job page and
download not found, and a file deleted past its retention. The job runs in the request's process, as in the
demo; each test asserts what the database holds afterwards (the export rows and the audit events), not only the
page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from casemgmt.accounts.models import AreaMembership
from casemgmt.audit.models import Action, AuditEvent
from casemgmt.jobs import delete_expired_files
from followup.models import WorkbookExport
from followup.workbook.export import NOTE_SHEET
from tests.base import PASSWORD, World
from tests.browser.conftest import log_in, screenshot
from tests.followup.test_workbook_export import sheet_rows

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]

JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
IDENTITY_COLUMNS = ("national_id", "name", "phone", "address", "guardian_name", "guardian_phone", "birth_date")


@pytest.fixture(autouse=True)
def _built_files_removed() -> Iterator[None]:
    yield
    for path in WorkbookExport.objects.exclude(file_path="").values_list("file_path", flat=True):
        Path(path).unlink(missing_ok=True)


def browser_page(request: Any, javascript: bool) -> Any:
    return request.getfixturevalue("desktop_page" if javascript else "phone_page_without_javascript")


def other_user_page(page: Any, javascript: bool) -> Any:
    """A second browser (the same JavaScript setting) for another user, closed with the test's own."""
    context = page.context.browser.new_context(locale="zh-CN", java_script_enabled=javascript)
    page.context.on("close", lambda _context: context.close())
    other = context.new_page()
    other.set_default_timeout(15_000)
    return other


def press_and_follow(page: Any, button: str) -> WorkbookExport:
    """Press the button that asks for an export, land on its job page; the job as stored."""
    page.click(f"button:has-text('{button}')")
    page.wait_for_url("**/followup/export/*-*/")
    page.wait_for_load_state("networkidle")
    return WorkbookExport.objects.get(uuid=page.url.rstrip("/").rsplit("/", 1)[1])


def download(page: Any, folder: Path, export: WorkbookExport) -> Path:
    """Press the download link; the file as saved under the name the server suggests (the area and the local
    date the file was built, as the export_workbook command names it)."""
    with page.expect_download() as info:
        page.click("text=下载登记表")
    name = info.value.suggested_filename
    export.refresh_from_db()
    assert export.finished_at is not None
    assert name == f"registry-{export.area_code}-{timezone.localdate(export.finished_at):%Y%m%d}.xlsx", name
    path = folder / name
    info.value.save_as(path)
    return path


def export_events(user: Any, report: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=Action.EXPORT, actor=user, detail__report=report))


@JAVASCRIPT
def test_a_doctor_exports_his_township_with_identity(
    world: World, live_server: Any, request: Any, javascript: bool, tmp_path: Path
) -> None:
    page = browser_page(request, javascript)
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.click("nav a:has-text('导出登记表')")
    page.wait_for_url("**/followup/export/")
    assert "导出的文件含患者身份信息" in page.inner_text("main")
    assert page.locator("#export-area option").all_inner_texts() == [f"甲街道（{world.township_a.code}）"]
    screenshot(page, f"workbook-export-01-doctor-{javascript}")

    export = press_and_follow(page, "生成登记表")
    assert export.status == WorkbookExport.Status.DONE, export.failure_message
    assert (export.requested_by, export.area_code, export.identity) == (world.doctor_a, world.township_a.code, True)
    done = page.inner_text("main")
    assert export.patients == 1 and "共1名患者" in done and "文件含患者身份信息" in done
    screenshot(page, f"workbook-export-02-doctor-done-{javascript}")
    file = download(page, tmp_path, export)
    patients = sheet_rows(file, "patients")
    assert [(row["ref"], row["national_id"], row["name"]) for row in patients] == [
        (str(world.patient_a.uuid), world.patient_a.national_id, world.patient_a.name)
    ]
    built = export_events(world.doctor_a, "registry_workbook")
    assert len(built) == 1 and list(built[0].subjects.values_list("patient_uuid", flat=True)) == [world.patient_a.uuid]
    (downloaded,) = export_events(world.doctor_a, "registry_workbook_download")
    assert downloaded.detail == {
        "report": "registry_workbook_download",
        "export": str(export.uuid),
        "area": world.township_a.code,
        "identity": True,
        "patients": 1,
    }

    # Another doctor of the same township: the job page and the file are not found, and his list is empty.
    other = other_user_page(page, javascript)
    log_in(other, live_server, "doctor_a2", PASSWORD)
    for url in (page.url, f"{page.url}download"):
        response = other.goto(url)
        assert response is not None and response.status == 404, url
        assert "未找到" in other.inner_text("main") and world.patient_a.name not in other.content()
    other.goto(f"{live_server.url}/followup/export/")
    assert "最近的导出" not in other.inner_text("main")
    assert not export_events(world.doctor_a2, "registry_workbook_download")
    assert WorkbookExport.objects.count() == 1


@JAVASCRIPT
def test_county_staff_export_the_county_without_identity(
    world: World, live_server: Any, request: Any, javascript: bool, tmp_path: Path
) -> None:
    page = browser_page(request, javascript)
    log_in(page, live_server, "county_d", PASSWORD)
    page.goto(f"{live_server.url}/reports/")
    first = press_and_follow(page, "导出本地区登记表")
    assert first.status == WorkbookExport.Status.DONE, first.failure_message
    assert (first.requested_by, first.area_code, first.identity) == (world.county_d, world.county.code, False)
    assert first.patients == 2
    text = page.inner_text("main")
    assert "不含身份信息" in text and world.patient_a.name not in page.content()
    screenshot(page, f"workbook-export-03-county-done-{javascript}")
    file = download(page, tmp_path, first)
    patients = sheet_rows(file, "patients")
    assert {row["ref"] for row in patients} == {str(world.patient_a.uuid), str(world.patient_b.uuid)}
    for key in IDENTITY_COLUMNS:
        assert all(row[key] is None for row in patients), key
    assert NOTE_SHEET in load_workbook(file, read_only=True).sheetnames

    # The same export from the export page (reached by the nav link): a second job, also without identity.
    page.click("nav a:has-text('导出登记表')")
    page.wait_for_url("**/followup/export/")
    assert "导出的文件不含身份信息" in page.inner_text("main")
    assert page.locator("#export-area option:checked").get_attribute("value") == world.county.code
    assert page.locator("td[data-label='地区编码']").all_inner_texts() == [world.county.code]
    screenshot(page, f"workbook-export-04-county-page-{javascript}")
    second = press_and_follow(page, "生成登记表")
    assert second.pk != first.pk and second.status == WorkbookExport.Status.DONE
    assert (second.area_code, second.identity, second.patients) == (world.county.code, False, 2)
    assert WorkbookExport.objects.filter(requested_by=world.county_d).count() == 2
    assert len(export_events(world.county_d, "registry_workbook")) == 2
    (downloaded,) = export_events(world.county_d, "registry_workbook_download")
    assert downloaded.detail["export"] == str(first.uuid) and downloaded.detail["identity"] is False


@JAVASCRIPT
def test_the_report_button_exports_the_area_the_report_shows(
    world: World, live_server: Any, request: Any, javascript: bool
) -> None:
    """County staff look at one township's report: its button exports that township, not the county."""
    page = browser_page(request, javascript)
    log_in(page, live_server, "county_d", PASSWORD)
    page.goto(f"{live_server.url}/reports/")
    page.select_option("#id_area", world.township_a.code)
    page.click("#report-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#id_area option:checked").get_attribute("value") == world.township_a.code
    export = press_and_follow(page, "导出本地区登记表")
    assert export.status == WorkbookExport.Status.DONE, export.failure_message
    assert (export.area_code, export.identity, export.patients) == (world.township_a.code, False, 1)
    assert WorkbookExport.objects.count() == 1


@JAVASCRIPT
def test_a_failed_export_says_so_and_can_be_asked_again(
    world: World, live_server: Any, request: Any, javascript: bool, tmp_path: Path
) -> None:
    """The file cannot be written (a file stands where the export folder should be): the job page says the
    export failed, nothing is kept; asked again once the folder can be made, the export is built."""
    page = browser_page(request, javascript)
    request.getfixturevalue("settings").BASE_DIR = tmp_path
    blocking = tmp_path / "var" / "exports"
    blocking.parent.mkdir()
    blocking.write_text("not a folder")
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/followup/export/")
    failed = press_and_follow(page, "生成登记表")
    assert failed.status == WorkbookExport.Status.FAILED and failed.file_path == ""
    assert "生成失败，请重试。" in page.inner_text("main") and page.locator("text=下载登记表").count() == 0
    screenshot(page, f"workbook-export-05-failed-{javascript}")
    assert not export_events(world.doctor_a, "registry_workbook")

    blocking.unlink()
    page.click("text=返回导出登记表")
    page.wait_for_url("**/followup/export/")
    assert "失败" in page.locator("td[data-label='状态']").inner_text()
    built = press_and_follow(page, "生成登记表")
    assert built.pk != failed.pk and built.status == WorkbookExport.Status.DONE
    assert Path(built.file_path).parent == blocking and Path(built.file_path).is_file()
    assert len(export_events(world.doctor_a, "registry_workbook")) == 1


@JAVASCRIPT
def test_an_open_export_is_rejoined_not_doubled(world: World, live_server: Any, request: Any, javascript: bool) -> None:
    """Asking again while the area's export still waits for a worker lands on that job; no second one."""
    page = browser_page(request, javascript)
    waiting = WorkbookExport.objects.create(requested_by=world.doctor_a, area_code=world.township_a.code, identity=True)
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/followup/export/")
    assert press_and_follow(page, "生成登记表").pk == waiting.pk
    assert "排队中" in page.inner_text("main") and page.locator("text=下载登记表").count() == 0
    assert list(WorkbookExport.objects.values_list("pk", "status")) == [(waiting.pk, WorkbookExport.Status.PENDING)]
    response = page.goto(f"{page.url}download")
    assert response is not None and response.status == 404  # nothing to download yet
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


@JAVASCRIPT
def test_an_area_no_longer_in_the_jurisdiction_is_refused(
    world: World, live_server: Any, request: Any, javascript: bool
) -> None:
    """The doctor opened the page, then was moved to another township: the old area's export is not found and
    nothing is written."""
    page = browser_page(request, javascript)
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/followup/export/")
    AreaMembership.objects.filter(user=world.doctor_a).update(area=world.township_b)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("button:has-text('生成登记表')")
    page.wait_for_load_state("networkidle")
    assert answer.value.status == 404 and "未找到" in page.inner_text("main")
    assert not WorkbookExport.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


@JAVASCRIPT
def test_past_its_retention_the_file_is_gone_and_the_page_says_so(
    world: World, live_server: Any, request: Any, javascript: bool
) -> None:
    """A doctor's file (with identity) is deleted by the hourly cleanup once its retention has passed: his job page
    says so instead of offering the download, the download is not found (nothing audited), and he exports again."""
    page = browser_page(request, javascript)
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/followup/export/")
    export = press_and_follow(page, "生成登记表")
    assert export.status == WorkbookExport.Status.DONE, export.failure_message
    hours = request.getfixturevalue("settings").JOB_FILE_RETENTION_HOURS
    assert f"文件保留{hours}小时" in page.inner_text("main")
    path = Path(export.file_path)
    later = export.requested_at + timedelta(hours=hours, minutes=1)
    assert delete_expired_files(now=later) == 1
    export.refresh_from_db()
    assert not path.exists() and export.file_path == "" and export.status == WorkbookExport.Status.DONE
    page.reload()
    text = page.inner_text("main")
    assert "保留期限，已删除" in text and page.locator("text=下载登记表").count() == 0
    screenshot(page, f"workbook-export-06-expired-{javascript}")
    response = page.goto(f"{page.url}download")
    assert response is not None and response.status == 404
    assert not export_events(world.doctor_a, "registry_workbook_download")
    page.goto(f"{live_server.url}/followup/export/")
    again = press_and_follow(page, "生成登记表")
    assert again.pk != export.pk and again.status == WorkbookExport.Status.DONE and Path(again.file_path).is_file()
    assert "下载登记表" in page.inner_text("main")
