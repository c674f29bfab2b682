"""Area changes (区划变更, issue 15 §4) over real NBS 2023 codes of 芜湖市 镜湖区 (written into this test).

Merge, split, rename and recode; records and custody follow the village; reports for earlier periods do not
move; the metrics state follows; bad lists are refused whole with every problem located; a reload is a no-op.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from casemgmt.accounts.models import Role, User
from casemgmt.areas.changes import accounts_on_retired_areas, load_area_changes
from casemgmt.areas.models import Area, AreaChange, AreaChangeKind, AreaLevel, AreaPopulation
from casemgmt.areas.population import PopulationResult, population_of
from casemgmt.audit.models import AuditEvent
from metrics.indicators.periods import Period, parse_period
from metrics.models import PatientYearState
from metrics.reports.engine import compute, compute_direct
from metrics.state.read import counts_of_rows, counts_of_totals
from metrics.state.rebuild import rebuild
from registry.models import CustodySpan, Patient, Transfer, TransferState
from registry.transfers import services as transfers
from tests.base import TODAY, make_area, make_patient, make_user

pytestmark = pytest.mark.django_db

HEADER = ["kind", "old_code", "new_code", "new_name", "effective_date", "takes_patients"]
# 安徽省 芜湖市 镜湖区: two townships and some of their villages, as the NBS 2023 list has them.
PROVINCE, CITY, COUNTY = "340000000000", "340200000000", "340202000000"
FANGCUN, ZHANGJIASHAN = "340202012000", "340202013000"  # 方村街道, 张家山街道
FANGTANG, DAINAN, TIANCHENG, LIMIN = "340202012001", "340202012002", "340202012200", "340202012201"
SANSHANLI, WENHUALU = "340202013001", "340202013002"
VILLAGES = {
    FANGTANG: "方塘社区居民委员会",
    DAINAN: "埭南社区居民委员会",
    TIANCHENG: "天城村村民委员会",
    LIMIN: "利民村村民委员会",
    SANSHANLI: "三山里社区居民委员会",
    WENHUALU: "文化路社区居民委员会",
}
# The change: a month boundary 100 days or so back, so that whole months lie on both sides of it.
CHANGE_DAY = (TODAY.replace(day=1) - dt.timedelta(days=75)).replace(day=1)


@pytest.fixture
def wuhu(db: Any) -> dict[str, Any]:
    province = make_area(PROVINCE, "安徽省", AreaLevel.PROVINCE, None)
    city = make_area(CITY, "芜湖市", AreaLevel.CITY, province)
    county = make_area(COUNTY, "镜湖区", AreaLevel.COUNTY, city)
    towns = {
        FANGCUN: make_area(FANGCUN, "方村街道", AreaLevel.TOWNSHIP, county),
        ZHANGJIASHAN: make_area(ZHANGJIASHAN, "张家山街道", AreaLevel.TOWNSHIP, county),
    }
    villages = {
        code: make_area(code, name, AreaLevel.VILLAGE, towns[code[:9] + "000"]) for code, name in VILLAGES.items()
    }
    for code in VILLAGES:
        AreaPopulation.objects.create(area_id=code, year=TODAY.year, population=3000)
    doctor_f = make_user("doctor_fangcun", Role.DOCTOR, towns[FANGCUN])
    doctor_z = make_user("doctor_zhangjiashan", Role.DOCTOR, towns[ZHANGJIASHAN])
    county_staff = make_user("county_jinghu", Role.AREA_STAFF, county)
    registered = CHANGE_DAY - dt.timedelta(days=300)
    patients = {
        code: make_patient(doctor_f if code.startswith(FANGCUN[:9]) else doctor_z, village, registered_on=registered)
        for code, village in villages.items()
    }
    return {"county": county, "doctor_f": doctor_f, "doctor_z": doctor_z, "staff": county_staff, "patients": patients}


def change_list(tmp_path: Path, rows: list[list[object]], name: str = "area_changes.csv") -> Path:
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def load(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("load_area_changes", str(path), *args, stdout=out)
    return out.getvalue()


def refused(path: Path) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("load_area_changes", str(path), stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def spans(patient: Patient) -> list[tuple[str, dt.date, dt.date | None]]:
    return list(patient.custody_spans.order_by("start_date").values_list("area_id", "start_date", "end_date"))


def document(area_code: str, period: Period, *, children: bool = False) -> dict[str, Any]:
    body = compute(Area.objects.get(code=area_code), period, children=children).document()
    body.pop("computed_at")
    return body


def month(day: dt.date) -> Period:
    return parse_period(f"{day.year}-{day.month:02d}")


def snapshot() -> tuple[object, ...]:
    """Everything a refused load must leave alone."""
    return (
        list(Area.objects.values_list("code", "name", "retired_on")),
        list(AreaChange.objects.values_list("id")),
        list(CustodySpan.objects.values_list("patient_id", "area_id", "start_date", "end_date")),
        list(Patient.objects.values_list("id", "village_id")),
    )


def test_merging_two_villages_moves_the_records_on_the_day_and_leaves_earlier_reports_alone(
    wuhu: dict[str, Any], tmp_path: Path
) -> None:
    rebuild()  # reports read the per-patient state, which the change must keep current
    before_month = month(CHANGE_DAY - dt.timedelta(days=1))
    after_month = month(TODAY)
    earlier = {code: document(code, before_month) for code in (COUNTY, FANGCUN, TIANCHENG, LIMIN)}
    earlier_children = document(FANGCUN, before_month, children=True)
    path = change_list(tmp_path, [["合并", TIANCHENG, LIMIN, "", CHANGE_DAY.isoformat(), ""]])

    assert "迁移患者1人" in load(path)

    moved = Patient.objects.get(pk=wuhu["patients"][TIANCHENG].pk)
    assert moved.village_id == LIMIN
    registered = moved.registered_on
    assert spans(moved) == [(TIANCHENG, registered, CHANGE_DAY), (LIMIN, CHANGE_DAY, None)]
    assert Area.objects.get(code=TIANCHENG).retired_on == CHANGE_DAY
    change = AreaChange.objects.get()
    assert (change.kind, change.predecessor_id, change.successor_id, change.patients_moved) == (
        AreaChangeKind.MERGE, TIANCHENG, LIMIN, 1,
    )  # fmt: skip
    # Earlier periods attribute exactly as before the change, at every level and per child.
    for code, body in earlier.items():
        assert document(code, before_month) == body
    assert document(FANGCUN, before_month, children=True) == earlier_children
    # From the day on, the successor holds the record; the state agrees with the direct definition.
    assert document(LIMIN, after_month)["counts"]["registered"] == 2
    assert document(TIANCHENG, after_month)["counts"]["registered"] == 0
    county = Area.objects.get(code=COUNTY)
    state_doc = compute(county, after_month, children=True).document()
    direct_doc = compute_direct(county, after_month, children=True).document()
    state_doc.pop("computed_at"), direct_doc.pop("computed_at")
    assert state_doc == direct_doc
    # The state the change kept up to date is the state a full rebuild computes.
    kept = counts_of_rows(list(PatientYearState.objects.all())), counts_of_totals()
    rebuild()
    assert (counts_of_rows(list(PatientYearState.objects.all())), counts_of_totals()) == kept
    # Audited as an area change naming the patient, not as a transfer.
    event = AuditEvent.objects.get(purpose="area_change")
    assert event.detail == {
        "area_change": change.pk, "from": TIANCHENG, "to": LIMIN, "effective_date": CHANGE_DAY.isoformat(),
    }  # fmt: skip
    assert list(event.subjects.values_list("patient_uuid", flat=True)) == [moved.uuid]
    assert not Transfer.objects.exists()
    # The retired village takes no new record.
    doctor = User.objects.get(username="doctor_fangcun")
    from registry.patients.forms import villages_in_jurisdiction

    assert TIANCHENG not in set(villages_in_jurisdiction(doctor).values_list("code", flat=True))


def test_reloading_a_change_list_changes_nothing(wuhu: dict[str, Any], tmp_path: Path) -> None:
    path = change_list(
        tmp_path,
        [
            ["MERGE", TIANCHENG, LIMIN, "", CHANGE_DAY.isoformat(), ""],
            ["RENAME", ZHANGJIASHAN, "", "张家山新街道", CHANGE_DAY.isoformat(), ""],
        ],
    )
    load(path)
    kept = snapshot()
    events = AuditEvent.objects.count()
    assert "已导入过2条" in load(path)
    assert snapshot() == kept
    assert AuditEvent.objects.count() == events


def test_a_rename_keeps_the_code_and_the_old_name(wuhu: dict[str, Any], tmp_path: Path) -> None:
    load(change_list(tmp_path, [["更名", ZHANGJIASHAN, ZHANGJIASHAN, "张家山新街道", CHANGE_DAY.isoformat(), ""]]))
    area = Area.objects.get(code=ZHANGJIASHAN)
    assert (area.name, area.retired_on) == ("张家山新街道", None)
    change = AreaChange.objects.get()
    assert (change.kind, change.old_name, change.new_name, change.successor_id) == (
        AreaChangeKind.RENAME, "张家山街道", "张家山新街道", ZHANGJIASHAN,
    )  # fmt: skip
    assert Patient.objects.get(pk=wuhu["patients"][SANSHANLI].pk).custody_spans.count() == 1


def test_a_recode_gives_the_village_a_new_code_and_its_name(wuhu: dict[str, Any], tmp_path: Path) -> None:
    new_code = "340202013099"
    load(change_list(tmp_path, [["RECODE", WENHUALU, new_code, "", CHANGE_DAY.isoformat(), ""]]))
    area = Area.objects.get(code=new_code)
    assert (area.name, area.parent_id, area.level) == (VILLAGES[WENHUALU], ZHANGJIASHAN, AreaLevel.VILLAGE)
    patient = Patient.objects.get(pk=wuhu["patients"][WENHUALU].pk)
    assert patient.village_id == new_code
    assert spans(patient)[-1] == (new_code, CHANGE_DAY, None)


def test_splitting_a_township_moves_each_village_where_the_list_says(wuhu: dict[str, Any], tmp_path: Path) -> None:
    rebuild()
    north, south = "340202022000", "340202023000"  # codes unused in 镜湖区 in 2023
    day = CHANGE_DAY.isoformat()
    before_month = month(CHANGE_DAY - dt.timedelta(days=1))
    earlier = document(COUNTY, before_month, children=True)
    earlier_town = document(FANGCUN, before_month, children=True)
    path = change_list(
        tmp_path,
        [
            ["SPLIT", FANGCUN, north, "方村北街道", day, ""],
            ["SPLIT", FANGCUN, south, "方村南街道", day, ""],
            ["RECODE", FANGTANG, "340202022001", "", day, ""],
            ["RECODE", DAINAN, "340202022002", "", day, ""],
            ["RECODE", TIANCHENG, "340202023200", "", day, ""],
            ["RECODE", LIMIN, "340202023201", "", day, ""],
        ],
    )
    out = load(path)
    assert "迁移患者4人" in out
    # The doctor of the retired township is named for the administrator, not moved along.
    assert "doctor_fangcun" in out and north in out and south in out
    assert accounts_on_retired_areas() == [("doctor_fangcun", FANGCUN, [north, south])]
    doctor = User.objects.get(username="doctor_fangcun")
    assert not Patient.objects.visible_to(doctor).exists()
    staff = User.objects.get(username="county_jinghu")
    assert Patient.objects.visible_to(staff).count() == 6
    assert Area.objects.get(code=FANGCUN).retired_on == CHANGE_DAY
    assert Patient.objects.get(pk=wuhu["patients"][TIANCHENG].pk).village_id == "340202023200"
    assert document(COUNTY, before_month, children=True) == earlier
    assert document(FANGCUN, before_month, children=True) == earlier_town
    now = month(TODAY)
    assert document(north, now)["counts"]["registered"] == 2
    assert document(south, now)["counts"]["registered"] == 2
    assert document(FANGCUN, now)["counts"]["registered"] == 0
    # Populations: the retired township and villages drop out of the county's sum from the next year on. Until a
    # figure of that year is loaded, the latest year with figures serves, over the tree in force in that year
    # (casemgmt.areas.population); the new township has no figure in any year, so its population is unknown.
    assert population_of(COUNTY, TODAY.year).total == 6 * 3000
    assert population_of(COUNTY, TODAY.year + 1) == PopulationResult(6 * 3000, [], TODAY.year)
    assert sorted(population_of(north, TODAY.year + 1).missing) == ["340202022001", "340202022002"]
    for village in ("340202022001", "340202022002", "340202023200", "340202023201", SANSHANLI, WENHUALU):
        AreaPopulation.objects.create(area_id=village, year=TODAY.year + 1, population=3100)
    assert population_of(COUNTY, TODAY.year + 1) == PopulationResult(6 * 3100, [], TODAY.year + 1)  # the new tree


def test_a_village_split_sends_the_records_to_the_one_successor_marked(wuhu: dict[str, Any], tmp_path: Path) -> None:
    day = CHANGE_DAY.isoformat()
    path = change_list(
        tmp_path,
        [
            ["SPLIT", LIMIN, "340202012230", "利民东村村民委员会", day, "否"],
            ["SPLIT", LIMIN, "340202012231", "利民西村村民委员会", day, "是"],
        ],
    )
    load(path)
    assert Patient.objects.get(pk=wuhu["patients"][LIMIN].pk).village_id == "340202012231"
    moved = dict(AreaChange.objects.values_list("successor", "patients_moved"))
    assert moved == {"340202012230": 0, "340202012231": 1}


def test_a_change_loaded_late_hands_later_custody_and_pending_transfers_to_the_successor(
    wuhu: dict[str, Any], tmp_path: Path
) -> None:
    """A patient registered in the village after the change's day, and a transfer waiting to leave it."""
    doctor_f, doctor_z = wuhu["doctor_f"], wuhu["doctor_z"]
    villages = {code: Area.objects.get(code=code) for code in VILLAGES}
    late = make_patient(doctor_f, villages[TIANCHENG], registered_on=CHANGE_DAY + dt.timedelta(days=10))
    waiting = transfers.request_transfer(
        actor=doctor_f, patient=wuhu["patients"][TIANCHENG], to_village=villages[SANSHANLI], reason="随子女居住",
        today=TODAY,
    )  # fmt: skip
    incoming = transfers.request_transfer(
        actor=doctor_z, patient=wuhu["patients"][WENHUALU], to_village=villages[TIANCHENG], reason="随子女居住",
        today=TODAY,
    )  # fmt: skip
    load(change_list(tmp_path, [["MERGE", TIANCHENG, LIMIN, "", CHANGE_DAY.isoformat(), ""]]))
    assert spans(Patient.objects.get(pk=late.pk)) == [(LIMIN, CHANGE_DAY + dt.timedelta(days=10), None)]
    waiting.refresh_from_db()
    incoming.refresh_from_db()
    assert (waiting.from_village_id, incoming.to_village_id) == (LIMIN, LIMIN)
    accepted = transfers.accept_transfer(actor=doctor_z, transfer=waiting, today=TODAY)
    assert accepted.state == TransferState.ACCEPTED
    assert Patient.objects.get(pk=wuhu["patients"][TIANCHENG].pk).village_id == SANSHANLI


def test_a_transfer_to_a_retired_village_cannot_be_accepted(wuhu: dict[str, Any], tmp_path: Path) -> None:
    villages = {code: Area.objects.get(code=code) for code in VILLAGES}
    # A transfer into 利民村 from 文化路社区, then 利民村 is recoded: the request follows it to the new code.
    waiting = transfers.request_transfer(
        actor=wuhu["doctor_z"], patient=wuhu["patients"][WENHUALU], to_village=villages[LIMIN], reason="随子女居住",
        today=TODAY,
    )  # fmt: skip
    Area.objects.filter(code=LIMIN).update(retired_on=CHANGE_DAY)  # as a change that could not retarget it
    with pytest.raises(transfers.TransferError, match=r"已于.*撤销"):
        transfers.accept_transfer(actor=wuhu["doctor_f"], transfer=waiting, today=TODAY)
    assert not transfers.is_valid_target(WENHUALU, Area.objects.get(code=LIMIN))


BAD_ROWS: list[tuple[list[object], str]] = [
    (["MERGE", "340202012299", LIMIN, "", "{day}", ""], "原区划代码340202012299不存在"),
    (["MERGE", TIANCHENG, ZHANGJIASHAN, "", "{day}", ""], "须为同一级"),
    (["MERGE", TIANCHENG, LIMIN, "", "{future}", ""], "晚于今天"),
    (["RECODE", TIANCHENG, SANSHANLI, "", "{day}", ""], "代码不得重复使用"),
    (["SPLIT", LIMIN, "340202012230", "利民东村", "{day}", ""], "拆分至少要有两个新区划"),
    (["合并", "34020201220", LIMIN, "", "{day}", ""], "格式不正确"),
    (["DISSOLVE", TIANCHENG, LIMIN, "", "{day}", ""], "变更类型应为"),
    (["RENAME", ZHANGJIASHAN, "", "", "{day}", ""], "更名须填写新名称"),
    (["RECODE", SANSHANLI, "340202099001", "", "{day}", ""], "上级340202099000不存在"),
    (["MERGE", TIANCHENG, "340202012240", "", "{day}", ""], "请填写新名称"),
    (["MERGE", TIANCHENG, LIMIN, "", "2026-13-01", ""], "应为日期"),
]


@pytest.mark.parametrize(("row", "message"), BAD_ROWS, ids=[m for _r, m in BAD_ROWS])
def test_a_bad_row_is_located_and_nothing_is_written(
    wuhu: dict[str, Any], tmp_path: Path, row: list[object], message: str
) -> None:
    good: list[object] = ["RECODE", WENHUALU, "340202013099", "", CHANGE_DAY.isoformat(), ""]
    cells: list[object] = [str(c).format(day=CHANGE_DAY, future=TODAY + dt.timedelta(days=1)) for c in row]
    kept = snapshot()
    err = refused(change_list(tmp_path, [good, cells]))
    assert "工作表“area_changes”第3行" in err
    assert message in err
    assert snapshot() == kept


def test_every_problem_of_a_list_is_reported_at_once(wuhu: dict[str, Any], tmp_path: Path) -> None:
    day = CHANGE_DAY.isoformat()
    report = load_area_changes(
        change_list(
            tmp_path,
            [
                ["MERGE", "340202012299", LIMIN, "", day, ""],
                ["RECODE", TIANCHENG, SANSHANLI, "", day, ""],
                ["RENAME", ZHANGJIASHAN, "", "", day, ""],
            ],
        )
    )
    assert [p.row for p in report.problems] == [2, 3, 4]
    assert [p.column for p in report.problems] == ["old_code", "new_code", "new_name"]


def test_a_cycle_is_refused(wuhu: dict[str, Any], tmp_path: Path) -> None:
    day = CHANGE_DAY.isoformat()
    err = refused(
        change_list(tmp_path, [["MERGE", TIANCHENG, LIMIN, "", day, ""], ["MERGE", LIMIN, TIANCHENG, "", day, ""]])
    )
    assert f"第3行“old_code”列：{LIMIN}在同一生效日期已是其他变更的新区划" in err


def test_a_retired_code_is_never_used_again(wuhu: dict[str, Any], tmp_path: Path) -> None:
    load(change_list(tmp_path, [["MERGE", TIANCHENG, LIMIN, "", CHANGE_DAY.isoformat(), ""]], "first.csv"))
    later = (CHANGE_DAY + dt.timedelta(days=20)).isoformat()
    err = refused(change_list(tmp_path, [["RECODE", DAINAN, TIANCHENG, "", later, ""]], "second.csv"))
    assert f"新区划代码{TIANCHENG}已于{CHANGE_DAY}撤销，代码不得再次使用" in err
    err = refused(change_list(tmp_path, [["RENAME", TIANCHENG, "", "天城新村", later, ""]], "third.csv"))
    assert f"原区划{TIANCHENG}已于{CHANGE_DAY}撤销" in err


def test_a_retired_township_must_list_where_its_villages_go(wuhu: dict[str, Any], tmp_path: Path) -> None:
    day = CHANGE_DAY.isoformat()
    kept = snapshot()
    err = refused(
        change_list(
            tmp_path,
            [
                ["MERGE", FANGCUN, ZHANGJIASHAN, "", day, ""],
                ["RECODE", FANGTANG, "340202013101", "", day, ""],
                ["MERGE", DAINAN, SANSHANLI, "", day, ""],
                ["RECODE", TIANCHENG, "340202099200", "", day, ""],
            ],
        )
    )
    assert f"其下级{LIMIN}（利民村村民委员会）仍在" in err
    assert "上级340202099000不存在" in err
    assert snapshot() == kept


def test_a_village_split_needs_exactly_one_successor_taking_the_records(wuhu: dict[str, Any], tmp_path: Path) -> None:
    day = CHANGE_DAY.isoformat()
    rows: list[list[object]] = [
        ["SPLIT", LIMIN, "340202012230", "利民东村", day, ""],
        ["SPLIT", LIMIN, "340202012231", "利民西村", day, ""],
    ]
    assert "承接患者=是" in refused(change_list(tmp_path, rows))


def test_dry_run_writes_nothing(wuhu: dict[str, Any], tmp_path: Path) -> None:
    kept = snapshot()
    out = load(change_list(tmp_path, [["MERGE", TIANCHENG, LIMIN, "", CHANGE_DAY.isoformat(), ""]]), "--dry-run")
    assert "试运行" in out and "待导入变更1条" in out
    assert snapshot() == kept


def test_the_trend_of_a_successor_runs_on_across_the_change(wuhu: dict[str, Any], tmp_path: Path) -> None:
    from django.test import Client

    from casemgmt.areas.crosswalk import crosswalk, predecessor_villages
    from metrics.reports.trend import trend_results

    rebuild()
    months = parse_period(str(CHANGE_DAY.year)).months()
    limin = Area.objects.get(code=LIMIN)
    before = [i for i, m in enumerate(months) if m.start >= wuhu["patients"][LIMIN].registered_on]
    before = [i for i in before if months[i].cutoff_date < CHANGE_DAY]
    assert before, "the test needs a month between registration and the change"
    own = [r.tally.counts["registered"] for r in trend_results(limin, months)]
    assert [own[i] for i in before] == [1] * len(before)
    day = CHANGE_DAY.isoformat()
    # 天城村 merges into 利民村 (same township: no crosswalk needed there); 三山里社区 of 张家山街道 merges too.
    load(change_list(tmp_path, [["MERGE", TIANCHENG, LIMIN, "", day, ""], ["MERGE", SANSHANLI, LIMIN, "", day, ""]]))
    assert [p.code for p in predecessor_villages(LIMIN)] == [TIANCHENG, SANSHANLI]
    assert [p.code for p in predecessor_villages(FANGCUN)] == [SANSHANLI]  # 天城村 lay in 方村街道 already
    merged = [r.tally.counts["registered"] for r in trend_results(limin, months)]
    assert [merged[i] for i in before] == [3] * len(before)
    after = [i for i, m in enumerate(months) if m.start >= CHANGE_DAY]
    assert [merged[i] for i in after] == [3] * len(after)
    township = [r.tally.counts["registered"] for r in trend_results(Area.objects.get(code=FANGCUN), months)]
    assert [township[i] for i in before] == [5] * len(before)
    from metrics.reports.trend import crosswalk_note

    assert crosswalk_note(FANGCUN) == [
        "本地区有2项区划变更：趋势中变更以前的月份含已并入本地区的原村(居)的数据；对照表见报告页面。"
    ]
    assert crosswalk_note(ZHANGJIASHAN)[0].startswith("本地区有1项区划变更")  # 三山里社区 left it
    rows = crosswalk(FANGCUN)
    assert [(r.old_code, r.new_code, r.effective_date, r.kind) for r in rows] == [
        (TIANCHENG, LIMIN, CHANGE_DAY, "合并"),
        (SANSHANLI, LIMIN, CHANGE_DAY, "合并"),
    ]
    client = Client()
    client.force_login(wuhu["staff"])
    page = client.get("/reports/", {"area": LIMIN, "period": str(CHANGE_DAY.year)})
    assert page.status_code == 200
    assert "区划变更对照" in page.content.decode()
    assert f"三山里社区居民委员会 ({SANSHANLI})" in page.content.decode()
    township_page = client.get("/reports/", {"area": FANGCUN, "period": str(CHANGE_DAY.year)}).content.decode()
    assert "天城村村民委员会（已撤销）</option>" in township_page  # offered for earlier periods, marked
    assert "利民村村民委员会</option>" in township_page  # in force: unmarked


def test_the_administrator_sees_the_accounts_left_on_a_retired_area(wuhu: dict[str, Any], tmp_path: Path) -> None:
    from django.test import Client

    from casemgmt.accounts.management.provisioning import check_role_areas

    admin = make_user("admin_wuhu", Role.ADMIN)
    client = Client()
    client.force_login(admin)
    assert "辖区已撤销的账号" not in client.get("/manage/accounts/").content.decode()
    day = CHANGE_DAY.isoformat()
    rows: list[list[object]] = [
        ["MERGE", ZHANGJIASHAN, FANGCUN, "", day, ""],
        ["RECODE", SANSHANLI, "340202012003", "", day, ""],
        ["RECODE", WENHUALU, "340202012004", "", day, ""],
    ]
    load(change_list(tmp_path, rows))
    page = client.get("/manage/accounts/").content.decode()
    assert "辖区已撤销的账号" in page and f"{ZHANGJIASHAN} → {FANGCUN}" in page
    # The account is not moved along: a new area is given through the usual approval, and a retired one refused.
    assert Patient.objects.visible_to(User.objects.get(username="doctor_zhangjiashan")).count() == 0
    problems = check_role_areas(Role.DOCTOR, [Area.objects.get(code=ZHANGJIASHAN)])
    assert problems == [f"张家山街道（{ZHANGJIASHAN}）已于{CHANGE_DAY}撤销（区划变更），请改为新区划。"]


def test_emergency_records_follow_their_village(wuhu: dict[str, Any], tmp_path: Path) -> None:
    from django.utils import timezone

    from followup.emergencies import services as emergencies
    from tests.followup.test_emergency_services import values

    emergency = emergencies.record_emergency(
        actor=wuhu["doctor_f"], values=values(), handler=None, complete=True, now=timezone.now(),
        patient=wuhu["patients"][TIANCHENG],
    )  # fmt: skip
    assert emergency.area_id == TIANCHENG
    load(change_list(tmp_path, [["RECODE", TIANCHENG, "340202012299", "", CHANGE_DAY.isoformat(), ""]]))
    emergency.refresh_from_db()
    assert emergency.area_id == "340202012299"


def test_a_workbook_with_chinese_headers_and_real_dates(wuhu: dict[str, Any], tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "area_changes"
    sheet.append(["变更类型", "原区划代码", "新区划代码", "新名称", "生效日期", "承接患者"])
    sheet.append(["合并", int(TIANCHENG), int(LIMIN), None, CHANGE_DAY, None])  # codes typed as numbers
    path = tmp_path / "changes.xlsx"
    book.save(path)
    assert "迁移患者1人" in load(path)
    assert Area.objects.get(code=TIANCHENG).retired_on == CHANGE_DAY


def test_a_growing_list_loads_only_its_new_rows(wuhu: dict[str, Any], tmp_path: Path) -> None:
    day = CHANGE_DAY.isoformat()
    first: list[list[object]] = [["MERGE", TIANCHENG, LIMIN, "", day, ""]]
    load(change_list(tmp_path, first, "area_changes.csv"))
    later = (CHANGE_DAY + dt.timedelta(days=30)).isoformat()
    grown: list[list[object]] = [
        *first,
        ["RECODE", LIMIN, "340202012299", "", later, ""],
    ]  # the merged village is re-coded later
    folder = tmp_path / "grown"
    folder.mkdir()
    assert "新导入变更1条（迁移患者2人），已导入过1条" in load(change_list(folder, grown))
    moved = Patient.objects.get(pk=wuhu["patients"][TIANCHENG].pk)
    registered = moved.registered_on
    later_day = CHANGE_DAY + dt.timedelta(days=30)
    assert spans(moved) == [
        (TIANCHENG, registered, CHANGE_DAY), (LIMIN, CHANGE_DAY, later_day), ("340202012299", later_day, None),
    ]  # fmt: skip


def test_a_list_that_contradicts_a_loaded_change_is_refused(wuhu: dict[str, Any], tmp_path: Path) -> None:
    day = CHANGE_DAY.isoformat()
    rows: list[list[object]] = [
        ["SPLIT", LIMIN, "340202012230", "利民东村村民委员会", day, "是"],
        ["SPLIT", LIMIN, "340202012231", "利民西村村民委员会", day, ""],
    ]
    load(change_list(tmp_path, rows))
    folder = tmp_path / "again"
    folder.mkdir()
    more: list[list[object]] = [*rows, ["SPLIT", LIMIN, "340202012232", "利民北村村民委员会", day, ""]]
    assert "该变更的一部分已导入" in refused(change_list(folder, more))


def test_a_county_renamed_as_in_2020_keeps_its_code(db: Any, tmp_path: Path) -> None:
    """340210 芜湖县 became 湾沚区 under the same code (the 2020 census and the 2023 list disagree on the name)."""
    province = make_area(PROVINCE, "安徽省", AreaLevel.PROVINCE, None)
    city = make_area(CITY, "芜湖市", AreaLevel.CITY, province)
    make_area("340210000000", "芜湖县", AreaLevel.COUNTY, city)
    load(change_list(tmp_path, [["RENAME", "340210000000", "", "湾沚区", "2020-08-01", ""]]))
    assert Area.objects.get(code="340210000000").name == "湾沚区"
    assert list(AreaChange.objects.values_list("old_name", "new_name", "effective_date")) == [
        ("芜湖县", "湾沚区", dt.date(2020, 8, 1))
    ]
