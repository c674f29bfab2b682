"""One synthetic patient and everything about them, as rows (tuples) ready for the writer.

The patient (identity sealed with the real field encryption, blind indexes with the real keys), the
supplementary form, the status history, the custody spans and an accepted transfer for patients who moved,
the follow-up history that follows the classification schedule (domain.md §7) with late visits and
not-reached attempts, the lost or dead outcome that ends it, the care state, rehabilitation participation and
annual health checks. Content is deterministic for the random generator it is given; row UUIDs and nonces are
random (see ``choice.uuid_strings``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from casemgmt.crypto import cipher as crypto
from devdata import identities as synthetic
from devdata import registry_bulk as bulk
from devdata.synthetic.choice import Chooser, any_of
from devdata.synthetic.templates import Pools, Template
from devdata.synthetic.writer import cells
from followup.visits import rules
from registry import codes
from registry.models import NAME_INDEX_HEX, PHONE_TAIL_DIGITS, PHONE_TAIL_INDEX_HEX

DAY = dt.timedelta(days=1)
LEGACY_SHARE = 0.55  # registered before the generated window (a programme running for years)
LEGACY_YEARS = 8
NOT_REACHED_SHARE = 0.07
LATE_SHARE = 0.12  # a scheduled visit that happens late (the patient is overdue for a while)
ALWAYS_MISSING_SHARE = 0.03  # active patients whose recent attempts all failed
TRANSFER_SHARE = 0.03
TRANSFER_OTHER_COUNTY_SHARE = 0.2
REHAB_SHARE = 0.1
HEALTH_CHECK_SHARE = 0.5  # of active patients, each year
# Per patient, how the class moves between reached follow-ups: profile -> previous class -> next class weights.
PROFILES = Chooser({"steady": 70, "wavering": 22, "fragile": 8})
TRANSITIONS = {
    "steady": {None: {3: 80, 2: 17, 1: 3}, 1: {1: 30, 2: 50, 3: 20}, 2: {2: 30, 3: 67, 1: 3}, 3: {3: 94, 2: 5, 1: 1}},
    "wavering": {
        None: {3: 45, 2: 45, 1: 10},
        1: {1: 40, 2: 50, 3: 10},
        2: {2: 55, 3: 35, 1: 10},
        3: {3: 70, 2: 25, 1: 5},
    },
    "fragile": {
        None: {1: 40, 2: 45, 3: 15},
        1: {1: 55, 2: 40, 3: 5},
        2: {2: 50, 1: 30, 3: 20},
        3: {3: 50, 2: 35, 1: 15},
    },
}
# The same as lookup tables: the weights of each row sum to STEP_TOTAL, so ``table[int(random() * 100)]`` is the
# weighted choice without a function call in the hot loop.
STEP_TOTAL = 100
STEP_TABLES = {p: {prev: Chooser(w).table(STEP_TOTAL) for prev, w in t.items()} for p, t in TRANSITIONS.items()}

DISORDERS = Chooser(bulk.NATIONAL_DISORDER_MIX)
STATUSES = Chooser(bulk.STATUS_MIX)
LOST_REASONS = Chooser(bulk.LOST_REASON_MIX)
DEATH_CAUSES = Chooser(bulk.DEATH_CAUSE_MIX)
PHYSICAL_DEATHS = Chooser(bulk.PHYSICAL_DEATH_MIX)
EMPLOYMENT = Chooser({3: 30, 4: 35, 1: 8, 6: 10, 8: 7, 9: 5, 5: 2, 2: 1, 7: 2})
PAST_LOCKING = Chooser({1: 95, 3: 4, 2: 1})
PAST_OUTPATIENT = Chooser({1: 10, 2: 55, 3: 35})
PAST_ADMISSIONS = Chooser({0: 45, 1: 30, 2: 15, 3: 7, 5: 3})
TREATMENT_RESULT = Chooser({1: 10, 2: 60, 3: 25, 4: 5})
REHAB_PROVIDERS = Chooser({"home": 40, "day": 20, "work_therapy": 15, "clubhouse": 10, "other": 15})
REHAB_SERVICES = ("生活技能训练", "职业康复", "社交技能训练", "家庭康复指导")
SYMPTOMS = tuple(codes.Symptom.values)
# Parts of a rendered follow-up line (COPY text): no lost_reason, death_date, death_cause, death_subcause; and
# no suggested or agreed next date either.
NO_ENDING = "\t\\N" * 4
NO_DATES = "\t\\N" * 6


class _DayText(dict[int, str]):
    """ISO text of a day given as an ordinal, rendered once per day."""

    def __missing__(self, ordinal: int) -> str:
        text = self[ordinal] = dt.date.fromordinal(ordinal).isoformat()
        return text


class _YearOf(dict[int, int]):
    def __missing__(self, ordinal: int) -> int:
        year = self[ordinal] = dt.date.fromordinal(ordinal).year
        return year


DAY_TEXT = _DayText()
YEAR_OF = _YearOf()


@functools.lru_cache(maxsize=8192)
def next_day(classification: int, day: int, previous: int | None) -> int:
    """The schedule rule on ordinals, memoised: histories ask about the same (class, day, previous) often."""
    return rules.next_followup_date(classification, dt.date.fromordinal(day), previous).toordinal()


Step = tuple[str, dt.date, tuple[object, ...]]  # status, effective date, (lost_reason, death_cause, death_subcause)

PATIENT_COLUMNS = (
    "id", "uuid", "village_id", "name", "national_id", "phone", "address", "hukou_address", "guardian_name",
    "guardian_relation", "guardian_phone", "guardian_address", "committee_contact_name", "committee_contact_phone",
    "notes", "national_id_index", "name_index", "phone_tail_index", "sex", "birth_date", "disorder",
    "diagnosis_date", "diagnosis_hospital", "registered_on", "status", "status_since", "created_by_id",
    "created_at", "updated_at",
)  # fmt: skip
FORM_COLUMNS = (
    "uuid", "patient_id", "household_type", "employment", "consent", "consent_signer", "consent_date",
    "harmed_others", "onset_date", "onset_year_only", "past_symptoms", "past_locking", "past_outpatient",
    "first_antipsychotic_date", "past_admissions", "last_treatment_result", "minor_trouble", "trouble", "disaster",
    "other_harm", "self_harm", "suicide_attempt", "economic_status", "specialist_opinion", "filled_on",
    "filled_by_id", "updated_at",
)  # fmt: skip
STATUS_COLUMNS = (
    "uuid", "patient_id", "from_status", "to_status", "effective_date", "lost_reason", "death_cause",
    "death_subcause", "closure_reason", "note", "actor_id", "confirmed_by_id", "recorded_at",
)  # fmt: skip
CUSTODY_COLUMNS = ("patient_id", "area_id", "start_date", "end_date")
TRANSFER_COLUMNS = (
    "uuid", "patient_id", "from_village_id", "to_village_id", "reason", "state", "requested_by_id", "requested_on",
    "requested_at", "decided_by_id", "decided_on", "decided_at", "rejection_reason",
)  # fmt: skip
CARE_COLUMNS = (
    "patient_id", "risk_level", "classification", "next_due_date", "last_followup_date", "last_reached_date",
    "last_reached_classification", "consecutive_not_reached", "last_complete_followup_id", "updated_at",
)  # fmt: skip
REHAB_COLUMNS = (
    "uuid", "patient_id", "provider_type", "provider_name", "service_type", "start_date", "end_date", "recorded_by_id",
)  # fmt: skip
HEALTH_COLUMNS = (
    "uuid", "patient_id", "date", "consent", "physical_exam", "blood_pressure", "weight_kg", "blood_count",
    "liver_enzymes", "glucose", "ecg", "followup_id", "recorded_by_id",
)  # fmt: skip


@dataclass
class Batch:
    """The rows of a batch of patients. Follow-up rows get their primary keys when the batch is written."""

    patients: list[tuple[int, *tuple[object, ...]]] = field(default_factory=list)  # ids first: they are announced
    forms: list[tuple[object, ...]] = field(default_factory=list)
    statuses: list[tuple[object, ...]] = field(default_factory=list)
    custody: list[tuple[object, ...]] = field(default_factory=list)
    transfers: list[tuple[object, ...]] = field(default_factory=list)
    followups: list[str] = field(default_factory=list)  # COPY text lines (see CountyBuilder._history)
    care: list[list[object]] = field(default_factory=list)
    rehab: list[tuple[object, ...]] = field(default_factory=list)
    health: list[list[object]] = field(default_factory=list)
    patient_uuids: list[str] = field(default_factory=list)
    earliest: dt.date | None = None

    def __len__(self) -> int:
        return len(self.patients)


@dataclass(frozen=True)
class Context:
    """What stays the same for a whole run."""

    today: dt.date
    window_start: dt.date
    now: str  # the creation timestamp of every row, rendered once (ISO format with the offset)
    pools: Pools
    sealer: crypto.BulkSealer
    uuids: Iterator[str]  # hyphenated, for rows with encrypted columns
    keys: Iterator[str]  # plain hex, for the others
    followup_id: Callable[[], int]  # primary keys reserved ahead, so care states and checks can point at rows


class CountyBuilder:
    """Builds the patients of one county from its own random generator (independent of batch boundaries)."""

    def __init__(
        self,
        ctx: Context,
        *,
        seed: int,
        county: str,
        villages: tuple[str, ...],
        doctor_id: int,
        others: Callable[[random.Random], str],
    ) -> None:
        self.ctx = ctx
        # Seeded by the county's place in its province (not by the province code): one seed gives the same
        # people in any province, which is how a parallel run is checked against a serial one.
        self.rng = random.Random(f"{seed}:{county[2:]}")
        self.county = county
        self.villages = villages
        self.doctor = doctor_id
        self.tail = f"\t{doctor_id}\t{ctx.now}\t"  # a follow-up line's doctor and creation time
        self.others = others  # callable(rng) -> a village code elsewhere in the province
        self.ids = bulk.NationalIdAllocator()

    # --- identity -------------------------------------------------------------------------------------------

    def _seal(self, value: str, column: str, row_uuid: str, table: str = "registry_patient") -> str:
        return self.ctx.sealer.encrypt(value, table=table, column=column, row_uuid=row_uuid) if value else ""

    def add_patient(self, batch: Batch, patient_id: int) -> None:  # noqa: PLR0915  (one patient's story, in order)
        rng, ctx = self.rng, self.ctx
        today, window_start = ctx.today, ctx.window_start
        span = (today - window_start).days
        if rng.random() < LEGACY_SHARE:
            registered = window_start - DAY * (1 + int(rng.random() * 365 * LEGACY_YEARS))
        else:
            registered = window_start + DAY * int(rng.random() * (span + 1))
        sex = codes.Sex.MALE if rng.random() < 0.5 else codes.Sex.FEMALE
        birth = synthetic.synthetic_birth_date(rng, registered, min_age=14, max_age=85)
        earliest_onset = birth + DAY * 365 * 12
        diagnosed = max(registered - DAY * int(rng.random() * 365 * 3), earliest_onset)
        diagnosed = min(diagnosed, registered)
        disorder = DISORDERS(rng)
        status = STATUSES(rng)
        village = any_of(rng, self.villages)
        name = synthetic.synthetic_name(rng)
        national_id = self.ids.allocate(self.county[:6], birth, sex)
        phone = synthetic.synthetic_phone(rng) if rng.random() < 0.9 else ""
        address, hukou = synthetic.synthetic_address(rng), synthetic.synthetic_address(rng)
        guardian = rng.random() < 0.8
        guardian_name = synthetic.synthetic_name(rng) if guardian else ""
        relation = any_of(rng, synthetic.RELATIONS) if guardian else ""
        guardian_phone = synthetic.synthetic_phone(rng) if guardian else ""
        hospital = any_of(rng, synthetic.HOSPITALS)

        # The story: when the status changed, whether the patient moved, when follow-ups start and stop.
        first_day = max(registered, window_start)
        event_day = first_day + DAY * int(rng.random() * ((today - first_day).days + 1))
        steps = self._status_steps(status, registered, event_day)
        final_status, status_since = steps[-1][0], steps[-1][1]
        moved_on = None
        if status == codes.Status.ACTIVE and rng.random() < TRANSFER_SHARE and event_day > registered:
            moved_on = event_day
        home = village
        if moved_on is not None:
            village = self._elsewhere(village)

        u = next(ctx.uuids)
        seal = self._seal
        sealer = ctx.sealer
        digits = "".join(ch for ch in phone if ch.isdigit())
        batch.patients.append(
            (
                patient_id, u, village, seal(name, "name", u), seal(national_id, "national_id", u),
                seal(phone, "phone", u), seal(address, "address", u), seal(hukou, "hukou_address", u),
                seal(guardian_name, "guardian_name", u), relation, seal(guardian_phone, "guardian_phone", u),
                "", "", "", "",
                sealer.blind_index(national_id, purpose="national_id"),
                sealer.blind_index(name, purpose="name", hex_length=NAME_INDEX_HEX),
                sealer.blind_index(digits[-PHONE_TAIL_DIGITS:], purpose="phone_tail", hex_length=PHONE_TAIL_INDEX_HEX)
                if phone
                else "",
                sex, birth, disorder, diagnosed, hospital, registered, final_status, status_since, self.doctor,
                ctx.now, ctx.now,
            )
        )  # fmt: skip
        batch.patient_uuids.append(u)
        batch.earliest = registered if batch.earliest is None else min(batch.earliest, registered)
        self._form(batch, patient_id, registered, earliest_onset, diagnosed, status, guardian_name or name)
        previous = ""
        for to_status, on, extra in steps:
            batch.statuses.append(
                (next(ctx.keys), patient_id, previous, to_status, on, *extra, None, "", self.doctor, None, ctx.now)
            )
            previous = to_status
        if moved_on is None:
            batch.custody.append((patient_id, village, registered, None))
        else:
            batch.custody.append((patient_id, home, registered, moved_on))
            batch.custody.append((patient_id, village, moved_on, None))
            requested = max(moved_on - DAY * (1 + int(rng.random() * 10)), registered)
            batch.transfers.append(
                (next(ctx.keys), patient_id, home, village, "随家人迁居", "accepted", self.doctor, requested, ctx.now,
                 self.doctor, moved_on, ctx.now, "")
            )  # fmt: skip
        if status != codes.Status.REFUSED:
            self._history(batch, patient_id, registered, steps, status)
            if rng.random() < REHAB_SHARE:
                self._rehab(
                    batch, patient_id, first_day, status_since if final_status != codes.Status.ACTIVE else today
                )

    def _elsewhere(self, village: str) -> str:
        rng = self.rng
        if rng.random() < TRANSFER_OTHER_COUNTY_SHARE:
            other = self.others(rng)
            if other != village:
                return str(other)
        candidates = [v for v in self.villages if v[:9] != village[:9]] or [v for v in self.villages if v != village]
        return any_of(rng, candidates) if candidates else self.others(rng)

    def _status_steps(self, status: str, registered: dt.date, event: dt.date) -> list[Step]:
        """(status, effective date, (lost_reason, death_cause, death_subcause)) from registration on."""
        rng = self.rng
        none: tuple[object, ...] = (None, None, None)
        if status == codes.Status.REFUSED:
            return [(status, registered, none)]
        steps: list[Step] = [(codes.Status.ACTIVE, registered, none)]
        if status == codes.Status.LOST:
            steps.append((codes.Status.LOST, event, (LOST_REASONS(rng), None, None)))
        elif status == codes.Status.DEAD:
            cause = DEATH_CAUSES(rng)
            sub = PHYSICAL_DEATHS(rng) if cause == codes.DeathCause.PHYSICAL else None
            steps.append((codes.Status.DEAD, event, (None, cause, sub)))
        elif rng.random() < bulk.FOUND_AGAIN_SHARE and (self.ctx.today - event).days > 60:
            back = event + DAY * (30 + int(rng.random() * ((self.ctx.today - event).days - 30)))
            steps.append((codes.Status.LOST, event, (LOST_REASONS(rng), None, None)))
            steps.append((codes.Status.ACTIVE, back, none))
        return steps

    def _form(  # noqa: PLR0917  (private helper of add_patient)
        self,
        batch: Batch,
        patient_id: int,
        registered: dt.date,
        earliest_onset: dt.date,
        diagnosed: dt.date,
        status: str,
        signer: str,
    ) -> None:
        rng, ctx = self.rng, self.ctx
        consent = 0 if status == codes.Status.REFUSED else 1
        onset = earliest_onset + DAY * int(rng.random() * max((diagnosed - earliest_onset).days, 0))
        first_treatment = onset + DAY * int(rng.random() * max((registered - onset).days, 0))
        u = next(ctx.uuids)
        symptoms = json.dumps(sorted(rng.sample(SYMPTOMS, 1 + int(rng.random() * 4))))
        batch.forms.append(
            (
                u, patient_id, 1 + int(rng.random() * 2), EMPLOYMENT(rng), consent,
                self._seal(signer, "consent_signer", u, "registry_supplementaryform") if consent else "",
                registered if consent else None, False, onset, rng.random() < 0.2, symptoms, PAST_LOCKING(rng),
                PAST_OUTPATIENT(rng), first_treatment, PAST_ADMISSIONS(rng), TREATMENT_RESULT(rng),
                1 if rng.random() < 0.1 else 0, 1 if rng.random() < 0.03 else 0, 1 if rng.random() < 0.005 else 0, 0,
                1 if rng.random() < 0.05 else 0, 1 if rng.random() < 0.03 else 0, 1 if rng.random() < 0.35 else 2,
                "", registered, self.doctor, ctx.now,
            )
        )  # fmt: skip

    # --- follow-ups -----------------------------------------------------------------------------------------

    def _history(  # noqa: PLR0912, PLR0915  (the hot loop, kept in one frame for speed)
        self, batch: Batch, patient_id: int, registered: dt.date, steps: list[Step], status: str
    ) -> None:
        """The follow-up rows, as COPY text lines built from pre-rendered parts; days are ordinals here."""
        rng, ctx = self.rng, self.ctx
        rnd = rng.random
        pools, keys, days, tail = ctx.pools, ctx.keys, DAY_TEXT, self.tail
        new_id = ctx.followup_id
        rows = batch.followups
        today, window_start = ctx.today.toordinal(), ctx.window_start.toordinal()
        if registered.toordinal() >= window_start:
            day = registered.toordinal() + 1 + int(rnd() * 14)
        else:
            day = window_start + int(rnd() * 90)
        # Where the history stops (lost or dead) and the lost spell of a patient found again.
        end, ending = today, None
        pause: tuple[int, int] | None = None
        if status in (codes.Status.LOST, codes.Status.DEAD):
            end, ending = steps[-1][1].toordinal(), steps[-1]
        elif len(steps) == 3:
            pause = (steps[1][1].toordinal(), steps[2][1].toordinal())
        failing_from = today - 45 if status == codes.Status.ACTIVE and rnd() < ALWAYS_MISSING_SHARE else end
        step = STEP_TABLES[PROFILES(rng)]
        klass: int | None = None
        previous: int | None = None
        last_reached: tuple[int, Template, int] | None = None
        last_day: int | None = None
        checked_year = 0
        not_reached = 0
        last_complete: int | None = None
        head = f"\t{patient_id}\t"
        while day < end:
            if pause is not None and day >= pause[0]:
                self._ending(batch, patient_id, pause[0], pools.lost, (steps[1][2][0], None, None, None))
                last_day, not_reached = pause[0], 0
                day, pause = pause[1] + int(1 + rnd() * 14), None
                continue
            last_day = day
            if rnd() < NOT_REACHED_SHARE or day >= failing_from:
                tpl = pools.not_reached[0 if rnd() < 0.7 else 1]
                rows.append(f"{new_id()}\t{next(keys)}\t{next(keys)}{head}{days[day]}{NO_DATES}{tail}{tpl.text}\n")
                not_reached += 1
                day += 3 + int(rnd() * 8)
                continue
            klass = step[klass][int(rnd() * STEP_TOTAL)]
            bucket = pools.reached[klass]
            tpl = bucket[int(rnd() * len(bucket))]
            due = next_day(klass, day, previous)
            due_text = days[due]
            index = new_id()
            rows.append(
                f"{index}\t{next(keys)}\t{next(keys)}{head}{days[day]}\t{due_text}\t{due_text}{NO_ENDING}{tail}"
                f"{tpl.text}\n"
            )
            if tpl.complete:
                last_complete = index
            previous, not_reached, last_reached = klass, 0, (day, tpl, due)
            year = YEAR_OF[day]
            if year != checked_year:  # the first reached visit of a year offers the annual health check
                checked_year = year
                if status == codes.Status.ACTIVE and rnd() < HEALTH_CHECK_SHARE:
                    self._health_check(batch, patient_id, days[day], index)
            late = rnd() < LATE_SHARE
            day = due + 1 + int(rnd() * (due - day)) if late else due + int(rnd() * 7) - 3
        if ending is not None:
            to_status, on, (lost_reason, cause, sub) = ending
            if to_status == codes.Status.LOST:
                self._ending(batch, patient_id, on.toordinal(), pools.lost, (lost_reason, None, None, None))
            else:
                self._ending(batch, patient_id, on.toordinal(), pools.dead, (None, on, cause, sub))
            last_day, not_reached = on.toordinal(), 0
        if last_day is not None:
            self._care(batch, patient_id, last_day, not_reached, last_reached, last_complete)

    def _ending(self, batch: Batch, patient_id: int, on: int, tpl: Template, extra: tuple[object, ...]) -> None:
        """A lost or dead follow-up: *extra* holds lost_reason, death_date, death_cause, death_subcause."""
        keys = self.ctx.keys
        batch.followups.append(
            f"{self.ctx.followup_id()}\t{next(keys)}\t{next(keys)}\t{patient_id}\t{DAY_TEXT[on]}\t\\N\t\\N\t"
            f"{cells(extra)}{self.tail}{tpl.text}\n"
        )

    def _care(  # noqa: PLR0917  (private helper of _history)
        self,
        batch: Batch,
        patient_id: int,
        last_day: int,
        not_reached: int,
        last_reached: tuple[int, Template, int] | None,
        last_complete: int | None,
    ) -> None:
        """The care state the history leaves (what ``rules.care_snapshot`` derives from the same rows)."""
        days = DAY_TEXT
        if last_reached is None:
            row: list[object] = [
                patient_id,
                None,
                None,
                None,
                days[last_day],
                None,
                None,
                not_reached,
                None,
                self.ctx.now,
            ]
        else:
            date, tpl, due = last_reached
            row = [patient_id, tpl.risk_level, tpl.classification, days[due], days[last_day], days[date]]
            row += [tpl.classification, not_reached, last_complete, self.ctx.now]
        batch.care.append(row)

    def _health_check(self, batch: Batch, patient_id: int, day: str, followup_index: int) -> None:
        rng = self.rng
        systolic = 100 + int(rng.random() * 50)
        batch.health.append(
            [
                next(self.ctx.keys), patient_id, day, True, "未见明显异常",
                f"{systolic}/{systolic - 40 + int(rng.random() * 10)}", f"{45 + rng.random() * 45:.1f}", "正常",
                "正常" if rng.random() < 0.9 else "ALT轻度升高", f"{4.2 + rng.random() * 2.5:.1f}",
                "窦性心律" if rng.random() < 0.9 else "窦性心动过速", followup_index, self.doctor,
            ]
        )  # fmt: skip

    def _rehab(self, batch: Batch, patient_id: int, start_from: dt.date, until: dt.date) -> None:
        rng = self.rng
        start = start_from + DAY * int(rng.random() * max((until - start_from).days, 0))
        end = None
        if rng.random() < 0.5:
            end = min(start + DAY * (30 + int(rng.random() * 335)), until)
        provider = REHAB_PROVIDERS(rng)
        batch.rehab.append(
            (next(self.ctx.keys), patient_id, provider, "", any_of(rng, REHAB_SERVICES), start, end, self.doctor)
        )
