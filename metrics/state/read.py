"""Reading the state: whether a build exists, the code range of an area, the tallies a report sums from the
per-village totals, and comparable pictures of both tables (tests: incremental equals rebuilt).

May import ``metrics.indicators``, ``metrics.models`` and ``metrics.state.calendar``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

from django.db import connections
from django.utils import timezone

from casemgmt.readdb import read_alias
from metrics.indicators.definitions import SCHIZOPHRENIA, Options, Tally
from metrics.models import (
    COUNT_COLUMNS,
    DEATH_CAUSE_CODES,
    DERIVED_MASKS,
    MASK_COLUMNS,
    AreaSlotState,
    IndicatorStateBuild,
    PatientYearState,
)
from metrics.state.calendar import SLOTS


def is_built() -> bool:
    """A complete build exists (``IndicatorStateBuild``); before the first rebuild reports go direct."""
    return IndicatorStateBuild.objects.using(read_alias()).exists()


def state_freshness() -> list[tuple[str, str]]:
    """The administrators' status page (casemgmt.health): when the indicator state was last built in full."""
    build = IndicatorStateBuild.objects.order_by("-finished_at").first()
    if build is None:
        return [("indicator state", "not built: reports are computed directly")]
    when = timezone.localtime(build.finished_at).strftime("%Y-%m-%d %H:%M")
    return [("indicator state", f"built {when} ({build.patients} patients); kept current by every save")]


# ``AreaSlotState`` holds totals per township (``township``: the first 9 digits of the holder's code, as an
# integer): a province report sums ~1,000 of them per slot, and the table is ~20 times smaller than per village
# (issue 17). A report of a township's villages, or of one village, sums the few hundred state rows under it instead.
TOTALS_DIGITS = 9
# The township of a state row, for the rows that have a holder village (the others' masks are empty).
TOTALS_TOWNSHIP = f"CAST(SUBSTR(area_code, 1, {TOTALS_DIGITS}) AS integer)"


def alike_rows(table: str, where: str) -> str:
    """The state rows of *table* that satisfy *where* and have a holder village, counted (``n``) per group of rows
    alike for the totals (year, township, schizophrenia or not, death cause, masks): both writers of the totals
    expand these to the 26 slots, far fewer than the rows."""
    masks = ", ".join(f'"{c}"' for c in MASK_COLUMNS)
    return (
        f"SELECT year, {TOTALS_TOWNSHIP} AS township, "  # noqa: S608
        f"CASE WHEN disorder = {SCHIZOPHRENIA} THEN {SCHIZOPHRENIA} ELSE 0 END AS disorder, death_cause, {masks}, "
        f"COUNT(*) AS n FROM {table} WHERE {where} AND area_code <> '' GROUP BY year, 2, 3, death_cause, {masks}"
    )


def mask_sql(column: str) -> str:
    """A mask of a state row: a stored column, or a derived ``_x`` one (the ``_i`` mask without the slots in whose
    period the patient died; NULL, like a stored empty mask, when the ``_i`` one is)."""
    if column in DERIVED_MASKS:
        return f'("{column[:-2]}_i" & ~COALESCE("died", 0))'
    assert column in MASK_COLUMNS  # noqa: S101  (module names only)
    return f'"{column}"'


def bit_of(column: str, slot: int | None) -> str:
    """Bit *slot* of a mask (None: the ``slots.slot`` of the totals query)."""
    assert slot is None or 0 <= slot < len(SLOTS)  # noqa: S101  (module names only)
    return f"(({mask_sql(column)} >> {'slots.slot' if slot is None else slot}) & 1)"


SCHIZOPHRENIA_SETS = {"": "registered", "_medication": "medication", "_managed": "managed"}  # column kind: set


def counted_mask(column: str) -> str:
    """The mask (stored or derived) whose slot bit a column of ``AreaSlotState`` counts: deaths by cause count
    ``died``, the schizophrenia columns their set's mask, a deaths column (``_d``) its set's deaths-included mask
    (where ``died`` is set too), every other column its own."""
    if column.startswith("died_"):
        return "died"
    if column in MASK_COLUMNS or column in DERIVED_MASKS:
        return column
    base, v = column.rsplit("_", 1)
    if base.startswith("schizophrenia"):
        base = SCHIZOPHRENIA_SETS[base[len("schizophrenia") :]]
    return f"{base}_{'i' if v == 'd' else v}"


def total_expression(column: str) -> str:
    """How a column of ``AreaSlotState`` sums up the state rows of one slot (``slots.slot``)."""
    bit = bit_of(counted_mask(column), None)
    if column.endswith("_d"):  # the set's members who died in the period
        bit = f"({bit} & {bit_of('died', None)})"
    if column.startswith("died_"):
        cause = int(column.rsplit("_", 1)[1])
        return f"CASE WHEN COALESCE(death_cause, 0) = {cause} THEN {bit} ELSE 0 END"
    if column.startswith("schizophrenia"):
        return f"CASE WHEN disorder = {SCHIZOPHRENIA} THEN {bit} ELSE 0 END"
    return bit


def code_range(prefix: str) -> tuple[str, str]:
    """Every 12-digit code starting with *prefix* lies in [lo, hi] (digits only, so any collation agrees)."""
    pad = 12 - len(prefix)
    return prefix + "0" * pad, prefix + "9" * pad


COUNT_COLUMNS_BY_NAME = {
    # Tally name: the mask a state row counts it by ({v} = the deaths-in-period reading, ``x`` or ``i``); the
    # totals hold the same under that name, an ``_x`` one as ``_i`` - ``_d`` (``_summed_total``)
    "registered": "registered_{v}",
    "managed": "managed_{v}",
    "at_home": "at_home_{v}",
    "medication": "medication_{v}",
    "regular_medication": "regular_medication_{v}",
    "face_to_face": "face_to_face_{v}",
    "stable": "stable_{v}",
    "rehabilitation": "rehabilitation_{v}",
    "lost": "lost_{v}",
    "family_support": "family_support_{v}",
    "health_check": "health_check_{v}",
    "overdue": "overdue_{v}",
    "open_case": "open_case_{v}",
    "schizophrenia": "schizophrenia_{v}",
    "schizophrenia_medication": "schizophrenia_medication_{v}",
    "schizophrenia_managed": "schizophrenia_managed_{v}",
    "new_registration": "new_registration",
    "minor_trouble": "minor_trouble",
    "trouble": "trouble",
    "disaster": "disaster",
    "emergencies": "emergency",
}


def _count_columns(options: Options) -> dict[str, str]:
    """Tally name → ``AreaSlotState`` column under *options*."""
    v = "i" if options.deaths_in_period == "included" else "x"
    columns = {name: column.format(v=v) for name, column in COUNT_COLUMNS_BY_NAME.items()}
    columns["regular"] = f"regular3m_{v}" if options.regular_management == "interval-3m" else f"regular_{v}"
    return columns


def tallies(
    prefix: str, year: int, slots: Sequence[int], options: Options, *, child_length: int | None = None
) -> dict[str, dict[int, Tally]]:
    """Tallies under *prefix* for each slot of *year*: {group: {slot: Tally}}; the group is "" for the whole
    area, or the child prefix (the first *child_length* digits of the holder's code) when one is given."""
    lo, hi = code_range(prefix)
    connection = connections[read_alias()]
    columns = _count_columns(options)
    names = [*columns.values(), *(f"died_{cause}" for cause in DEATH_CAUSE_CODES)]
    marks = ", ".join(["%s"] * len(slots))
    if len(prefix) > TOTALS_DIGITS or (child_length or 0) > TOTALS_DIGITS:  # villages: from the state rows
        group = f"SUBSTR(area_code, 1, {int(child_length)})" if child_length else "''"
        label: Callable[[object], str] = str
        sums = ", ".join(f"SUM({total_expression(c)})" for c in names)
        values = ", ".join(f"({int(slot)})" for slot in slots)
        table = connection.ops.quote_name(PatientYearState._meta.db_table)
        sql = (
            f"WITH slots(slot) AS (VALUES {values}) SELECT {group}, slots.slot, {sums} "  # noqa: S608
            f"FROM {table} CROSS JOIN slots WHERE year = %s AND area_code >= %s AND area_code <= %s GROUP BY 1, 2"
        )
        params: list[int | str] = [year, lo, hi]
    else:  # townships and above: from the totals
        group = f"township / {10 ** (TOTALS_DIGITS - child_length)}" if child_length else "0"

        def label(group_key: object) -> str:  # the child's code: the township's leading digits
            return f"{group_key:0{child_length}d}" if child_length else ""

        sums = ", ".join(_summed_total(c) for c in names)
        table = connection.ops.quote_name(AreaSlotState._meta.db_table)
        sql = (
            f"SELECT {group}, slot, {sums} FROM {table} "  # noqa: S608
            f"WHERE year = %s AND slot IN ({marks}) AND township >= %s AND township <= %s GROUP BY 1, 2"
        )
        params = [year, *slots, int(lo[:TOTALS_DIGITS]), int(hi[:TOTALS_DIGITS])]
    result: dict[str, dict[int, Tally]] = defaultdict(lambda: {slot: Tally() for slot in slots})
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for group_key, slot, *values in cursor.fetchall():
            tally = result[label(group_key)][slot]
            for name, value in zip(columns, values, strict=False):
                if value:
                    tally.counts[name] += int(value)
            for cause, value in zip(DEATH_CAUSE_CODES, values[len(columns) :], strict=True):
                if value:
                    tally.deaths_by_cause[cause] += int(value)
    return dict(result)


def _summed_total(column: str) -> str:
    """The sum of a tally column over ``AreaSlotState`` rows: a deaths-excluded one (``_x``) is the set less its
    members who died in the period (``_i`` - ``_d``)."""
    if column.endswith("_x"):
        return f'COALESCE(SUM("{column[:-2]}_i"), 0) - COALESCE(SUM("{column[:-2]}_d"), 0)'
    return f'SUM("{column}")'


def counts_of_rows(rows: Sequence[PatientYearState]) -> Counter[tuple[object, ...]]:
    """A comparable picture of state rows (tests: a rebuild after the incremental path changes nothing)."""
    return Counter(
        (
            r.patient_id,
            r.year,
            r.area_code,
            r.death_cause,
            r.layer,
            r.valid_until,
            *(getattr(r, c) or 0 for c in MASK_COLUMNS),
        )
        for r in rows
    )


def counts_of_totals() -> set[tuple[object, ...]]:
    """The non-zero per-village totals (tests: kept incrementally, they equal a rebuild's)."""
    rows = AreaSlotState.objects.values_list("year", "township", "slot", *COUNT_COLUMNS)
    return {(*row[:3], *(count or 0 for count in row[3:])) for row in rows if any(row[3:])}
