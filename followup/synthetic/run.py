"""The generator's main loop: areas first, then county after county, written in batches of whole patients.

Streaming: only the current batch's rows are in memory (plus the plan of counties and villages, a few
kilobytes per county). Each batch is one transaction that writes every table, records one audit event naming
the batch's patients and announces them to the listeners of ``registry.signals`` (the indicator state), so an
interrupted run keeps every batch it finished.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connections, transaction
from django.utils import timezone

from casemgmt import crypto
from casemgmt.accounts.models import AreaMembership, Role, User
from casemgmt.areas.models import Area
from casemgmt.audit.models import Action, AuditSubject
from casemgmt.audit.services import record_event
from followup.models import FollowUp, HealthCheck, PatientCareState, RehabParticipation
from followup.synthetic import areas, build, templates
from followup.synthetic.choice import any_of, uuid_keys, uuid_strings
from followup.synthetic.writer import IdPool, Writer
from registry.models import CustodySpan, Patient, StatusChange, SupplementaryForm, Transfer
from registry.signals import announce_patients_changed

Progress = Callable[[int, int], None]


class AlreadyGenerated(ValueError):
    """The province code is taken: generating twice into one area tree would mix two datasets."""


@dataclass(frozen=True)
class Summary:
    patients: int
    followups: int
    counties: int
    province: str


def generate(
    *,
    patients: int,
    years: int,
    seed: int,
    province: str = "71",
    today: dt.date | None = None,
    batch_size: int = 5000,
    announce: bool = True,
    copy: bool | None = None,
    overlap: bool = False,
    progress: Progress | None = None,
) -> Summary:
    """Generate a synthetic province of *patients* patients with *years* years of follow-up history.

    With *overlap*, a second thread (its own database connection) writes each batch while the next one is
    built, so PostgreSQL's work runs beside Python's; only for autocommit callers such as the command, since
    that connection cannot see an enclosing transaction of the caller (a test's, say).
    """
    if patients < 1 or years < 1:
        raise ValueError("patients and years must be at least 1")
    if len(province) != 2 or not province.isdigit() or province == "00":
        raise ValueError("the province is a 2-digit code")
    province_code = province.ljust(12, "0")
    if Area.objects.filter(code=province_code).exists():
        raise AlreadyGenerated(province_code)
    today = today or timezone.localdate()
    window_start = dt.date(today.year - years + 1, 1, 1)
    plan_rng = random.Random(f"{seed}:plan")  # noqa: S311  (synthetic data, reproducible from the seed)
    counties = areas.plan_counties(province=province, patients=patients, rng=plan_rng)
    every_village = [v for c in counties for v in c.villages]
    with transaction.atomic():
        year_list = list(range(window_start.year - build.LEGACY_YEARS, today.year + 1))
        areas.create_areas(province=province, counties=counties, years=year_list, rng=plan_rng)
        doctors = _doctors(counties)
    writer = Writer(copy=copy)
    ctx = build.Context(
        today=today,
        window_start=window_start,
        now=str(timezone.now()),
        pools=templates.build_pools(seed),
        sealer=crypto.BulkSealer(),
        uuids=uuid_strings(),
        keys=uuid_keys(),
        followup_id=IdPool(writer, FollowUp),
    )
    actor = User.objects.get(pk=doctors[counties[0].code])
    sink = _Sink(writer, actor=actor, announce=announce, overlap=overlap)
    done = 0
    batch = build.Batch()
    try:
        for county in counties:
            builder = build.CountyBuilder(
                ctx,
                seed=seed,
                county=county.code,
                villages=county.villages,
                doctor_id=doctors[county.code],
                others=lambda rng: any_of(rng, every_village),
            )
            left = county.patients
            while left:
                take = min(left, batch_size - len(batch))
                for patient_id in writer.reserve_ids(Patient, take):
                    builder.add_patient(batch, patient_id)
                left -= take
                if len(batch) >= batch_size or (not left and county is counties[-1]):
                    sink.put(batch)
                    done += len(batch)
                    batch = build.Batch()
                    if progress and done < patients:
                        progress(done, patients)
    finally:
        followups = sink.close()
    if progress:
        progress(done, patients)
    return Summary(patients=done, followups=followups, counties=len(counties), province=province_code)


class _Sink:
    """Writes batches, inline or on one background thread (at most one batch waiting, to bound memory)."""

    def __init__(self, writer: Writer, *, actor: Any, announce: bool, overlap: bool) -> None:
        self.writer, self.actor, self.announce = writer, actor, announce
        self.pool = ThreadPoolExecutor(max_workers=1) if overlap else None
        self.pending: Future[int] | None = None
        self.followups = 0

    def put(self, batch: build.Batch) -> None:
        if self.pool is None:
            self.followups += _flush(self.writer, batch, actor=self.actor, announce=self.announce)
            return
        self._wait()
        self.pending = self.pool.submit(_flush, self.writer, batch, actor=self.actor, announce=self.announce)

    def _wait(self) -> None:
        if self.pending is not None:
            self.followups += self.pending.result()  # re-raises the writer's error here
            self.pending = None

    def close(self) -> int:
        if self.pool is not None:
            try:
                self._wait()
            finally:
                self.pool.submit(connections.close_all).result()  # the thread's own connection
                self.pool.shutdown()
        return self.followups


def _doctors(counties: list[areas.County]) -> dict[str, int]:
    """One synthetic doctor per county (no usable password), a member of the county's first township."""
    unusable = make_password(None)
    users = User.objects.bulk_create(
        [
            User(
                username=f"synth_{c.code[:6]}",
                role=Role.DOCTOR,
                display_name=f"合成医生{c.code[2:6]}",
                password=unusable,
            )
            for c in counties
        ]
    )
    if any(u.pk is None for u in users):  # backends that do not return keys
        users = list(User.objects.filter(username__in=[u.username for u in users]))
    by_county = {u.username[len("synth_") :]: u.pk for u in users}
    AreaMembership.objects.bulk_create(
        [AreaMembership(user_id=by_county[c.code[:6]], area_id=c.villages[0][:9].ljust(12, "0")) for c in counties]
    )
    return {c.code: by_county[c.code[:6]] for c in counties}


def _flush(writer: Writer, batch: build.Batch, *, actor: Any, announce: bool) -> int:
    """Write one batch in one transaction; returns how many follow-ups it held."""
    with transaction.atomic():
        with writer.consistent_rows():
            writer.write(Patient, build.PATIENT_COLUMNS, batch.patients)
            writer.write(SupplementaryForm, build.FORM_COLUMNS, batch.forms)
            writer.write(StatusChange, build.STATUS_COLUMNS, batch.statuses)
            writer.write(CustodySpan, build.CUSTODY_COLUMNS, batch.custody)
            writer.write(Transfer, build.TRANSFER_COLUMNS, batch.transfers)
            writer.write(FollowUp, templates.DYNAMIC_COLUMNS, batch.followups, fixed=templates.FIXED_COLUMNS)
            writer.write(PatientCareState, build.CARE_COLUMNS, batch.care)
            writer.write(RehabParticipation, build.REHAB_COLUMNS, batch.rehab)
            writer.write(HealthCheck, build.HEALTH_COLUMNS, batch.health)
        # One audit event naming every patient of the batch; its subjects go through the writer as well.
        event = record_event(
            actor=actor, action=Action.CREATE, detail={"source": "generate_synthetic", "count": len(batch)}
        )
        writer.write(AuditSubject, ("event_id", "patient_uuid"), [(event.pk, u) for u in batch.patient_uuids])
        if announce and batch.earliest is not None:
            announce_patients_changed(patient_ids=[row[0] for row in batch.patients], since=batch.earliest)
    return len(batch.followups)
