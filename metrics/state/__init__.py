"""The per-patient indicator state that makes reports fast and fresh (design.md §7, issue 6).

Why: ``metrics.indicators.definitions`` is the direct definition of domain.md §11 and walks every patient of the area in
Python; at a city or a province that is far too slow. Here each patient's memberships are computed once per
report *slot* and kept in ``metrics_patientyearstate`` (``metrics.models``), and those rows are summed
per township, year and slot into ``metrics_areaslotstate``, so that a report for any area is one grouped SQL
query over at most a few thousand small rows (a province has ~1,000 townships; a county ~15); a report of a
township's villages, or of a village, sums the few hundred state rows under it (``read.tallies``).

Slots. Every report period lies inside one calendar year: the year, four quarters, twelve months and the
year-to-date periods. YTD-1 is month 1, YTD-3 is Q1 and YTD-12 the year, so a year has 26 distinct slots
(``SLOTS``); slot s of a year is bit s of every mask column.

Rows. One row per (patient, year, holder village, death cause): the bit of slot s is set on the row of the
village holding the record at the slot's cut-off, so a transfer in mid-year gives a second row and every
ancestor area is a range of 12-digit codes (``area_code BETWEEN prefix000… AND prefix999…``, indexed with
the year). A row stores the sets with deaths in the period included (``_i``); with them excluded (``_x``) a
set is the same mask without the row's ``died`` slots, derived when summed (``read.mask_sql``). Both
regular-management rules have their own masks (``regular`` quarterly, ``regular3m`` interval-3m); the medication
denominator is only a choice of counts at query time. An empty mask is stored as NULL (no room in the row).
Emergency handlings are a count, not a set: rows with ``layer`` k ≥ 1 carry the slots with more than k of them.

Totals. Summing bitmasks over a province's 500,000 patient rows costs about a second; summing per-township
totals costs milliseconds (per-village totals took 41% of a province's database, issue 17; only groups with a
non-zero figure are stored). A set's totals hold its count with deaths in the period included (``_i``) and
how many of those died in the period (``_d``, nearly always NULL): the deaths-excluded figure is their difference.
Both tables are keyed for room (issue 17 §3): the totals by (year, slot, township) itself (the township as the
integer of its code's first 9 digits), the state rows by no index at all on PostgreSQL (nothing addresses a row
by its id; a patient's rows are found by the patient index, which PostgreSQL deduplicates). The totals are kept
*by delta*: a refresh takes away the old rows' contribution (one INSERT … SELECT … ON CONFLICT DO UPDATE over the
patients' rows × 26 slots), replaces the rows, and adds the new contribution — two statements per batch, inside
the same transaction. A rebuild recomputes them in one statement. Concurrent writers in one township serialise
on that township's total rows for the rest of their transaction (a follow-up save holds them for milliseconds).

Computing a row: ``metrics.state.slots`` evaluates the same rules for all 26 slots of a patient-year at
once (one sorted history, slices per slot) — ``definitions.membership`` called per slot and option is ~10×
slower. The property test (tests/metrics/test_state_equivalence.py) proves the incremental state, a full
rebuild and the direct definition give the same documents.

"Today". A period that has not ended is computed up to today, and some figures move with the calendar alone
(overdue once the next date passes, stable within 3 months of the last follow-up, a quarter that has become
whole, a new month's slot). Current-year rows are therefore computed as of the day they are written and carry
``valid_until``: the first later day on which any of their bits could change without a new fact (a month or
quarter boundary, a next follow-up date passing, 3 months after a complete follow-up, a fact dated ahead). A
row computed on day c with ``valid_until`` V holds the bits of every day in [c, V), so it still answers exactly a
slot cut off before V. Before a report, ``freshen`` recomputes the rows of the report's year under its area that
expired by the cut-off when they belong to at most ``METRICS_INLINE_REFRESH_LIMIT`` patients (a few next follow-up
dates passing); more (a month, quarter or year boundary) are left to a background task for the area
(``tasks.refresh_area_state``, queued once), and the report is served from the rows as they stand, "as of" the day
before the earliest V among them (``Report.as_of``; every patient's figures hold the records as of that day or
later). The nightly task refreshes everything (``rebuild.refresh_calendar``), so no request waits on the calendar.

Freshness. Every writer of facts sends ``registry.signals.patient_facts_changed`` inside its transaction; the
receiver (``on_facts_changed``) recomputes those patients' rows from ``since``'s year on in the same
transaction, so a report read after the commit already shows the change (no nightly lag).

Modules, each importing only those listed before it (and ``metrics.indicators``, ``metrics.models``, the
lower apps): ``calendar`` (the slots of a year, their periods, "today"), ``slots`` (one patient-year's
memberships per slot), ``compute`` (one patient's rows), ``read`` (the totals read by reports, and the tests'
pictures of the tables), ``tables`` (the SQL both writers share: COPY of rows, totals by delta), ``masks`` and
``setbased`` (the rows of all or many patients on PostgreSQL in a few set-based statements, issue 17 §1),
``write`` (the incremental upkeep and the freshness of a report) and ``rebuild`` (the full rebuild).

May import: ``metrics.indicators``, ``metrics.models``, ``registry.signals``, ``casemgmt``. Never ``reports``.
"""
