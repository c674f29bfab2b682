"""The state's per-patient rows against the pure definition, on random facts (no database, many examples).

The database property test (test_state_equivalence.py) goes through the real writers but can afford only a few
dozen registries; this one feeds ``metrics.state.compute.patient_rows`` thousands of fact sets — same-day follow-ups,
cases and emergency handlings included — and decodes each slot's bits into the Tally that
``definitions.membership`` gives for every option combination.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.indicators.definitions import (
    DEATHS_IN_PERIOD,
    REGULAR_MANAGEMENT_RULES,
    SCHIZOPHRENIA,
    CustodyFact,
    FollowUpFact,
    Options,
    PatientFacts,
    StatusFact,
    Tally,
    membership,
)
from metrics.state.calendar import slot_periods
from metrics.state.compute import patient_rows
from metrics.state.read import COUNT_COLUMNS_BY_NAME

DAY = dt.date(2025, 11, 20)  # "today" for the state: a running month, quarter and year
FIRST = dt.date(2023, 1, 1)
days = st.integers(0, (DAY - FIRST).days + 60).map(lambda n: FIRST + dt.timedelta(days=n))
near = st.sampled_from([dt.date(2024, 3, 31), dt.date(2024, 4, 1), dt.date(2025, 8, 20), dt.date(2025, 11, 20)])
any_day = st.one_of(days, near)

followups = st.builds(
    FollowUpFact,
    date=any_day,
    outcome=st.sampled_from(["REACHED", "REACHED", "NOT_REACHED"]),
    risk_level=st.one_of(st.none(), st.integers(0, 5)),
    hospitalisation=st.sampled_from([None, 0, 1, 2]),
    adherence=st.one_of(st.none(), st.integers(1, 4)),
    mode=st.integers(1, 3),
    classification=st.integers(1, 3),
    family_support=st.booleans(),
    next_date=st.one_of(st.none(), any_day),
    minor_trouble=st.integers(0, 1),
    trouble=st.integers(0, 1),
    disaster=st.integers(0, 1),
)


def _span(start: dt.date, end: dt.date | None) -> tuple[dt.date, dt.date | None]:
    return start, None if end is None else max(start, end)


spans = st.builds(_span, any_day, st.one_of(st.none(), any_day))


@st.composite
def patients(draw: Any) -> PatientFacts:
    registered_on = draw(any_day)
    statuses = [StatusFact(registered_on, draw(st.sampled_from(["ACTIVE", "ACTIVE", "REFUSED"])))]
    for _ in range(draw(st.integers(0, 3))):
        status = draw(st.sampled_from(["ACTIVE", "LOST", "REFUSED", "DEAD", "CLOSED"]))
        statuses.append(
            StatusFact(draw(any_day), status, draw(st.sampled_from([None, 1, 2])) if status == "DEAD" else None)
        )
    moves = sorted(draw(st.lists(any_day, max_size=2)))
    starts = [registered_on, *(d for d in moves if d > registered_on)]
    codes = draw(st.lists(st.sampled_from(["320508001001", "320508002001", "320509001001"]), min_size=3, max_size=3))
    custody = tuple(
        CustodyFact(codes[i], start, starts[i + 1] if i + 1 < len(starts) else None) for i, start in enumerate(starts)
    )
    return PatientFacts(
        key="7",
        disorder=draw(st.sampled_from([1, 1, 4, 99])),
        registered_on=registered_on,
        statuses=tuple(statuses),
        custody=custody,
        followups=tuple(sorted(draw(st.lists(followups, max_size=14)), key=lambda f: f.date)),
        rehab=tuple(draw(st.lists(spans, max_size=2))),
        health_checks=tuple(draw(st.lists(any_day, max_size=2))),
        cases=tuple(draw(st.lists(spans, max_size=2))),
        emergencies=tuple(sorted(draw(st.lists(any_day, max_size=3)))),
    )


def stored_mask(row: dict[str, Any], column: str) -> int:
    """A mask as the totals query reads it (``read.mask_sql``): an ``_x`` one is the ``_i`` one without the slots
    of a death in the period."""
    if column.endswith("_x"):
        return int(row.get(f"{column[:-2]}_i", 0)) & ~int(row.get("died", 0))
    return int(row.get(column, 0))


def decoded(rows: list[dict[str, Any]], year: int, slot: int, options: Options, prefix: str) -> Tally:
    """What the totals query would sum for this patient, area *prefix*, *year* and *slot*."""
    tally = Tally()
    v = "i" if options.deaths_in_period == "included" else "x"
    columns = {name: column.format(v=v) for name, column in COUNT_COLUMNS_BY_NAME.items()}
    columns["regular"] = f"regular3m_{v}" if options.regular_management == "interval-3m" else f"regular_{v}"
    schizophrenia = {"schizophrenia": "registered", "schizophrenia_medication": "medication"}
    schizophrenia["schizophrenia_managed"] = "managed"
    for row in rows:
        if row["year"] != year or not row["area_code"].startswith(prefix):
            continue
        for name, column in columns.items():
            if name in schizophrenia and row["disorder"] != SCHIZOPHRENIA:
                continue
            mask = stored_mask(row, f"{schizophrenia[name]}_{v}" if name in schizophrenia else column)
            if (mask >> slot) & 1:
                tally.counts[name] += 1
        if (row.get("died", 0) >> slot) & 1:
            tally.deaths_by_cause[row["death_cause"] or 0] += 1
    return tally


@settings(max_examples=400, deadline=None)
@given(facts=patients(), prefix=st.sampled_from(["32", "320508", "320508001", "320509001001"]))
def test_the_rows_of_one_patient_decode_to_the_definition(facts: PatientFacts, prefix: str) -> None:
    rows = patient_rows(facts, range(2023, DAY.year + 1), DAY)
    for year in range(2023, DAY.year + 1):
        for slot, period in enumerate(slot_periods(year, DAY)):
            if period.start > DAY:
                continue
            for rule in REGULAR_MANAGEMENT_RULES:
                for deaths in DEATHS_IN_PERIOD:
                    options = Options(regular_management=rule, deaths_in_period=deaths)
                    expected = Tally()
                    expected.add(membership(facts, prefix, period, options))
                    got = decoded(rows, year, slot, options, prefix)
                    assert +got.counts == +expected.counts, (year, slot, options)
                    assert +got.deaths_by_cause == +expected.deaths_by_cause, (year, slot, options)
