"""The synthetic province generator: rows consistent with the domain rules, real encryption, deterministic."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import threading
from collections import Counter
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from casemgmt.areas.models import Area, AreaPopulation
from casemgmt.audit.models import AuditSubject
from devdata.synthetic.run import AlreadyGenerated, generate
from followup.models import FollowUp, HealthCheck, PatientCareState, RehabParticipation
from followup.visits import rules
from registry.models import CustodySpan, Patient, StatusChange, SupplementaryForm, Transfer, national_id_index
from registry.patients import idnumber
from registry.signals import patient_facts_changed

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 30)
SMALL = 400


class _Rollback(Exception):
    pass


def _digest(province: str) -> str:
    """A hash of every clear column and every decrypted identity the generator wrote under *province*, with the
    province code left out of area codes and ID numbers (with the check digit that depends on it), so that two
    provinces generated from one seed compare equal."""
    h = hashlib.sha256()
    patients = list(
        Patient.objects.filter(village__code__startswith=province).select_related("supplementary").order_by("id")
    )
    rank: dict[int, int] = {}
    for p in sorted(patients, key=lambda p: p.national_id):
        rank[p.pk] = len(rank)
        f = p.supplementary
        h.update(
            repr(
                (
                    p.village_id[2:], p.name, p.national_id[2:17], p.phone, p.address, p.hukou_address, p.guardian_name,
                    p.guardian_relation, p.guardian_phone, p.sex, p.birth_date, p.disorder, p.diagnosis_date,
                    p.registered_on, p.status, p.status_since, p.name_index,
                    f.consent, f.consent_signer, f.onset_date, f.past_symptoms, f.employment, f.economic_status,
                )
            ).encode()
        )  # fmt: skip
    ids = list(rank)
    for rows in (
        FollowUp.objects.filter(patient_id__in=ids).values_list(
            "patient_id", "date", "outcome", "risk_level", "classification", "next_date", "symptoms", "adherence"
        ),
        StatusChange.objects.filter(patient_id__in=ids).values_list("patient_id", "to_status", "effective_date"),
        [
            (pk, area[2:], start, end)
            for pk, area, start, end in CustodySpan.objects.filter(patient_id__in=ids).values_list(
                "patient_id", "area_id", "start_date", "end_date"
            )
        ],
        RehabParticipation.objects.filter(patient_id__in=ids).values_list("patient_id", "provider_type", "start_date"),
        HealthCheck.objects.filter(patient_id__in=ids).values_list("patient_id", "date", "blood_pressure"),
    ):
        h.update(repr(sorted((rank[r[0]], *r[1:]) for r in rows)).encode())
    return h.hexdigest()


def _digest_of_run(**options: Any) -> str:
    """Generate, hash, and roll the whole run back, so that the next run starts from the same database."""
    try:
        with transaction.atomic():
            generate(patients=SMALL, years=2, today=TODAY, province="71", batch_size=150, **options)
            digest = _digest("71")
            raise _Rollback
    except _Rollback:
        pass
    return digest


def test_same_seed_gives_the_same_data_and_another_seed_does_not() -> None:
    first = _digest_of_run(seed=5, copy=False)
    assert _digest_of_run(seed=5, copy=False) == first
    assert _digest_of_run(seed=6, copy=False) != first


@pytest.mark.postgres
def test_copy_and_bulk_create_write_the_same_data() -> None:
    assert _digest_of_run(seed=5, copy=True) == _digest_of_run(seed=5, copy=False)


@pytest.fixture
def province() -> str:
    generate(patients=SMALL, years=2, seed=3, today=TODAY, province="71", batch_size=150)
    return "71"


def test_identities_decrypt_through_the_models_and_are_found_by_their_blind_indexes(province: str) -> None:
    patients = list(Patient.objects.filter(village__code__startswith=province).select_related("supplementary"))
    assert len(patients) == SMALL
    for p in patients[:50]:
        assert idnumber.check_digit(p.national_id[:17]) == p.national_id[17]
        assert p.national_id[6:14] == f"{p.birth_date:%Y%m%d}"
        assert int(p.national_id[16]) % 2 == (1 if p.sex == 1 else 0)
        assert Patient.objects.get(national_id_index=national_id_index(p.national_id)) == p
        assert p.name and p.address
        if p.supplementary.consent:
            assert p.supplementary.consent_signer in {p.name, p.guardian_name}
    with connection.cursor() as cursor:  # what is stored is a token, not the name
        cursor.execute("SELECT name FROM registry_patient WHERE id = %s", [patients[0].pk])
        raw = cursor.fetchone()[0]
    assert raw.startswith("v1.") and patients[0].name not in raw


def test_the_tree_and_populations_cover_every_level(province: str) -> None:
    levels = Counter(Area.objects.filter(code__startswith=province).values_list("level", flat=True))
    assert levels[1] == 1 and levels[2] >= 1 and levels[3] == 1 and levels[4] >= 8 and levels[5] >= 64
    prov = AreaPopulation.objects.get(area_id="710000000000", year=TODAY.year).population
    assert 1000 * SMALL / 7 < prov < 1000 * SMALL / 3.5  # registered prevalence 4-6 per thousand, loosely


def test_distributions_are_close_to_the_national_mix(province: str) -> None:
    patients = Patient.objects.filter(village__code__startswith=province)
    disorders = Counter(patients.values_list("disorder", flat=True))
    assert 0.6 < disorders[1] / SMALL < 0.9
    statuses = Counter(patients.values_list("status", flat=True))
    assert 0.78 < statuses["ACTIVE"] / SMALL < 0.95 and statuses["DEAD"] > 0 and statuses["LOST"] > 0
    followups = FollowUp.objects.filter(patient__in=patients)
    outcomes = Counter(followups.values_list("outcome", flat=True))
    total = sum(outcomes.values())
    assert 3 < total / SMALL < 20
    assert 0.02 < outcomes["NOT_REACHED"] / total < 0.15
    assert outcomes["DEAD"] == statuses["DEAD"]
    classes = Counter(followups.exclude(classification=None).values_list("classification", flat=True))
    assert classes[3] > classes[2] > 0 and classes[1] > 0
    assert RehabParticipation.objects.filter(patient__in=patients).exists()
    assert HealthCheck.objects.filter(patient__in=patients, followup__isnull=False).exists()


def test_follow_ups_follow_registration_the_schedule_and_the_status(province: str) -> None:
    patients = {p.pk: p for p in Patient.objects.filter(village__code__startswith=province)}
    by_patient: dict[int, list[FollowUp]] = {}
    for f in FollowUp.objects.filter(patient_id__in=patients).order_by("date", "id"):
        by_patient.setdefault(f.patient_id, []).append(f)
    for pk, rows in by_patient.items():
        patient = patients[pk]
        assert patient.status != "REFUSED"
        assert patient.registered_on <= rows[0].date and rows[-1].date <= TODAY
        for f in rows:
            if f.outcome == "REACHED":
                assert (
                    f.next_date is not None and f.next_date > f.date and f.classification in (1, 2, 3) and f.is_complete
                )
            else:
                assert f.next_date is None and f.classification is None
        if patient.status in ("DEAD", "LOST"):
            assert rows[-1].outcome == patient.status and rows[-1].date == patient.status_since
        attempts = [
            rules.Attempt(f.date, f.outcome, f.id, f.risk_level, f.classification, f.next_date, f.hospitalisation)
            for f in rows
        ]
        snapshot = rules.care_snapshot(attempts)
        state = PatientCareState.objects.get(patient_id=pk)
        assert (state.next_due_date, state.classification, state.last_followup_date) == (
            snapshot.next_due_date,
            snapshot.classification,
            snapshot.last_followup_date,
        )
        assert state.consecutive_not_reached == snapshot.consecutive_not_reached
        assert state.last_complete_followup_id == snapshot.last_complete_key
        # Status history ends in the current status.
        last = StatusChange.objects.filter(patient_id=pk).order_by("effective_date", "id").last()
        assert last is not None and last.to_status == patient.status


def test_transfers_agree_with_the_custody_spans(province: str) -> None:
    transfers = list(Transfer.objects.filter(patient__village__code__startswith=province).select_related("patient"))
    assert transfers  # 3 % of 400 patients
    for t in transfers:
        spans = list(CustodySpan.objects.filter(patient=t.patient).order_by("start_date"))
        assert [(s.area_id, s.start_date, s.end_date) for s in spans] == [
            (t.from_village_id, t.patient.registered_on, t.decided_on),
            (t.to_village_id, t.decided_on, None),
        ]
        assert t.decided_on is not None
        assert t.state == "accepted" and t.requested_on <= t.decided_on <= TODAY
        assert t.patient.village_id == t.to_village_id
    single = CustodySpan.objects.filter(patient__village__code__startswith=province).exclude(
        patient__in=[t.patient for t in transfers]
    )
    assert all(s.end_date is None for s in single)


def test_each_batch_is_audited_and_announced() -> None:
    heard: list[tuple[int, ...]] = []

    def listener(**kwargs: Any) -> None:
        heard.append(kwargs["patient_ids"])

    patient_facts_changed.connect(listener)
    try:
        generate(patients=120, years=1, seed=1, today=TODAY, province="71", batch_size=50)
    finally:
        patient_facts_changed.disconnect(listener)
    assert [len(ids) for ids in heard] == [50, 50, 20]
    assert sorted(i for ids in heard for i in ids) == sorted(Patient.objects.values_list("id", flat=True))
    assert AuditSubject.objects.filter(event__detail__source="generate_synthetic").count() == 120


def test_no_state_skips_the_announcements() -> None:
    heard: list[Any] = []
    listener = lambda **kwargs: heard.append(kwargs)  # noqa: E731
    patient_facts_changed.connect(listener)
    try:
        generate(patients=30, years=1, seed=1, today=TODAY, province="71", announce=False)
    finally:
        patient_facts_changed.disconnect(listener)
    assert heard == [] and Patient.objects.count() == 30


def test_the_command_generates_and_refuses_a_second_run_into_the_same_province() -> None:
    call_command("generate_synthetic", "--patients", "40", "--years", "1", "--no-progress")
    assert Patient.objects.count() == 40
    with pytest.raises(CommandError, match="已存在"):
        call_command("generate_synthetic", "--patients", "40", "--years", "1", "--no-progress")
    with pytest.raises(CommandError, match="正整数"):
        call_command("generate_synthetic", "--patients", "0", "--no-progress")
    with pytest.raises(CommandError, match="两位数字"):
        call_command("generate_synthetic", "--patients", "5", "--province", "7a", "--no-progress")
    with pytest.raises(AlreadyGenerated):
        generate(patients=1, years=1, seed=1, province="71")
    out = io.StringIO()
    call_command("generate_synthetic", "--patients", "5", "--province", "72", "--no-state", "--no-progress", stdout=out)
    assert "rebuild_indicator_state" in out.getvalue() and Patient.objects.count() == 45


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_overlapped_writing_on_a_second_connection() -> None:
    threads: set[int] = set()

    def listener(**kwargs: Any) -> None:
        threads.add(threading.get_ident())

    patient_facts_changed.connect(listener)
    try:
        summary = generate(patients=300, years=1, seed=2, today=TODAY, province="72", batch_size=100, overlap=True)
    finally:
        patient_facts_changed.disconnect(listener)
    assert summary.patients == Patient.objects.count() == 300
    assert FollowUp.objects.count() == summary.followups > 0
    assert threads and threading.get_ident() not in threads  # written on the writer thread
    assert connection.vendor == "postgresql"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_workers_write_the_same_data_as_one_process() -> None:
    """Counties are built from their own random generators: which process builds one does not matter."""
    options: dict[str, Any] = {"patients": 5000, "years": 1, "seed": 8, "today": TODAY, "batch_size": 1000}
    one = generate(province="71", **options)
    two = generate(province="72", workers=2, overlap=True, **options)
    assert one.counties == two.counties == 2
    assert (one.patients, one.followups) == (two.patients, two.followups)
    assert _digest("71") == _digest("72")
    events = AuditSubject.objects.filter(event__detail__source="generate_synthetic")
    assert events.count() == Patient.objects.count() == 10000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failing_worker_stops_the_run_and_keeps_only_whole_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    from devdata.synthetic import build, run

    add_patient = build.CountyBuilder.add_patient
    built = Counter[str]()

    def failing(self: build.CountyBuilder, batch: build.Batch, patient_id: int) -> None:
        built[self.county] += 1
        if self.county == "710102000000" and built[self.county] == 1234:  # the second county, after two batches
            raise RuntimeError("disk full")
        add_patient(self, batch, patient_id)

    monkeypatch.setattr(build.CountyBuilder, "add_patient", failing)  # forked workers inherit the patch
    with pytest.raises(run.WorkerFailed, match="RuntimeError: disk full"):
        generate(patients=5000, years=1, seed=1, today=TODAY, province="71", batch_size=500, workers=2)
    written = Patient.objects.count()
    assert 1000 <= written < 5000
    # Each batch is one transaction with its forms and audit subjects: nothing of a broken batch remains.
    assert AuditSubject.objects.count() == written == SupplementaryForm.objects.count()
    assert not FollowUp.objects.exclude(patient__in=Patient.objects.all()).exists()
    monkeypatch.setattr("devdata.management.commands.generate_synthetic.generate", _raise_worker_failed)
    with pytest.raises(CommandError, match="生成中断"):
        call_command("generate_synthetic", "--patients", "10", "--province", "73", "--no-progress")


def _raise_worker_failed(**options: Any) -> Any:
    from devdata.synthetic.run import WorkerFailed

    raise WorkerFailed("RuntimeError: disk full")


def test_the_announced_indicator_state_agrees_with_the_direct_definition() -> None:
    """The per-batch announcements leave the indicator state exactly where the records say it should be."""
    from metrics.indicators.periods import parse_period
    from metrics.reports.engine import compute, compute_direct

    generate(patients=200, years=2, seed=4, province="71", batch_size=80)
    area = Area.objects.get(code="710000000000")
    year = timezone.localdate().year
    for text in (str(year - 1), f"{year - 1}-Q3", f"{year}-01"):
        period = parse_period(text)
        fast = compute(area, period, children=True).document()
        direct = compute_direct(area, period, children=True).document()
        fast.pop("computed_at", None)
        direct.pop("computed_at", None)
        assert fast == direct, text


def test_the_bulk_sealer_writes_what_the_field_encryption_reads() -> None:
    from casemgmt.crypto import cipher as crypto

    sealer = crypto.BulkSealer()
    row = "01a22c03-e132-0001-c90b-adb085957739"
    tokens = {sealer.encrypt("张三", table="registry_patient", column="name", row_uuid=row) for _ in range(3)}
    assert len(tokens) == 3  # a fresh nonce each time
    assert {crypto.decrypt(t, table="registry_patient", column="name", row_uuid=row) for t in tokens} == {"张三"}
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tokens.pop(), table="registry_patient", column="phone", row_uuid=row)
    assert sealer.blind_index(" 张三 ", purpose="name", hex_length=4) == crypto.blind_index(
        "张三", purpose="name", hex_length=4
    )


def test_rendered_lines_read_back_to_the_values_they_hold() -> None:
    from devdata.synthetic.writer import _read_line, cells

    values = ("a\tb", "line\nbreak\r", "back\\slash\\N", None, True, 3, dt.date(2026, 1, 2), "")
    line = cells(values) + "\n"
    assert line.count("\t") == len(values) - 1 and line.count("\n") == 1
    assert _read_line(line) == ["a\tb", "line\nbreak\r", "back\\slash\\N", None, "t", "3", "2026-01-02", ""]


# --- the real map -----------------------------------------------------------------------------------------------


def test_apportion_adds_up_and_follows_the_weights() -> None:
    from devdata.synthetic.realmap import apportion

    assert apportion(10, {"a": 1.0, "b": 1.0, "c": 1.0}) == {"a": 4, "b": 3, "c": 3}  # ties in key order
    assert apportion(7, {"a": 600.0, "b": 300.0, "c": 100.0}) == {"a": 4, "b": 2, "c": 1}
    assert apportion(5, {"a": 0.0}) == {"a": 0}
    assert sum(apportion(1000, {str(i): float(i) for i in range(1, 40)}).values()) == 1000


def test_a_real_province_plans_counties_by_census_population() -> None:
    from casemgmt.areas.nbs2023_files import census_rows
    from devdata.synthetic import realmap

    realmap.load_tree("34")
    census = {code: people for code, _name, people in census_rows()}
    weights = realmap.county_weights(realmap.villages_by_county("34"), TODAY.year)
    assert len(weights) == 119
    assert weights["340202000000"] == census["340202"]  # 镜湖区
    # A development zone without a census figure shares what its city's figure leaves over.
    wuhu_known = sum(w for code, w in weights.items() if code.startswith("3402") and code != "340272000000")
    assert weights["340272000000"] == census["340200"] - wuhu_known > 0
    assert round(sum(weights.values())) == census["340000"]  # the cities' totals add up to the province's
    counties = realmap.plan_counties("34", patients=None, year=TODAY.year)
    assert sum(c.patients for c in counties) == round(census["340000"] * realmap.PER_THOUSAND / 1000)
    scaled = {c.code: c.patients for c in realmap.plan_counties("34", patients=1190, year=TODAY.year)}
    assert sum(scaled.values()) == 1190
    assert scaled["340202000000"] == round(1190 * census["340202"] / census["340000"])
    villages = {c.code: c.villages for c in counties}
    assert len(villages["340202000000"]) == Area.objects.filter(code__startswith="340202", level=5).count() > 0


def test_a_real_province_places_patients_in_its_real_villages() -> None:
    summary = generate(patients=150, years=1, seed=2, today=TODAY, province="34", batch_size=100)
    assert summary.patients == Patient.objects.count() == 150
    villages = set(Patient.objects.values_list("village_id", flat=True))
    real = set(Area.objects.filter(level=5, code__in=villages).values_list("code", flat=True))
    assert villages == real and all(code.startswith("34") for code in villages)
    assert Area.objects.get(code="340202000000").name == "镜湖区"
    assert not Area.objects.filter(code__startswith="71").exists()
    by_county = Counter(code[:6] for code in Patient.objects.values_list("village_id", flat=True))
    assert by_county["340104"] > by_county["340202"]  # 蜀山区 (1,047,150 residents) over 镜湖区 (478,658)
    # the census populations are the denominators: prevalence is known for the province and its cities
    from casemgmt.areas.population import population_of

    assert (
        population_of("340000000000", TODAY.year).total == AreaPopulation.objects.get(area_id="340000000000").population
    )
    with pytest.raises(AlreadyGenerated):
        generate(patients=10, years=1, seed=2, today=TODAY, province="34")


def test_the_command_on_the_real_map() -> None:
    out = io.StringIO()
    call_command(
        "generate_synthetic", "--province", "34", "--patients", "30", "--years", "1", "--no-progress", stdout=out
    )
    assert "30 名患者" in out.getvalue()
    assert Patient.objects.filter(village__code__startswith="34").count() == 30
    with pytest.raises(CommandError, match="已存在或已有患者"):
        call_command("generate_synthetic", "--province", "34", "--patients", "30", "--no-progress")
    with pytest.raises(CommandError, match="已存在或已有患者：请换一个省代码"):
        call_command("generate_synthetic", "--country", "--patients", "30", "--no-progress")
    with pytest.raises(CommandError, match="--patients"):
        call_command("generate_synthetic", "--province", "71", "--no-progress")
    with pytest.raises(CommandError):
        call_command("generate_synthetic", "--province", "34", "--country", "--no-progress")


def test_one_real_city() -> None:
    summary = generate(patients=None, years=1, seed=3, today=TODAY, area="340202", batch_size=500)
    expected = round(AreaPopulation.objects.get(area_id="340202000000").population * 4.6 / 1000)
    assert summary.patients == Patient.objects.count() == expected  # 镜湖区 at 4.6 per thousand
    assert summary.counties == 1
    assert not Patient.objects.exclude(village__code__startswith="340202").exists()
    with pytest.raises(CommandError, match="2023年统计用区划代码中没有区划“3499”"):
        call_command("generate_synthetic", "--area", "3499", "--patients", "5", "--no-progress")
    with pytest.raises(CommandError, match="--area 应为4位"):
        call_command("generate_synthetic", "--area", "34", "--no-progress")
