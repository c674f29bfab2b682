"""The set-based rebuild of the state on PostgreSQL: the rows ``metrics.state.compute`` would write, computed by a
handful of SQL statements over the whole registry instead of patient by patient in Python (issue 17 §1).

How. A patient-year is never expanded into its 26 slots: each fact becomes the bitmask of the slots it touches,
looked up by date in the tables of ``metrics.state.masks`` (passed as int[][] parameters, indexed by year and
day), and each rule of ``metrics.state.slots`` becomes an expression over such masks, aggregated per patient-year
with ``bit_or``:

- a status change holds from its day to the next change (ordered by day, then record): ``ge(day) & ~ge(next)``
  are the slots whose cut-off falls in that interval, i.e. where it is the status at C; a custody span the same
  (the first span in record order wins where two overlap); a reached follow-up decides "overdue" from its day to
  the next day with a reached follow-up (the first of a day, as ``max`` picks);
- "in the period" is ``ge(x) & sle(x)``; "≥ k complete follow-ups in the period" is a complete follow-up in the
  period whose (k-1)-th predecessor is too; the last complete follow-up of the period is the one whose interval
  up to the next complete one holds C, and which lies after S;
- the quarterly rule: the quarters a slot requires are its own, from registration on, up to a death in the
  period; ``regq`` tabulates per 4-bit mask of required-but-missing quarters the slots where none is missing,
  and ``need`` the follow-ups the interval-3m rule asks for; its gaps are pairs of consecutive complete
  follow-ups both in the period, plus the window's two ends.

A patient has at most one DEAD status change (the registry allows no transition out of DEAD,
``registry.patients.services``), so the day and cause of death are one per patient-year.

The rows are then cut per (holder village, death cause) like ``compute._emit``, emergency layers included, with
``valid_until`` for the current year. ``insert_totals`` then sums them per township without expanding them to
their 26 slots (packed sums, see there). The property test (tests/metrics/test_state_equivalence.py) proves the rows
equal the incremental path's (``compute``), and the documents the direct definition's, for every option.

May import ``metrics.indicators``, ``metrics.models`` and the state modules ``calendar``, ``masks``, ``read``.
"""

# ruff: noqa: S608  (the SQL is assembled from model table names and this module's expressions; values are parameters)
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from metrics.indicators.periods import Quarter, month_end
from metrics.models import COUNT_COLUMNS, DERIVED_MASKS, MASK_COLUMNS, AreaSlotState, PatientYearState
from metrics.state.calendar import SLOTS
from metrics.state.masks import KINDS, SPAN, year_masks
from metrics.state.read import TOTALS_DIGITS, alike_rows, bit_of, counted_mask, mask_sql, total_expression

FAR, NEVER = "DATE '9999-12-31'", "DATE '1900-01-01'"
TEMP_TABLES = ("jf_py", "jf_st", "jf_hold", "jf_cf", "jf_fu", "jf_side", "jf_em", "jf_vu", "jf_m")


SESSION_SETTINGS = (
    # The windows' sorts and the groupings' hashes stay in memory: a half of 500,000 patients spilled two sorts
    # at 256 MB (115 and 174 MB), none at 512 MB.
    "SET LOCAL work_mem = '512MB'",
    # JIT compiling the statements' hundreds of mask expressions costs more than it saves (totals: 29 s against
    # 14 s on 100,000 patients).
    "SET LOCAL jit = off",
)
# Over the whole registry every join is between whole tables: hash joins, never a lookup per row (the planner
# underestimates the joins on (pid, year) and chose 500,000 index lookups of jf_py for jf_m: 3 of its 4 s).
WHOLE_REGISTRY_SETTINGS = ("SET LOCAL enable_nestloop = off",)
# The temporary tables are analysed for their sizes (which side of a join to hash): a sample of 3,000 rows says as
# much as the default 30,000 at a tenth of the cost (0.5 s of each pass on 50,000 patients).
PASS_SETTINGS = ("SET LOCAL default_statistics_target = 10",)
PASS_RESET = ("SET LOCAL default_statistics_target TO DEFAULT",)
# ... and only for these statements: the rest of the transaction (the totals of a workbook's patients, 3.6 s with
# nested loops and 5.5 s without) plans as usual.
WHOLE_REGISTRY_RESET = ("SET LOCAL enable_nestloop TO DEFAULT",)


def _at(kind: str, date_sql: str, year: str = "py.year") -> str:
    """The *kind* mask of a date for the slots of *year*; dates outside the table clamp to its ends."""
    index = f"LEAST(GREATEST(({date_sql}) - make_date({year} - 1, 1, 1), 0), {SPAN - 1}) + 1"
    return f"(%({kind})s::int[])[{year} - %(y0)s + 1][{index}]"


def _ge(x: str, year: str = "py.year") -> str:
    return _at("ge", x, year)


def _sle(x: str, year: str = "py.year") -> str:
    return _at("sle", x, year)


def _in(x: str, year: str = "py.year") -> str:
    """Slots whose period holds the date *x* (NULL: none)."""
    return _at("in", f"COALESCE({x}, {NEVER})", year)


def _until(start: str, end: str, year: str = "py.year") -> str:
    """Slots whose cut-off lies in [start, end) (end NULL: open)."""
    return f"({_ge(start, year)} & ~{_ge(f'COALESCE({end}, {FAR})', year)})"


def _plus3(date_sql: str) -> str:
    return f"(({date_sql}) + INTERVAL '3 months')::date"


def _table(model_label: str) -> str:
    from django.apps import apps

    return connection.ops.quote_name(apps.get_model(model_label)._meta.db_table)


def _tables() -> tuple[str, ...]:
    labels = (
        *("registry.Patient", "registry.StatusChange", "registry.CustodySpan", "followup.FollowUp"),
        *("followup.HealthCheck", "followup.RehabParticipation", "followup.Case", "followup.Emergency"),
    )
    return tuple(_table(label) for label in labels)


COMPLETE = "f.outcome = 'REACHED' AND (f.risk_level IS NOT NULL OR f.hospitalisation = 1)"


AMONG_IDS = " AND {column} IN (SELECT pid FROM jf_py)"  # the facts of the patients of jf_py only
AMONG_RANGE = " AND {column} BETWEEN %(lo)s AND %(hi)s"  # the facts of the patients of an id range only


def _statements(patient_filter: str, among: str | None = None, *, indexed: bool = True) -> list[str]:
    """The temporary tables, each one pass: patient-years, statuses, holders, follow-ups, the other facts.
    *among* (a template over ``{column}``, the patient id column of a fact table) restricts the facts read;
    by default to jf_py's patients when *patient_filter* restricts them. *indexed*: the patient-years get an index
    (for a few patients' lookups; joins over whole tables hash instead)."""
    patient, status, custody, followup, check, rehab, case, emergency = _tables()
    if among is None:
        among = "" if not patient_filter else AMONG_IDS
    years_of = "generate_series(EXTRACT(YEAR FROM {start})::int, LEAST(EXTRACT(YEAR FROM {end})::int, %(y1)s))"
    # Without the join to jf_py (a lookup per fact): rows of other patient-years are never joined to jf_py later.
    rebuilt_years = (
        "generate_series(GREATEST(EXTRACT(YEAR FROM {start})::int, %(y0)s),"
        " LEAST(EXTRACT(YEAR FROM {end})::int, %(y1)s))"
    )
    return [
        # Patient-years: every year from registration (or the first rebuilt year) to the day's, with the masks
        # of the registration day.
        f"""CREATE TEMP TABLE jf_py ON COMMIT DROP AS
        SELECT pid, year, disorder, reg, {_ge("reg", "year")} AS ge_reg, {_sle("reg", "year")} AS sle_reg,
               {_at("qfrom", "reg", "year")} AS qfrom_reg, {_plus3("reg")} AS reg3
        FROM (SELECT p.id AS pid, y.year::int AS year, p.disorder, p.registered_on AS reg
              FROM {patient} p,
                   generate_series(GREATEST(EXTRACT(YEAR FROM p.registered_on)::int, %(y0)s), %(y1)s) y(year)
              WHERE p.disorder BETWEEN 1 AND 6 AND y.year = ANY(%(years)s) {patient_filter}) py""",
        *(["CREATE INDEX ON jf_py (pid, year)"] if indexed else []),  # lookups of a few patients' years
        # Status at C, by interval; deaths in the period (S <= day of death).
        f"""CREATE TEMP TABLE jf_st ON COMMIT DROP AS
        WITH s AS (
            SELECT patient_id AS pid, to_status AS st, effective_date AS e, COALESCE(death_cause, 0) AS cause,
                   LEAD(effective_date) OVER (PARTITION BY patient_id ORDER BY effective_date, id) AS nx
            FROM {status} WHERE TRUE {among.format(column="patient_id")}
        ), m AS (
            SELECT py.pid, py.year, s.st, s.e, s.cause, {_until("s.e", "s.nx")} AS m, {_sle("s.e")} AS started
            FROM s CROSS JOIN LATERAL {years_of.format(start="s.e", end=f"COALESCE(s.nx - 1, {FAR})")} y(year)
            JOIN jf_py py ON py.pid = s.pid AND py.year = y.year
        )
        SELECT pid, year, bit_or(m) AS stany,
            COALESCE(bit_or(m) FILTER (WHERE st = 'CLOSED'), 0) AS closed,
            COALESCE(bit_or(m) FILTER (WHERE st IN ('ACTIVE', 'LOST', 'REFUSED')), 0) AS regx,
            COALESCE(bit_or(m) FILTER (WHERE st = 'LOST'), 0) AS lost,
            COALESCE(bit_or(m) FILTER (WHERE st = 'ACTIVE'), 0) AS active,
            COALESCE(bit_or(m & started) FILTER (WHERE st = 'DEAD'), 0) AS died,
            max(e) FILTER (WHERE st = 'DEAD') AS dead_e, max(cause) FILTER (WHERE st = 'DEAD') AS dead_cause
        FROM m GROUP BY pid, year""",
        # Holder at C, by custody span (the first span in record order wins).
        f"""CREATE TEMP TABLE jf_hold ON COMMIT DROP AS
        WITH c AS (
            SELECT py.pid, py.year, cs.area_id AS area, cs.start_date, cs.id,
                   {_until("cs.start_date", "cs.end_date")} AS m
            FROM {custody} cs
            CROSS JOIN LATERAL {years_of.format(start="cs.start_date", end=f"COALESCE(cs.end_date, {FAR})")} y(year)
            JOIN jf_py py ON py.pid = cs.patient_id AND py.year = y.year
        ), f AS (
            SELECT pid, year, area, m & ~COALESCE(bit_or(m) OVER (PARTITION BY pid, year ORDER BY start_date, id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS m
            FROM c
        )
        SELECT pid, year, area, bit_or(m) AS hm FROM f GROUP BY pid, year, area""",
        # Complete follow-ups with the masks of their day and of their neighbours (the patient's whole history, in
        # record order): the period holds it (ind) and its 1st-3rd predecessors (in1-in3), it is the period's last
        # complete one (last), the stable window holds it (win) ...
        f"""CREATE TEMP TABLE jf_cf ON COMMIT DROP AS
        SELECT pid, year, d, h, a, mode, cls, fam, {_plus3("d")} AS d3,
            {_in("d", "year")} AS ind, {_in("p1", "year")} AS in1, {_in("p2", "year")} AS in2,
            {_in("p3", "year")} AS in3, {_sle(f"COALESCE(p1, {NEVER})", "year")} AS sle_p1,
            {_in("d", "year")} & ~{_ge(f"COALESCE(nx, {FAR})", "year")} AS last, {_at("win", "d", "year")} AS win,
            {_at("s3lt", "d", "year")} AS s3lt, {_ge(_plus3("d") + " + 1", "year")} AS ge3,
            {_plus3("p1")} < d AS gap
        FROM (
            SELECT f.patient_id AS pid, EXTRACT(YEAR FROM f.date)::int AS year, f.date AS d, f.hospitalisation AS h,
                   f.adherence AS a, f.mode, f.classification AS cls, f.family_support AS fam,
                   LAG(f.date, 1) OVER w AS p1, LAG(f.date, 2) OVER w AS p2, LAG(f.date, 3) OVER w AS p3,
                   LEAD(f.date) OVER w AS nx
            FROM {followup} f
            WHERE {COMPLETE} {among.format(column="f.patient_id")}
            WINDOW w AS (PARTITION BY f.patient_id ORDER BY f.date, f.id)
        ) cf WHERE year BETWEEN %(y0)s AND %(y1)s""",
        """CREATE TEMP TABLE jf_fu ON COMMIT DROP AS
        SELECT py.pid, py.year,
            bit_or(cf.ind) AS man,
            COALESCE(bit_or(cf.ind) FILTER (WHERE cf.mode IN (1, 2)), 0) AS f2f,
            COALESCE(bit_or(cf.ind) FILTER (WHERE cf.fam), 0) AS fam,
            bit_or(1 << (EXTRACT(QUARTER FROM cf.d)::int - 1)) AS qm,
            COALESCE(bit_or(cf.last) FILTER (WHERE cf.h IS DISTINCT FROM 1), 0) AS home,
            COALESCE(bit_or(cf.last) FILTER (WHERE cf.h = 1 OR cf.a IN (1, 2)), 0) AS med,
            COALESCE(bit_or(cf.last) FILTER (WHERE cf.h = 1 OR cf.a = 1), 0) AS rmed,
            COALESCE(bit_or(cf.last & cf.win) FILTER (WHERE cf.h IS DISTINCT FROM 1 AND cf.cls = 3), 0) AS stable,
            bit_or(cf.last & cf.ge3) AS lastbad,
            COALESCE(bit_or(cf.last) FILTER (WHERE cf.d3 < st.dead_e), 0) AS lastbad_d,
            COALESCE(bit_or(cf.ind & cf.in1) FILTER (WHERE cf.gap), 0) AS gapbad,
            bit_or(cf.ind & cf.in1) AS cnt2, bit_or(cf.ind & cf.in2) AS cnt3, bit_or(cf.ind & cf.in3) AS cnt4,
            bit_or(cf.ind & ~cf.sle_p1 & (
                (CASE WHEN py.reg3 < cf.d THEN py.sle_reg ELSE 0 END) | (~py.sle_reg & cf.s3lt))) AS firstbad
        FROM jf_cf cf JOIN jf_py py ON py.pid = cf.pid AND py.year = cf.year
        LEFT JOIN jf_st st ON st.pid = cf.pid AND st.year = cf.year
        GROUP BY py.pid, py.year""",
        # Events, overdue, open cases, rehabilitation and health checks (one mask each per patient-year). Only
        # non-empty masks are grouped (jf_m reads a missing patient-year as 0): a reached visit followed by the next
        # one by the day after its next date is overdue nowhere (cut-offs in [max(d, nd + 1), nx) are none), which
        # is half of them (jf_side 1.7 -> 1.3 s per half of 100,000 patients).
        f"""CREATE TEMP TABLE jf_side ON COMMIT DROP AS
        WITH reached AS (
            SELECT pid, d, nd, LEAD(d) OVER (PARTITION BY pid ORDER BY d) AS nx FROM (
                SELECT DISTINCT ON (f.patient_id, f.date) f.patient_id AS pid, f.date AS d, f.next_date AS nd
                FROM {followup} f WHERE f.outcome = 'REACHED' {among.format(column="f.patient_id")}
                ORDER BY f.patient_id, f.date, f.id
            ) first_of_day
        ), masks AS (
            SELECT py.pid, py.year,
                CASE WHEN f.minor_trouble > 0 THEN {_in("f.date")} ELSE 0 END AS minor,
                CASE WHEN f.trouble > 0 THEN {_in("f.date")} ELSE 0 END AS trouble,
                CASE WHEN f.disaster > 0 THEN {_in("f.date")} ELSE 0 END AS disaster,
                0 AS ovd, 0 AS open, 0 AS rehab, 0 AS hc
                FROM {followup} f JOIN jf_py py ON py.pid = f.patient_id AND py.year = EXTRACT(YEAR FROM f.date)::int
                WHERE f.minor_trouble > 0 OR f.trouble > 0 OR f.disaster > 0
            UNION ALL SELECT r.pid, y.year, 0, 0, 0, {_until("r.d", "r.nx", "y.year")} & {_ge("r.nd + 1", "y.year")},
                    0, 0, 0
                FROM reached r
                CROSS JOIN LATERAL {rebuilt_years.format(start="r.d", end=f"COALESCE(r.nx - 1, {FAR})")} y(year)
                WHERE r.nd IS NOT NULL AND (r.nx IS NULL OR r.nd + 1 < r.nx) AND y.year = ANY(%(years)s)
            UNION ALL SELECT py.pid, py.year, 0, 0, 0, 0, {_until("c.opened_on", "c.closed_on")}, 0, 0
                FROM {case} c JOIN jf_py py ON py.pid = c.patient_id
            UNION ALL SELECT py.pid, py.year, 0, 0, 0, 0, 0,
                    {_ge("r.start_date")} & {_sle(f"COALESCE(r.end_date, {FAR})")}, 0
                FROM {rehab} r JOIN jf_py py ON py.pid = r.patient_id
            UNION ALL SELECT py.pid, py.year, 0, 0, 0, 0, 0, 0, {_in("h.date")}
                FROM {check} h JOIN jf_py py ON py.pid = h.patient_id AND py.year = EXTRACT(YEAR FROM h.date)::int
                WHERE h.consent
        )
        SELECT pid, year, bit_or(minor) AS minor, bit_or(trouble) AS trouble, bit_or(disaster) AS disaster,
            bit_or(ovd) AS ovd, bit_or(open) AS open, bit_or(rehab) AS rehab, bit_or(hc) AS hc
        FROM masks WHERE (minor | trouble | disaster | ovd | open | rehab | hc) <> 0 GROUP BY pid, year""",
        # Emergency handlings: the slots with at least k of them, per k (few patients have any).
        f"""CREATE TEMP TABLE jf_em ON COMMIT DROP AS
        WITH e AS (
            SELECT py.pid, py.year, {_in("(e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date")} AS m
            FROM jf_py py JOIN {emergency} e ON e.patient_id = py.pid
        ), per_slot AS (
            SELECT pid, year, s, count(*) AS n FROM e, generate_series(0, 25) s
            WHERE m & (1 << s) <> 0 GROUP BY pid, year, s
        )
        SELECT pid, year, k, bit_or(1 << s) AS m FROM per_slot, generate_series(1, n::int) k GROUP BY pid, year, k""",
    ]


def _masks_statement() -> str:
    """Every membership mask of a patient-year (before the split by holder and death), as ``slots`` defines them."""

    def lookup(name: str, m: str) -> str:
        return f"(%({name})s::int[])[py.year - %(y0)s + 1][({m}) + 1]"

    def count_ok(req: str) -> str:
        cnt = ["fu.man", "fu.cnt2", "fu.cnt3", "fu.cnt4"]
        return "(" + " | ".join(f"({lookup(f'need{k + 1}', req)} & {c})" for k, c in enumerate(cnt)) + ")"

    # q.req_nd / q.req_d: the quarters required from registration on (and up to a death in the period);
    # q.m_nd / q.m_d: those of them lacking a complete follow-up.
    regq = f"(({lookup('regq', 'q.m_nd')} & ~py.died) | ({lookup('regq', 'q.m_d')} & py.died))"
    r3m = (
        "(fu.man & ~fu.gapbad & ~fu.firstbad & ~(fu.lastbad & ~py.died) & ~(fu.lastbad_d & py.died)"
        f" & (({count_ok('q.req_nd')} & ~py.died) | ({count_ok('q.req_d')} & py.died)))"
    )
    return f"""CREATE TEMP TABLE jf_m ON COMMIT DROP AS
    WITH base AS (
        SELECT py.pid, py.year, py.disorder, py.reg, py.sle_reg, py.qfrom_reg, a.a, st.died & a.a AS died,
               COALESCE(st.dead_cause, 0) AS dead_cause, st.dead_e, st.regx, st.lost, st.active
        FROM jf_py py
        JOIN jf_st st ON st.pid = py.pid AND st.year = py.year
        JOIN (SELECT pid, year, bit_or(hm) AS hany FROM jf_hold GROUP BY pid, year) h
            ON h.pid = py.pid AND h.year = py.year,
        LATERAL (SELECT py.ge_reg & h.hany & st.stany & ~st.closed AS a) a
    )
    SELECT py.pid, py.year, py.disorder, py.a, py.died, py.dead_cause,
        py.a & (py.regx | py.died) AS ri,
        py.sle_reg & py.a AS newreg,
        COALESCE(sd.minor, 0) & py.a AS minor, COALESCE(sd.trouble, 0) & py.a AS trouble,
        COALESCE(sd.disaster, 0) & py.a AS disaster,
        py.lost, COALESCE(sd.ovd, 0) & py.active AS ovd, COALESCE(sd.open, 0) AS open,
        COALESCE(fu.man, 0) AS man, COALESCE(fu.home, 0) AS home, COALESCE(fu.med, 0) AS med,
        COALESCE(fu.rmed, 0) AS rmed, COALESCE(fu.f2f, 0) AS f2f, COALESCE(fu.fam, 0) AS fam,
        COALESCE(sd.hc, 0) & COALESCE(fu.man, 0) AS hc, COALESCE(fu.stable, 0) AS stable,
        COALESCE(sd.rehab, 0) & COALESCE(fu.home, 0) AS rehab,
        COALESCE({regq} & fu.man, 0) AS regq, COALESCE({r3m}, 0) AS r3m
    FROM base py
    LEFT JOIN jf_fu fu ON fu.pid = py.pid AND fu.year = py.year
    LEFT JOIN jf_side sd ON sd.pid = py.pid AND sd.year = py.year
    CROSS JOIN LATERAL (
        SELECT req_nd, req_d, req_nd & ~COALESCE(fu.qm, 0) AS m_nd, req_d & ~COALESCE(fu.qm, 0) AS m_d
        FROM (SELECT py.qfrom_reg AS req_nd,
                     py.qfrom_reg & {_at("qupto", f"COALESCE(py.dead_e, {FAR})")} AS req_d OFFSET 0) r
        OFFSET 0
    ) q"""


# The state columns of a row, from the masks of jf_m (``m``) and the row's slots (``rs``).
SET_MASKS = {
    "registered": "{R}", "managed": "m.man", "at_home": "m.home", "regular": "m.regq", "regular3m": "m.r3m",
    "medication": "m.med", "regular_medication": "m.rmed", "face_to_face": "m.f2f", "stable": "m.stable",
    "rehabilitation": "m.rehab", "lost": "m.lost", "family_support": "m.fam", "health_check": "m.hc",
    "overdue": "m.ovd", "open_case": "m.open",
}  # fmt: skip
EVENT_MASKS = {"new_registration": "m.newreg", "minor_trouble": "m.minor", "trouble": "m.trouble"}
EVENT_MASKS |= {"disaster": "m.disaster", "died": "m.died"}


def _column_expressions() -> dict[str, str]:
    columns: dict[str, str] = {}
    for name, mask in SET_MASKS.items():  # deaths in the period included (excluded is derived from them)
        columns[f"{name}_i"] = f"({mask.format(R='m.ri')} & m.ri & rs)"
    for name, mask in EVENT_MASKS.items():
        columns[name] = f"({mask} & rs)"
    columns["emergency"] = "(COALESCE(em1.m, 0) & rs)"
    assert set(columns) == set(MASK_COLUMNS)  # noqa: S101  (a column added to the model must be added here)
    return columns


def _insert_statement(table: str | None = None) -> str:
    """The INSERT of the rows into the state table (or into *table*, a staging table of ``ROW_COLUMNS``)."""
    columns = _column_expressions()
    names = ", ".join(connection.ops.quote_name(c) for c in MASK_COLUMNS)
    values = ", ".join(f"{columns[c]} AS {connection.ops.quote_name(c)}" for c in MASK_COLUMNS)
    table = table or connection.ops.quote_name(PatientYearState._meta.db_table)
    any_name = "((m.newreg | m.minor | m.trouble | m.disaster | m.ri | m.died | COALESCE(em1.m, 0)) & rs)"
    zeros = ", ".join("0" for _ in MASK_COLUMNS)
    stored = ", ".join(f"NULLIF({connection.ops.quote_name(c)}, 0)" for c in MASK_COLUMNS)  # an empty mask: NULL
    # A holder's slots split by the death cause (none, or the period's); one join of the holders to jf_m for
    # both the split and the masks (two joins cost ~10% of the statement).
    return f"""WITH rows AS (
        SELECT h.pid, h.year, h.area, k.cause, k.rs, m.disorder, {values}
        FROM jf_hold h JOIN jf_m m ON m.pid = h.pid AND m.year = h.year
        CROSS JOIN LATERAL (VALUES (NULL::int, h.hm & m.a & ~m.died), (m.dead_cause, h.hm & m.died)) k(cause, rs)
        LEFT JOIN jf_em em1 ON em1.pid = h.pid AND em1.year = h.year AND em1.k = 1
        WHERE k.rs <> 0 AND {any_name} <> 0
    ), layered AS (
        SELECT r.pid, r.year, r.area, r.disorder, r.cause, 0 AS layer, {names} FROM rows r
        UNION ALL
        SELECT r.pid, r.year, r.area, r.disorder, r.cause, e.k - 1, {", ".join("0" for _ in MASK_COLUMNS[:-1])},
               e.m & r.rs
        FROM rows r JOIN jf_em e ON e.pid = r.pid AND e.year = r.year AND e.k >= 2 AND e.m & r.rs <> 0
        UNION ALL
        SELECT py.pid, py.year, COALESCE(
                (SELECT cs.area_id FROM {_table("registry.CustodySpan")} cs WHERE cs.patient_id = py.pid
                 AND cs.start_date <= LEAST(make_date(py.year, 12, 31), %(day)s)
                 AND (cs.end_date IS NULL OR cs.end_date > LEAST(make_date(py.year, 12, 31), %(day)s))
                 ORDER BY cs.start_date, cs.id LIMIT 1),
                (SELECT cs.area_id FROM {_table("registry.CustodySpan")} cs WHERE cs.patient_id = py.pid
                 ORDER BY cs.start_date, cs.id LIMIT 1), ''),
            py.disorder, NULL, 0, {zeros}
        FROM jf_py py WHERE NOT EXISTS (SELECT 1 FROM rows r WHERE r.pid = py.pid AND r.year = py.year)
    )
    INSERT INTO {table} (patient_id, year, area_code, disorder, death_cause, layer, valid_until, {names})
    SELECT l.pid, l.year, l.area, l.disorder, l.cause, l.layer,
           CASE WHEN l.year = %(y_day)s THEN LEAST(%(base)s::date, vu.day) END, {stored}
    FROM layered l LEFT JOIN jf_vu vu ON vu.pid = l.pid
    ORDER BY l.year, l.area"""


def _valid_until_statement(among: bool | str = False) -> str:
    """The fact days in (day, base) of each patient (``compute.valid_until``: only the nearest one matters)."""
    _patient, status, custody, followup, check, rehab, case, emergency = _tables()
    complete = COMPLETE
    since = (
        f"COALESCE((SELECT max(r.date) FROM {followup} r WHERE r.patient_id = f.patient_id AND r.outcome = 'REACHED'"
        f" AND r.date < %(jan1)s), %(jan1)s)"
    )
    days = [
        f"""SELECT f.patient_id AS pid, x.day FROM {followup} f, LATERAL (VALUES (f.date), (f.next_date + 1),
            (CASE WHEN {complete} THEN (f.date + INTERVAL '3 months')::date END),
            (CASE WHEN {complete} THEN (f.date + INTERVAL '3 months')::date + 1 END)) x(day)
            WHERE f.date <= %(dec31)s AND (f.date >= %(low)s OR f.next_date >= %(day)s)
            AND (f.date >= %(jan1)s OR f.date >= {since})""",
        f"SELECT patient_id, effective_date FROM {status} WHERE effective_date > %(day)s",
        f"SELECT patient_id, x.day FROM {custody}, LATERAL (VALUES (start_date), (end_date)) x(day)",
        f"SELECT patient_id, x.day FROM {rehab}, LATERAL (VALUES (start_date), (end_date), (end_date + 1)) x(day)",
        f"SELECT patient_id, x.day FROM {case}, LATERAL (VALUES (opened_on), (closed_on), (closed_on + 1)) x(day)",
        f"SELECT patient_id, date FROM {check} WHERE consent AND date > %(day)s",
        f"SELECT patient_id, (occurred_at AT TIME ZONE 'Asia/Shanghai')::date FROM {emergency}"
        " WHERE patient_id IS NOT NULL AND occurred_at > %(day)s::timestamptz - INTERVAL '1 day'",
    ]
    if among is True:
        among = AMONG_IDS
    window = "WHERE day > %(day)s AND day < %(base)s" + (among.format(column="pid") if among else "")
    union = " UNION ALL ".join(f"SELECT * FROM ({q}) q(pid, day) {window}" for q in days)
    return f"CREATE TEMP TABLE jf_vu ON COMMIT DROP AS SELECT pid, min(day) AS day FROM ({union}) d GROUP BY pid"


def base_valid_until(day: dt.date) -> dt.date:
    """The calendar part of ``compute.valid_until``: the next month, or the quarter's last day."""
    following = month_end(day.year, day.month) + dt.timedelta(days=1)
    if day.month % 3 == 0:
        end = Quarter(day.year, day.month // 3).end
        if end > day:
            return min(following, end)
    return following


SqlParameter = int | dt.date | list[int] | list[list[int]]  # what the queries below are given


def parameters(years: Sequence[int], day: dt.date) -> dict[str, SqlParameter]:
    """The mask tables of *years* (contiguous from the first) as int[][] parameters, and the day's dates."""
    y0, y1 = min(years), max(years)
    tables = [year_masks(year, day) for year in range(y0, y1 + 1)]
    params: dict[str, SqlParameter] = {kind: [list(t.days[kind]) for t in tables] for kind in KINDS}
    params["regq"] = [list(t.regq) for t in tables]
    for k in range(1, 5):
        params[f"need{k}"] = [list(t.need[k - 1]) for t in tables]
    base = base_valid_until(day)
    params |= {"y0": y0, "y1": y1, "years": list(years), "day": day, "y_day": day.year, "base": base}
    params |= {"jan1": dt.date(day.year, 1, 1), "dec31": dt.date(day.year, 12, 31), "low": day - dt.timedelta(days=100)}
    return params


# Patient ids per pass of a rebuild over a range of patients: a pass's temporary tables hold its patients' whole
# histories (about 3 KB per patient, and as much again in sorts spilled to disk), so a country of 6.5 million
# patients is computed in passes that each need ~1.5 GB instead of one that needs ~20 GB of disk.
PASS_IDS = 500_000


def insert_state(
    years: Sequence[int],
    day: dt.date,
    patient_ids: Sequence[int] | None = None,
    *,
    id_range: tuple[int, int] | None = None,
    into: str | None = None,
) -> int:
    """Insert the state rows of every patient (or of *patient_ids*, or of the ids in the closed *id_range*) for
    *years* as of *day*; returns the rows written. The caller deletes the old rows first and runs in a transaction
    (the temporary tables drop at its end). *into*: a staging table of ``ROW_COLUMNS`` instead of the state table
    (a concurrent part of a full rebuild, ``metrics.state.rebuild``). Every patient, or a range, is computed in
    passes of at most ``PASS_IDS`` ids (one pass without any filter when it covers every patient)."""
    if not years or (patient_ids is not None and not patient_ids):
        return 0
    assert connection.in_atomic_block  # noqa: S101  (the temporary tables live until the end of the transaction)
    params = parameters(years, day)
    if patient_ids is not None:
        ids = params | {"ids": list(patient_ids)}
        return _insert_pass(ids, "AND p.id = ANY(%(ids)s)", AMONG_IDS, into, whole=False, order=FIRST | LAST)
    passes = _passes(id_range)
    if id_range is None and len(passes) <= 1:
        return _insert_pass(params, "", "", into, whole=True, order=FIRST | LAST)
    range_filter = AMONG_RANGE.format(column="p.id")
    return sum(
        _insert_pass(
            params | {"lo": lo, "hi": hi},
            range_filter,
            AMONG_RANGE,
            into,
            whole=True,
            order=(FIRST if n == 0 else 0) | (LAST if n == len(passes) - 1 else 0),
        )
        for n, (lo, hi) in enumerate(passes)
    )


def _passes(id_range: tuple[int, int] | None) -> list[tuple[int, int]]:
    """*id_range* (default: every patient id) cut into closed ranges of at most ``PASS_IDS`` ids."""
    if id_range is None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT min(id), max(id) FROM {_tables()[0]}")
            low, high = cursor.fetchone()
        if low is None:
            return []
    else:
        low, high = id_range
    return [(lo, min(lo + PASS_IDS - 1, high)) for lo in range(low, high + 1, PASS_IDS)]


def _insert_pass(
    params: dict[str, SqlParameter], patients: str, among: str, into: str | None, *, whole: bool, order: int
) -> int:
    """One pass of ``insert_state`` over the patients of the filter *patients* (their facts: *among*): its
    temporary tables, the insert, and the tables dropped. *whole*: a range of patients or all of them (hash joins
    only), not a handful picked by id. *order*: ``FIRST | LAST`` for the only pass; a pass after the first fills
    the tables the first created, and a pass before the last empties them (``_reuse``)."""
    with connection.cursor() as cursor:
        for setting in SESSION_SETTINGS + PASS_SETTINGS + (WHOLE_REGISTRY_SETTINGS if whole else ()):
            cursor.execute(setting)
        statements = [*_statements(patients, among, indexed=not whole), _masks_statement()]
        for written_sql in [*statements, _valid_until_statement(among)]:
            table, sql = _reuse(written_sql, first=bool(order & FIRST))
            if sql:
                cursor.execute(sql, params)
            if table:
                cursor.execute(f"ANALYZE {table}")  # the planner joins them better knowing their size
        cursor.execute(_insert_statement(into), params)
        written = int(cursor.rowcount)
        # A table dropped in a transaction keeps its files until the transaction ends, and a rebuild's passes are
        # one transaction: emptied instead, a table created in this transaction is truncated in place, at once.
        ending = "DROP TABLE IF EXISTS" if order & LAST else "TRUNCATE"
        cursor.execute(f"{ending} {', '.join(TEMP_TABLES)}")
        for setting in PASS_RESET + (WHOLE_REGISTRY_RESET if whole else ()):
            cursor.execute(setting)
    return written


FIRST, LAST = 1, 2  # the order of a pass among those of one insert_state
CREATE_TEMP = "CREATE TEMP TABLE "


def _reuse(sql: str, *, first: bool) -> tuple[str | None, str | None]:
    """The temporary table *sql* creates (None: another statement), and the statement a pass runs: as written in
    the first pass; in a later one the table exists (emptied), so its query fills it, and its index stays."""
    if not sql.startswith(CREATE_TEMP):
        return None, sql if first or not sql.startswith("CREATE INDEX") else None
    table = sql[len(CREATE_TEMP) :].split(maxsplit=1)[0]
    if first:
        return table, sql
    query = sql.split(" ON COMMIT DROP AS", 1)[1]
    return table, f"INSERT INTO {table} {query}"


# The per-township totals of a rebuild. Instead of expanding every row to its 26 slots, the slot bits of each
# count column are summed in a few packed bigint sums: bit s of a mask becomes a field of ``bits`` bits (enough for
# the largest township-year's row count) in sum s // per, looked up in a table per group of ``per`` bits.
MAX_PER_PACK = 8  # bits looked up at once: a table of 256 spread values


@dataclass(frozen=True)
class Packing:
    bits: int  # per slot's count
    per: int  # slots per sum

    @classmethod
    def for_count(cls, largest: int) -> Packing:
        bits = max(1, largest.bit_length())
        return cls(bits, max(1, min(MAX_PER_PACK, 63 // bits)))

    @property
    def packs(self) -> int:
        return -(-len(SLOTS) // self.per)

    def spread_table(self) -> str:
        """The array of the packed value of each ``per``-bit group of a mask, as an SQL literal."""
        values = (sum(((group >> j) & 1) << (self.bits * j) for j in range(self.per)) for group in range(1 << self.per))
        return f"'{{{','.join(map(str, values))}}}'::bigint[]"


def _mask_expression(column: str) -> str:
    """``read.total_expression`` of a count column with the whole mask in place of the slot's bit."""
    expression = total_expression(column)
    for mask in (*MASK_COLUMNS, *DERIVED_MASKS):
        expression = expression.replace(bit_of(mask, None), mask_sql(mask))
    assert "slots.slot" not in expression  # noqa: S101  (a new form of total_expression must be handled here)
    return expression


def _packed_sums(column: str, packing: Packing, table: str) -> list[str]:
    """The packed sums of a count column over the alike rows (``n`` rows each). Each sum reads only the rows whose
    mask is not empty (most masks of most rows are; a deaths column ``_d`` only the few rows with a death)."""
    present = "died" if column.endswith("_d") else counted_mask(column)
    assert present in MASK_COLUMNS  # noqa: S101  (a new form of count column must be handled here)
    where = f"{connection.ops.quote_name(present)} IS NOT NULL"
    return [_packed_sum(_mask_expression(column), packing, table, pack, where) for pack in range(packing.packs)]


def _packed_sum(mask: str, packing: Packing, table: str, pack: int, where: str) -> str:
    """Pack *pack* of the sum of *mask* over the alike rows where *where* holds."""
    group = (1 << packing.per) - 1
    spread = f"({table})[((({mask}) >> {packing.per * pack}) & {group}) + 1]"
    return f"COALESCE(SUM(n * {spread}) FILTER (WHERE {where}), 0)::bigint"


def largest_township_year(years: Sequence[int], sources: Sequence[str] = ()) -> int:
    """The most state rows of one township in one of *years*: of the state table, or of the row tables *sources*
    together (the halves of a rebuild on two connections)."""
    rows = " UNION ALL ".join(f"SELECT year, area_code FROM {t}" for t in sources) or _table_of_rows()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(max(n), 0) FROM (SELECT count(*) AS n FROM ({rows}) r WHERE year = ANY(%s)"
            f" GROUP BY year, SUBSTR(area_code, 1, {TOTALS_DIGITS})) t",
            [list(years)],
        )
        return int(cursor.fetchone()[0])


def _table_of_rows() -> str:
    return f"SELECT year, area_code FROM {connection.ops.quote_name(PatientYearState._meta.db_table)}"


def packed_totals(years: Sequence[int], packing: Packing, source: str | None = None, into: str | None = None) -> None:
    """The packed sums of the state rows of *years* (of *source*, a table or an aliased subquery; default the
    state table) per township and year, into the table *into* (``packed_table_definition``; default a temporary
    ``jf_packed``): the costly part of the totals, which the two connections of a rebuild compute side by side, a
    year at a time. Each field holds at most the township-year's whole count, which *packing* was chosen for."""
    state = source or connection.ops.quote_name(PatientYearState._meta.db_table)
    alike = alike_rows(state, "year = ANY(%(years)s)")
    table = packing.spread_table()
    packed = ", ".join(
        f"ARRAY[{', '.join(_packed_sums(c, packing, table))}] AS p{i}" for i, c in enumerate(COUNT_COLUMNS)
    )
    with connection.cursor() as cursor:
        for statement in [*SESSION_SETTINGS, *([] if into else packed_table_definition("jf_packed", temporary=True))]:
            cursor.execute(statement)
        cursor.execute(
            f"INSERT INTO {into or 'jf_packed'} SELECT year, township, {packed} FROM ({alike}) alike"
            " GROUP BY year, township",
            {"years": list(years)},
        )


# The columns of a table of packed sums (``packed_totals``).
PACKED_COLUMNS = ("year", "area", *(f"p{i}" for i in range(len(COUNT_COLUMNS))))


def packed_table_definition(name: str, *, temporary: bool = False) -> list[str]:
    """The statements that create a table of packed sums. Its arrays are stored as they are (``STORAGE PLAIN``):
    a row of them is some 1.5 KB, which PostgreSQL would otherwise compress and move out of line, and unpacking
    26 slots then read each array back 26 times (0.9 s instead of 0.1 s for 5,000 township-years)."""
    arrays = ", ".join(f"p{i} bigint[]" for i in range(len(COUNT_COLUMNS)))
    kind = "TEMP TABLE" if temporary else "UNLOGGED TABLE"
    end = " ON COMMIT DROP" if temporary else ""
    plain = ", ".join(f"ALTER COLUMN p{i} SET STORAGE PLAIN" for i in range(len(COUNT_COLUMNS)))
    return [f"CREATE {kind} {name} (year smallint, area integer, {arrays}){end}", f"ALTER TABLE {name} {plain}"]


def insert_totals(years: Sequence[int]) -> None:
    """Insert the per-township totals of the state rows of *years* (whose totals the caller deleted): the rows
    ``tables.add_totals`` would add, by packed sums of the state table."""
    if not years:
        return
    packing = Packing.for_count(largest_township_year(years))
    packed_totals(years, packing)
    unpack_totals(packing, "jf_packed", connection.ops.quote_name(AreaSlotState._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS jf_packed")


def unpack_totals(packing: Packing, packed: str, into: str, year: int | None = None) -> None:
    """Insert into *into* (the totals table, or a table of its columns) the totals unpacked from the table of packed
    sums *packed* (made with *packing* by ``packed_totals``), of one *year* or of all, in the order of the key."""
    columns = [connection.ops.quote_name(c) for c in COUNT_COLUMNS]
    field = (1 << packing.bits) - 1
    counts = ", ".join(
        f"(p{i}[slots.slot / {packing.per} + 1] >> ({packing.bits} * (slots.slot %% {packing.per}))) & {field}"
        for i in range(len(COUNT_COLUMNS))
    )
    source = f"SELECT {', '.join(PACKED_COLUMNS)} FROM {packed}" + ("" if year is None else f" WHERE year = {year:d}")
    # The 26 slots are generated per township-year (a lateral reference to it), so that its sums are read once,
    # not once per slot.
    stored = ", ".join(f"NULLIF({c}, 0)" for c in columns)  # a count of 0 is stored as NULL
    sql = f"""INSERT INTO {into} (year, township, slot, {", ".join(columns)})
    SELECT year, area, slot, {stored} FROM (
        SELECT year, area, slots.slot, {counts}
        FROM ({source}) packed CROSS JOIN LATERAL generate_series(0, {len(SLOTS) - 1} + 0 * packed.year) slots(slot)
    ) counted({", ".join(["year", "area", "slot", *columns])})
    WHERE {" OR ".join(f"{c} <> 0" for c in columns)}
    ORDER BY year, slot, area"""
    with connection.cursor() as cursor:
        for setting in SESSION_SETTINGS:
            cursor.execute(setting)
        cursor.execute(sql, {})
