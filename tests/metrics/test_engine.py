"""The engine over a small registry built through the real registry services.

Year Y lies three years back, so the two patients ``build_world`` registers (400 days ago) fall after its
cut-off and stay out of every figure here.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from casemgmt.areas.models import Area, AreaLevel, AreaPopulation
from metrics.indicators.definitions import Options
from metrics.indicators.facts import iter_facts
from metrics.indicators.periods import SHANGHAI, parse_period
from metrics.reports.engine import AreaNotFound, compute, compute_indicators, find_area
from registry import codes
from registry.models import CustodySpan, Patient
from registry.patients import services
from registry.signals import announce_patient_change
from tests.base import TODAY, World, make_area
from tests.base import make_patient as make_base_patient

Y = TODAY.year - 3
D = dt.date
pytestmark = pytest.mark.django_db


def day(month: int, dom: int, year: int = Y) -> dt.date:
    return D(year, month, dom)


def accept_transfer(patient: Patient, village: Area, on: dt.date) -> None:
    """What accepting a transfer does to the custody history (domain.md §4.4)."""
    CustodySpan.objects.filter(patient=patient, end_date__isnull=True).update(end_date=on)
    CustodySpan.objects.create(patient=patient, area=village, start_date=on)
    Patient.objects.filter(pk=patient.pk).update(village=village)
    announce_patient_change(patient_id=patient.pk, since=on)


@dataclass
class Registry:
    world: World
    other_village: Area
    patients: dict[str, Patient]


@pytest.fixture
def registry(world: World) -> Registry:
    w = world
    other_county = make_area("320509000000", "另一区", AreaLevel.COUNTY, w.city)
    other_township = make_area("320509001000", "丙街道", AreaLevel.TOWNSHIP, other_county)
    other_village = make_area("320509001001", "丙一社区", AreaLevel.VILLAGE, other_township)
    for code, population in (("320508001001", 3000), ("320508001002", 4000), ("320508002001", 5000)):
        AreaPopulation.objects.create(area_id=code, year=Y, population=population)
    a1, b1 = w.village_a1, w.village_b1
    births = iter(D(1960 + i, 1 + i % 12, 1 + i) for i in range(28))

    def make_patient(actor: Any, village: Area, **fields: Any) -> Patient:
        """A distinct birth date each: synthetic ID numbers otherwise collide within a fixture."""
        return make_base_patient(actor, village, birth_date=next(births), **fields)

    p = {
        "new_a": make_patient(w.doctor_a, a1, registered_on=day(3, 1)),
        "old_b": make_patient(w.doctor_b, b1, registered_on=day(5, 1, Y - 1), disorder=codes.Disorder.BIPOLAR),
        "other_99": make_patient(w.doctor_a, a1, registered_on=day(2, 1), disorder=codes.Disorder.OTHER),
        "dead_a": make_patient(w.doctor_a, a1, registered_on=day(1, 10, Y - 2)),
        "closed_a": make_patient(w.doctor_a, a1, registered_on=day(4, 1)),
        "lost_b": make_patient(w.doctor_b, b1, registered_on=day(1, 10, Y - 2)),
        "refused_b": make_patient(w.doctor_b, b1, registered_on=day(1, 10, Y - 2), consent=0),
        "out_before_c": make_patient(w.doctor_a, a1, registered_on=day(1, 10, Y - 2)),
        "out_after_c": make_patient(w.doctor_a, a1, registered_on=day(1, 10, Y - 2)),
        "after_c": make_patient(w.doctor_a, a1, registered_on=day(1, 5, Y + 1)),
    }
    services.change_status(
        actor=w.doctor_a,
        patient=p["dead_a"],
        to_status=codes.Status.DEAD,
        effective_date=day(6, 1),
        death_cause=codes.DeathCause.SUICIDE,
    )
    closure = services.request_closure(
        actor=w.doctor_a, patient=p["closed_a"], effective_date=day(9, 1), reason=codes.ClosureReason.DUPLICATE
    )
    services.decide_closure(actor=w.doctor_a2, closure=closure, confirm=True)
    services.change_status(
        actor=w.doctor_b, patient=p["lost_b"], to_status=codes.Status.LOST, effective_date=day(7, 1), lost_reason=1
    )
    accept_transfer(p["out_before_c"], other_village, day(10, 1))
    accept_transfer(p["out_after_c"], other_village, day(2, 1, Y + 1))
    return Registry(w, other_village, p)


def counts_of(document: dict[str, Any]) -> dict[str, Any]:
    return document["counts"]


def test_registered_prevalence_and_counts(registry: Registry) -> None:
    document = compute_indicators("320508000000", parse_period(str(Y)))
    # new_a, old_b, lost_b, refused_b, out_after_c (held here at C)
    assert counts_of(document)["registered"] == 5
    assert document["indicators"]["reported_prevalence"] == {
        "numerator": 5,
        "denominator": 12000,
        "value": pytest.approx(5 / 12000 * 1000),
    }
    assert document["indicators"]["lost_rate"]["numerator"] == 1
    assert counts_of(document)["new_registrations"] == 1  # new_a; closed_a was withdrawn, other_99 never counts
    assert counts_of(document)["deaths"] == 1
    assert counts_of(document)["deaths_by_cause"]["2"] == 1
    assert document["indicators"]["management_rate"] == {"numerator": 0, "denominator": 5, "value": 0.0}
    assert document["children"] == []
    assert "missing_population" not in document


def test_a_transfer_counts_for_the_holder_at_the_cutoff(registry: Registry) -> None:
    period = parse_period(str(Y))
    receiving = compute_indicators("320509", period)
    assert counts_of(receiving)["registered"] == 1  # out_before_c
    next_year = compute_indicators("320509", parse_period(str(Y + 1)))
    assert counts_of(next_year)["registered"] == 2  # both moved by the end of Y+1


def test_deaths_in_period_option(registry: Registry) -> None:
    included = Options(deaths_in_period="included")
    document = compute_indicators("320508", parse_period(str(Y)), included)
    assert counts_of(document)["registered"] == 6
    assert document["options"]["deaths_in_period"] == "included"


def test_children_split_the_area_by_holder(registry: Registry) -> None:
    document = compute_indicators("320508", parse_period(str(Y)), children=True)
    children = {child["area"]["code"]: child for child in document["children"]}
    assert list(children) == ["320508001000", "320508002000"]
    assert counts_of(children["320508001000"])["registered"] == 2  # new_a, out_after_c
    assert counts_of(children["320508002000"])["registered"] == 3  # old_b, lost_b, refused_b
    assert children["320508001000"]["indicators"]["reported_prevalence"]["denominator"] == 7000
    assert children["320508001000"]["area"] == {"code": "320508001000", "name": "甲街道", "level": 4}


def test_missing_population_names_the_areas(registry: Registry) -> None:
    AreaPopulation.objects.filter(area_id="320508002001", year=Y).delete()
    document = compute_indicators("320508", parse_period(str(Y)), children=True)
    assert document["indicators"]["reported_prevalence"] == {"numerator": 5, "denominator": None, "value": None}
    assert document["missing_population"] == ["320508002001"]
    township_a, township_b = document["children"]
    assert "missing_population" not in township_a
    assert township_b["missing_population"] == ["320508002001"]


def test_facts_stream_in_chunks_with_a_fixed_number_of_queries(
    registry: Registry, django_assert_num_queries: Any
) -> None:
    period = parse_period(str(Y))
    whole = sorted(f.key for f in iter_facts("320508", period))
    assert sorted(f.key for f in iter_facts("320508", period, chunk_size=2)) == whole
    assert len(whole) == 7  # every candidate held here at C, whatever its status; not other_99, not after_c
    queries_per_chunk = 2 + 5 + 1  # statuses, custody; follow-ups, rehab, health checks, cases, emergencies; the page
    chunks = -(-len(whole) // 3)
    with django_assert_num_queries(chunks * queries_per_chunk + 1):  # + the empty page that ends the walk
        list(iter_facts("320508", period, chunk_size=3))


def test_find_area_accepts_codes_and_prefixes(registry: Registry) -> None:
    assert find_area("32").code == "320000000000"
    assert find_area("320508001").code == "320508001000"
    assert find_area("320508001001").name == "甲一社区"
    with pytest.raises(AreaNotFound, match="未找到"):
        find_area("330000")
    with pytest.raises(AreaNotFound, match="格式不正确"):
        find_area("32050")


# --- the command ------------------------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("indicators", *args, stdout=out)
    return out.getvalue()


def test_command_json_matches_the_contract(registry: Registry) -> None:
    document = json.loads(run("--area", "320508", "--period", str(Y), "--format", "json"))
    assert list(document) == [
        "area", "period", "rule_set", "options", "computed_at", "indicators", "counts", "children",
    ]  # fmt: skip
    assert document["area"] == {"code": "320508000000", "name": "姑苏区", "level": 3}
    assert document["period"] == {"start": f"{Y}-01-01", "end": f"{Y}-12-31"}
    assert document["rule_set"] == "bphs-2017"
    assert document["options"] == {
        "regular_management": "quarterly", "medication_denominator": "registered", "deaths_in_period": "excluded",
    }  # fmt: skip
    computed_at = dt.datetime.fromisoformat(document["computed_at"])
    assert computed_at.utcoffset() == dt.timedelta(hours=8)
    assert computed_at <= dt.datetime.now(SHANGHAI)
    assert list(document["indicators"]) == [
        "reported_prevalence", "management_rate", "regular_management_rate", "medication_rate",
        "regular_medication_rate", "schizophrenia_medication_rate", "face_to_face_rate", "stable_rate",
        "rehabilitation_rate", "lost_rate", "family_support_rate", "health_check_rate",
    ]  # fmt: skip
    for name, entry in document["indicators"].items():
        assert list(entry) == ["numerator", "denominator", "value"], name
    assert document["indicators"]["reported_prevalence"]["value"] == pytest.approx(5 / 12)
    assert document["indicators"]["stable_rate"] == {"numerator": 0, "denominator": 0, "value": None}
    assert list(document["counts"])[:8] == [
        "registered", "managed", "at_home", "new_registrations", "deaths", "overdue_at_cutoff", "open_cases",
        "emergencies",
    ]  # fmt: skip
    assert document["children"] == []


def test_command_options_and_children(registry: Registry) -> None:
    flags = ["--regular-management", "interval-3m", "--medication-denominator", "managed"]
    flags += ["--deaths-in-period", "included", "--children"]
    document = json.loads(run("--area", "320508000000", "--period", f"{Y}-Q3", *flags))
    assert document["options"] == {
        "regular_management": "interval-3m", "medication_denominator": "managed", "deaths_in_period": "included",
    }  # fmt: skip
    assert document["period"] == {"start": f"{Y}-07-01", "end": f"{Y}-09-30"}
    assert len(document["children"]) == 2


def test_command_table_is_readable(registry: Registry) -> None:
    text = run("--area", "320508", "--period", str(Y), "--format", "table", "--children")
    assert "姑苏区（320508000000）" in text
    assert "报告患病率" in text and "0.42‰" in text
    assert "病情稳定率" in text and "—" in text
    assert "甲街道" in text and "乙街道" in text
    assert "bphs-2017" in text and "自然季度" in text


def test_command_table_names_the_areas_without_a_population(registry: Registry) -> None:
    AreaPopulation.objects.filter(area_id__in=["320508001001", "320508001002"], year=Y).delete()
    text = run("--area", "320508", "--period", str(Y), "--format", "table")
    assert "常住人口缺失，报告患病率未知：甲街道 (320508001000)" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--area", "320508", "--period", "2025-Q5"), "季度"),
        (("--area", "320508", "--period", "2025-13"), "月份"),
        (("--area", "320508", "--period", "last year"), "格式不正确"),
        (("--area", "330000", "--period", "2025"), "未找到"),
        (("--area", "3205080", "--period", "2025"), "格式不正确"),
    ],
)
def test_command_errors_are_clear_and_chinese(registry: Registry, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_compute_gives_the_report_objects_for_pages(registry: Registry) -> None:
    report = compute(find_area("320508"), parse_period(str(Y)), Options(), children=True)
    assert report.area.tally.counts["registered"] == 5
    assert [child.area.code for child in report.children] == ["320508001000", "320508002000"]


def test_a_recorded_follow_up_makes_the_patient_managed(db: Any) -> None:
    import datetime as dt

    from metrics.indicators.facts import iter_facts as facts_of
    from tests.base import build_world
    from tests.followup.base import reached_data, record

    world = build_world()
    record(world.patient_a, world.doctor_a, reached_data(TODAY - dt.timedelta(days=1)))
    period = parse_period(str(TODAY.year))
    facts = {f.key: f for f in facts_of("320508", period)}
    followups = facts[str(world.patient_a.pk)].followups
    assert len(followups) == 1 and followups[0].is_complete
    assert facts[str(world.patient_b.pk)].followups == ()
