"""Issue 14 §2 in Chromium, JavaScript on and off: the import and the registration form are no oracle.

- The administrator's dry run of a workbook holding the ID number of a patient registered in township B says
  "registered in another jurisdiction" and nothing else (no village, code, name); nothing is written; the probe is
  audited against that patient with the job, and the patient's own doctor finds it in the access log.
- County staff over their daily allowance of probes: every row not matched inside their view is refused alike.
- A doctor registering numbers held elsewhere is told so once, then refused with the limit message, registered
  number or not; nothing is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from casemgmt.accounts.models import Role
from casemgmt.audit.models import Action, AuditEvent
from followup.models import WorkbookImport
from registry.models import Patient, SupplementaryForm
from tests.base import PASSWORD, World, make_area, make_patient, make_user
from tests.browser.conftest import field_error, log_in, screenshot, submit_form
from tests.browser.test_registration_journey import NEW_ID, fill_registration
from tests.followup.workbook_base import PATIENT_HEADER, patient_row, write_xlsx

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]

ELSEWHERE = "该身份证号已在其他辖区登记"
LIMIT_MESSAGE = "查重次数已达今日上限"


def page_for(request: pytest.FixtureRequest, javascript: bool, *, phone: bool = False) -> Any:
    if not javascript:
        return request.getfixturevalue("phone_page_without_javascript")
    return request.getfixturevalue("phone_page" if phone else "desktop_page")


def upload(page: Any, live_server: Any, path: Path) -> WorkbookImport:
    """A dry-run upload through the page, waiting for the job's report; the job as stored."""
    page.goto(f"{live_server.url}/followup/import/")
    page.set_input_files("input[name=workbook]", str(path))
    page.check("input[name=dry_run]")
    page.click("button:has-text('上传并检查')")
    page.wait_for_url("**/followup/import/*-*/")
    page.wait_for_selector("text=返回导入页面")
    job = WorkbookImport.objects.latest("pk")
    assert not job.is_open and job.dry_run, job.report
    return job


def row_of(patient: Patient, ref: str, village: str, seed: int) -> list[Any]:
    born = patient.birth_date.isoformat()
    return patient_row(ref, village, seed=seed, national_id=patient.national_id, sex=patient.sex, birth_date=born)


def probes_of(patient: Patient) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=Action.IDENTITY_PROBE, subjects__patient_uuid=patient.uuid))


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_administrators_dry_run_learns_no_place(
    world: World, live_server: Any, request: pytest.FixtureRequest, tmp_path: Path, javascript: bool
) -> None:
    page, mode = page_for(request, javascript), "js" if javascript else "nojs"
    target = world.patient_b
    log_in(page, live_server, "admin_e", PASSWORD)
    before = Patient.objects.count()
    sheets = {"patients": [list(PATIENT_HEADER), row_of(target, "X1", target.village_id, 1)]}
    job = upload(page, live_server, write_xlsx(tmp_path / "登记表.xlsx", sheets))
    screenshot(page, f"import-oracle-01-admin-dry-run-{mode}")
    assert job.status == WorkbookImport.Status.REJECTED
    main = page.inner_text("main")
    problem = page.locator("tr:has(td[data-label='列']:text-is('national_id'))")
    assert problem.count() == 1 and ELSEWHERE in problem.locator("td[data-label='问题']").inner_text(), main
    village = target.village
    for secret in (village.code, village.code[:9], village.name, world.township_b.name, target.name):
        assert secret not in page.content(), secret
    assert "未变" not in main  # no counts at all: a count cannot tell "one of yours" from "held elsewhere"
    # The database: nothing written by the dry run, the probe recorded against the patient with the job.
    assert Patient.objects.count() == before
    [event] = probes_of(target)
    assert event.actor == world.admin_e and event.detail["job"] == str(job.uuid)
    assert (event.detail["channel"], event.detail["outcome"], event.detail["dry_run"]) == (
        "import",
        "registered_elsewhere",
        True,
    )

    # The patient's own doctor sees who probed, and through which channel.
    page.context.clear_cookies()
    log_in(page, live_server, "doctor_b", PASSWORD)
    page.goto(f"{live_server.url}/patients/{target.uuid}/access/")
    row = page.locator("tr:has(td[data-label='操作']:text-is('身份证号查重'))")
    assert row.count() == 1, page.inner_text("main")
    assert row.locator("td[data-label='理由']").inner_text() == "登记表导入"
    assert row.locator("td[data-label='人员']").inner_text() == str(world.admin_e)
    screenshot(page, f"import-oracle-02-access-log-{mode}")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_over_the_allowance_every_unmatched_row_is_refused_alike(
    world: World, live_server: Any, request: pytest.FixtureRequest, tmp_path: Path, javascript: bool
) -> None:
    request.getfixturevalue("settings").IDENTITY_PROBE_LIMIT_PER_DAY = 1
    page, mode = page_for(request, javascript), "js" if javascript else "nojs"
    county = make_area("320509000000", "吴中区", 3, world.city)
    township = make_area("320509001000", "丙镇", 4, county)
    village = make_area("320509001001", "丙一村", 5, township)
    doctor = make_user("doctor_x", Role.DOCTOR, township)
    far = [make_patient(doctor, village) for _ in range(2)]
    a1 = world.village_a1.code
    sheets = {
        "patients": [
            list(PATIENT_HEADER),
            row_of(far[0], "X1", a1, 1),
            patient_row("N1", a1, seed=50),  # registered nowhere
            row_of(far[1], "X2", a1, 2),
        ]
    }
    before = Patient.objects.count()
    log_in(page, live_server, "county_d", PASSWORD)
    job = upload(page, live_server, write_xlsx(tmp_path / "登记表.xlsx", sheets))
    screenshot(page, f"import-oracle-03-over-limit-{mode}")
    assert job.status == WorkbookImport.Status.REJECTED
    messages = page.locator("td[data-label='问题']").all_inner_texts()
    assert len(messages) == 3 and all(LIMIT_MESSAGE in m for m in messages), messages
    assert ELSEWHERE not in page.inner_text("main")
    assert Patient.objects.count() == before
    assert {e.detail["outcome"] for p in far for e in probes_of(p)} == {"refused_over_limit"}


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_registration_over_the_allowance_answers_nothing(
    world: World, live_server: Any, request: pytest.FixtureRequest, settings: Any, javascript: bool
) -> None:
    settings.IDENTITY_PROBE_LIMIT_PER_DAY = 1
    page, mode = page_for(request, javascript, phone=True), "js" if javascript else "nojs"
    log_in(page, live_server, "doctor_a", PASSWORD)
    before = Patient.objects.count(), SupplementaryForm.objects.count()
    messages = []
    for step, number in enumerate((world.patient_b.national_id, world.patient_b.national_id, NEW_ID)):
        page.goto(f"{live_server.url}/patients/new/")
        fill_registration(page, world.village_a2, number)
        submit_form(page)
        screenshot(page, f"import-oracle-04-register-{step}-{mode}")
        messages.append(field_error(page, "national_id"))
        assert page.input_value("input[name=name]") == "测试甲"  # what was typed stays
    assert "已在其他辖区建档" in messages[0]
    assert LIMIT_MESSAGE in messages[1] and LIMIT_MESSAGE in messages[2]  # registered or not: the same refusal
    assert world.village_b1.name not in page.content() and world.patient_b.name not in page.content()
    assert (Patient.objects.count(), SupplementaryForm.objects.count()) == before
    outcomes = sorted(e.detail["outcome"] for e in probes_of(world.patient_b))
    assert outcomes == ["refused_over_limit", "registered_elsewhere"]
