"""A fast path for creating many synthetic patients (demo, benchmarks, load tests), with REAL encryption.

``register_patient`` costs a dozen queries per person; a county of 2,000 or a province of 300,000 patients
needs a batch path. This module builds the same rows the service writes — Patient (identity sealed with the
real field encryption, blind indexes computed with the real keys), SupplementaryForm, the StatusChange
history and the CustodySpan — and inserts them with ``bulk_create`` in batches, one transaction and one
audit event per batch. Nothing here is for real people: every identity comes from ``devdata.identities``.

Content is deterministic for a seed (names, ID numbers, dates, codes); row UUIDs and encryption nonces are
random on purpose, so the same seed can be loaded twice into one database (into another county, say)
without colliding on ``uuid``.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import transaction

from casemgmt.accounts.models import User
from casemgmt.areas.models import Area
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from casemgmt.crypto.bulk import seal
from devdata import identities as synthetic
from registry import codes
from registry.models import CustodySpan, Patient, StatusChange, SupplementaryForm, national_id_index
from registry.patients import idnumber
from registry.signals import announce_patients_changed

Progress = Callable[[int, int], None]

# Share of each disorder among registered patients, roughly the national mix (domain.md §2 codes).
NATIONAL_DISORDER_MIX: Mapping[int, float] = {
    codes.Disorder.SCHIZOPHRENIA: 75,
    codes.Disorder.BIPOLAR: 8,
    codes.Disorder.INTELLECTUAL_DISABILITY: 6,
    codes.Disorder.EPILEPSY: 5,
    codes.Disorder.PARANOID_PSYCHOSIS: 3,
    codes.Disorder.SCHIZOAFFECTIVE: 3,
}
# Current status. CLOSED is absent: closing needs a second person's review (request/decide_closure).
STATUS_MIX: Mapping[str, float] = {
    codes.Status.ACTIVE: 87,
    codes.Status.LOST: 5,
    codes.Status.REFUSED: 4,
    codes.Status.DEAD: 4,
}
LOST_REASON_MIX: Mapping[int, float] = {1: 45, 2: 25, 3: 5, 4: 20, 5: 5}
DEATH_CAUSE_MIX: Mapping[int, float] = {1: 60, 2: 12, 3: 1, 4: 10, 5: 10, 6: 7}
PHYSICAL_DEATH_MIX: Mapping[int, float] = {1: 4, 2: 25, 3: 25, 4: 25, 5: 12, 6: 5, 7: 2, 8: 2}
FOUND_AGAIN_SHARE = 0.03  # ACTIVE patients with an earlier LOST spell (LOST -> ACTIVE) in their history
LOST_BEFORE_DEATH_SHARE = 0.2
ID_SEQUENCES_PER_DAY = 500  # three sequence digits, the last one carrying the sex parity: 100 x 5 per sex


@dataclass(frozen=True)
class Mix:
    """What the synthetic population looks like; the defaults follow domain.md §2 and §4.3."""

    disorders: Mapping[int, float] = field(default_factory=lambda: dict(NATIONAL_DISORDER_MIX))
    statuses: Mapping[str, float] = field(default_factory=lambda: dict(STATUS_MIX))
    years_back: int = 5  # registration dates fall within this many years before ``today``
    guardian_share: float = 0.8


DEFAULT_MIX = Mix()


K = TypeVar("K")


def _pick(rng: random.Random, weights: Mapping[K, float]) -> K:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _day_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    """A uniformly random day in [start, end] (start when the range is empty)."""
    return start + dt.timedelta(days=rng.randint(0, max((end - start).days, 0)))


class NationalIdAllocator:
    """Hands out unique, valid ID numbers: county + birth date + a per-(county, day, sex) counter.

    The counter makes numbers unique within a run without retries; numbers already in the database (from an
    earlier run) are skipped by :meth:`skip_taken`, because the blind index on the national ID is unique.
    """

    def __init__(self) -> None:
        self._next: dict[tuple[str, dt.date, int], int] = {}

    @staticmethod
    def format(county6: str, birth: dt.date, sex: int, sequence: int) -> str:
        if not 0 <= sequence < ID_SEQUENCES_PER_DAY:
            raise ValueError("no ID sequence left for this birth date")
        parity = (1, 3, 5, 7, 9) if sex == codes.Sex.MALE else (0, 2, 4, 6, 8)
        first17 = f"{county6}{birth:%Y%m%d}{sequence // 5:02d}{parity[sequence % 5]}"
        return first17 + idnumber.check_digit(first17)

    def allocate(self, county6: str, birth: dt.date, sex: int) -> str:
        key = (county6, birth, sex)
        sequence = self._next.get(key, 0)
        self._next[key] = sequence + 1
        return self.format(county6, birth, sex, sequence)

    def skip_taken(self, patients: Sequence[Patient]) -> None:
        """Re-number the patients whose ID number exists in the database already (one query per round)."""
        pending = list(patients)
        while pending:
            taken = set(
                Patient.objects.filter(national_id_index__in=[p.national_id_index for p in pending]).values_list(
                    "national_id_index", flat=True
                )
            )
            pending = [p for p in pending if p.national_id_index in taken]
            for patient in pending:
                patient.national_id = self.allocate(patient.national_id[:6], patient.birth_date, patient.sex)
                patient.national_id_index = national_id_index(patient.national_id)


@dataclass
class PatientRows:
    """The rows of one synthetic patient, before insertion."""

    patient: Patient
    form: SupplementaryForm
    history: list[StatusChange]
    custody: CustodySpan


@dataclass
class _StatusStep:
    to_status: str
    on: dt.date
    extra: dict[str, object]


class SyntheticPatientFactory:
    """Deterministic synthetic people for a seed; one instance per run (it owns the ID counters)."""

    def __init__(self, *, seed: int, today: dt.date, actor: User, mix: Mix = DEFAULT_MIX) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.actor = actor
        self.mix = mix
        self.ids = NationalIdAllocator()

    def build(self, village: Area) -> PatientRows:
        rng, today = self.rng, self.today
        registered_on = _day_between(rng, today - dt.timedelta(days=365 * self.mix.years_back), today)
        sex = rng.choice((codes.Sex.MALE, codes.Sex.FEMALE))
        birth = synthetic.synthetic_birth_date(rng, registered_on, min_age=14, max_age=85)
        earliest_onset = birth + dt.timedelta(days=365 * 12)
        diagnosed_on = _day_between(rng, max(registered_on - dt.timedelta(days=365 * 3), earliest_onset), registered_on)
        disorder = _pick(rng, self.mix.disorders)
        status = _pick(rng, self.mix.statuses)
        steps = self._history(status, registered_on)
        name = synthetic.synthetic_name(rng)
        patient = Patient(
            uuid=uuid.uuid4(),
            village=village,
            name=name,
            national_id=self.ids.allocate(village.code[:6], birth, sex),
            phone=synthetic.synthetic_phone(rng) if rng.random() < 0.9 else "",
            address=synthetic.synthetic_address(rng),
            hukou_address=synthetic.synthetic_address(rng),
            sex=sex,
            birth_date=birth,
            disorder=disorder,
            diagnosis_date=diagnosed_on,
            diagnosis_hospital=rng.choice(synthetic.HOSPITALS),
            registered_on=registered_on,
            status=steps[-1].to_status,
            status_since=steps[-1].on,
            created_by=self.actor,
        )
        if rng.random() < self.mix.guardian_share:
            patient.guardian_name = synthetic.synthetic_name(rng)
            patient.guardian_relation = rng.choice(synthetic.RELATIONS)
            patient.guardian_phone = synthetic.synthetic_phone(rng)
        patient.refresh_indexes()
        onset = _day_between(rng, earliest_onset, diagnosed_on)
        form = self._form(patient, onset=onset, consent=0 if status == codes.Status.REFUSED else 1)
        history = [
            StatusChange(
                uuid=uuid.uuid4(),
                patient=patient,
                from_status=previous,
                to_status=step.to_status,
                effective_date=step.on,
                actor=self.actor,
                **step.extra,
            )
            for previous, step in zip(["", *(s.to_status for s in steps)], steps, strict=False)
        ]
        custody = CustodySpan(patient=patient, area=village, start_date=registered_on)
        return PatientRows(patient, form, history, custody)

    def _history(self, status: str, registered_on: dt.date) -> list[_StatusStep]:
        """A status history that ends in *status* and obeys ``services.ALLOWED_TRANSITIONS``."""
        rng, today = self.rng, self.today
        if status == codes.Status.REFUSED:  # consent refused at enrolment (services.initial_status)
            return [_StatusStep(status, registered_on, {})]
        steps = [_StatusStep(codes.Status.ACTIVE, registered_on, {})]
        if status == codes.Status.ACTIVE:
            if rng.random() < FOUND_AGAIN_SHARE:
                lost_on = _day_between(rng, registered_on, today)
                steps.append(self._lost(lost_on))
                steps.append(_StatusStep(codes.Status.ACTIVE, _day_between(rng, lost_on, today), {}))
            return steps
        changed_on = _day_between(rng, registered_on, today)
        if status == codes.Status.LOST:
            steps.append(self._lost(changed_on))
        elif status == codes.Status.DEAD:
            if rng.random() < LOST_BEFORE_DEATH_SHARE:
                steps.append(self._lost(changed_on))
                changed_on = _day_between(rng, changed_on, today)
            cause = _pick(rng, DEATH_CAUSE_MIX)
            subcause = _pick(rng, PHYSICAL_DEATH_MIX) if cause == codes.DeathCause.PHYSICAL else None
            steps.append(_StatusStep(status, changed_on, {"death_cause": cause, "death_subcause": subcause}))
        else:
            raise ValueError(f"the bulk path does not create {status} patients")
        return steps

    def _lost(self, on: dt.date) -> _StatusStep:
        return _StatusStep(codes.Status.LOST, on, {"lost_reason": _pick(self.rng, LOST_REASON_MIX)})

    def _form(self, patient: Patient, *, onset: dt.date, consent: int) -> SupplementaryForm:
        rng = self.rng
        registered_on = patient.registered_on
        return SupplementaryForm(
            uuid=uuid.uuid4(),
            patient=patient,
            household_type=rng.choice(codes.HouseholdType.values),
            employment=_pick(rng, {3: 30, 4: 35, 1: 8, 6: 10, 8: 7, 9: 5, 5: 2, 2: 1, 7: 2}),
            consent=consent,
            consent_signer=(patient.guardian_name or patient.name) if consent else "",
            consent_date=registered_on if consent else None,
            onset_date=onset,
            onset_year_only=rng.random() < 0.2,
            past_symptoms=sorted(rng.sample(codes.Symptom.values, rng.randint(1, 4))),
            past_locking=_pick(rng, {1: 95, 3: 4, 2: 1}),
            past_outpatient=_pick(rng, {1: 10, 2: 55, 3: 35}),
            first_antipsychotic_date=_day_between(rng, onset, registered_on),
            past_admissions=_pick(rng, {0: 45, 1: 30, 2: 15, 3: 7, 5: 3}),
            last_treatment_result=_pick(rng, {1: 10, 2: 60, 3: 25, 4: 5}),
            minor_trouble=_pick(rng, {0: 90, 1: 8, 2: 2}),
            trouble=_pick(rng, {0: 97, 1: 3}),
            disaster=_pick(rng, {0: 995, 1: 5}),
            self_harm=_pick(rng, {0: 95, 1: 5}),
            suicide_attempt=_pick(rng, {0: 97, 1: 3}),
            economic_status=_pick(rng, {1: 35, 2: 65}),
            filled_on=registered_on,
            filled_by=self.actor,
        )


def _chunks(count: int, size: int) -> Iterator[int]:
    done = 0
    while done < count:
        step = min(size, count - done)
        yield step
        done += step


def insert_batch(rows: Sequence[PatientRows], *, actor: User, allocator: NationalIdAllocator) -> None:
    """Insert one batch in one transaction, with one audit event naming every new patient."""
    with transaction.atomic():
        allocator.skip_taken([r.patient for r in rows])
        for r in rows:
            seal(r.patient)
            seal(r.form)
        # bulk_create sets the primary keys (PostgreSQL and SQLite return them); the dependent rows hold the
        # same Patient instances, so Django fills their patient_id from those keys when they are inserted.
        Patient.objects.bulk_create([r.patient for r in rows])
        SupplementaryForm.objects.bulk_create([r.form for r in rows])
        StatusChange.objects.bulk_create([c for r in rows for c in r.history])
        CustodySpan.objects.bulk_create([r.custody for r in rows])
        record_event(
            actor=actor,
            action=Action.CREATE,
            patient_uuids=[r.patient.uuid for r in rows],
            detail={"source": "synthetic_bulk", "count": len(rows)},
        )
        announce_patients_changed(
            patient_ids=[r.patient.pk for r in rows], since=min(r.patient.registered_on for r in rows)
        )


def create_synthetic_patients(
    *,
    villages: Sequence[Area],
    count: int,
    actor: User,
    seed: int,
    today: dt.date,
    batch_size: int = 2000,
    progress: Progress | None = None,
    mix: Mix = DEFAULT_MIX,
) -> int:
    """Create *count* synthetic patients spread evenly at random over *villages*; returns how many.

    The caller decides that synthetic data belongs in this database (a demo, a benchmark). Each batch is its
    own transaction, so an interrupted run keeps the batches already written.
    """
    if not villages:
        raise ValueError("at least one village is needed")
    if any(not v.is_village for v in villages):
        raise ValueError("patients belong to villages only")
    factory = SyntheticPatientFactory(seed=seed, today=today, actor=actor, mix=mix)
    done = 0
    for size in _chunks(count, batch_size):
        rows = [factory.build(factory.rng.choice(villages)) for _ in range(size)]
        insert_batch(rows, actor=actor, allocator=factory.ids)
        done += size
        if progress is not None:
            progress(done, count)
    return done
