"""The generator's main loop: areas first, then county after county, written in batches of whole patients.

Streaming: only the current batch's rows are in memory (plus the plan of counties and villages, a few
kilobytes per county). Each batch is one transaction that writes every table, records one audit event naming
the batch's patients and announces them to the listeners of ``registry.signals`` (the indicator state), so an
interrupted run keeps every batch it finished.

Counties are independent (each has its own random generator), so on PostgreSQL several worker processes
(``workers``) can build and write them side by side; the data is the same whichever worker builds a county.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
import random
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.hashers import make_password
from django.db import connection, connections, transaction
from django.utils import timezone

from casemgmt.accounts.models import AreaMembership, Role, User
from casemgmt.areas.models import Area
from casemgmt.audit.models import Action, AuditSubject
from casemgmt.audit.services import record_event
from casemgmt.crypto import cipher as crypto
from devdata import registry_bulk as bulk
from devdata.synthetic import areas, build, realmap, templates
from devdata.synthetic.choice import any_of, uuid_keys, uuid_strings
from devdata.synthetic.writer import IdPool, Writer
from followup.models import FollowUp, HealthCheck, PatientCareState, RehabParticipation
from registry.models import CustodySpan, Patient, StatusChange, SupplementaryForm, Transfer
from registry.signals import announce_patients_changed

if TYPE_CHECKING:
    from multiprocessing.queues import Queue

Progress = Callable[[int, int], None]
Report = Callable[[int], None]  # told how many more patients were handed to the writer


class AlreadyGenerated(ValueError):
    """The province code is taken: generating twice into one area tree would mix two datasets."""


class WorkerFailed(RuntimeError):
    """A worker process stopped with an error; the batches every worker finished before it stay written."""


@dataclass(frozen=True)
class Summary:
    patients: int
    followups: int
    counties: int
    province: str


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs: plain data, the same in every worker process."""

    seed: int
    today: dt.date
    window_start: dt.date
    now: str
    counties: tuple[areas.County, ...]
    doctors: dict[str, int]  # county code -> the synthetic doctor's user id
    batch_size: int
    announce: bool
    copy: bool | None
    overlap: bool


def generate(
    *,
    patients: int | None,
    years: int,
    seed: int,
    province: str = "71",
    country: bool = False,
    area: str | None = None,
    today: dt.date | None = None,
    batch_size: int = 5000,
    announce: bool = True,
    copy: bool | None = None,
    overlap: bool = False,
    workers: int = 1,
    progress: Progress | None = None,
) -> Summary:
    """Generate a synthetic province (or, with *country*, the whole country; with *area*, one real city or county
    such as ``"3402"``) with *years* years of follow-up.

    A *province* the 2023 division codes have (11 … 65) is the real one: its tree is loaded with the census
    populations and the patients — *patients* in all, or 4.6‰ of the residents when None — are placed per
    county in proportion to its population (``realmap``). A code the list lacks (71 Taiwan, 81, 82, 90–99) gets an
    invented tree of *patients* patients in counties of about 2,500 (``areas``), for benchmarks of a chosen size.

    With *overlap*, a second thread (its own database connection) writes each batch while the next one is
    built, so PostgreSQL's work runs beside Python's. With *workers* > 1, that many processes build and write
    counties in parallel (PostgreSQL only). Both use other connections, which cannot see an enclosing
    transaction of the caller (a test's, say): they are for autocommit callers such as the command.
    """
    if (patients is not None and patients < 1) or years < 1 or workers < 1:
        raise ValueError("patients, years and workers must be at least 1")
    if area is not None and (len(area) not in (4, 6) or not area.isdigit()):
        raise ValueError("the area is a 4-digit city or 6-digit county code")
    if not country and area is None and (len(province) != 2 or not province.isdigit() or province == "00"):
        raise ValueError("the province is a 2-digit code")
    if workers > 1 and (connection.vendor != "postgresql" or connection.in_atomic_block):
        raise ValueError("parallel workers need PostgreSQL in autocommit mode")
    today = today or timezone.localdate()
    window_start = dt.date(today.year - years + 1, 1, 1)
    plan_rng = random.Random(f"{seed}:plan")
    real = country or area is not None or realmap.is_real_province(province)
    if real:
        prefix = realmap.WHOLE_COUNTRY if country else area or province
        if (
            Patient.objects.filter(village__code__startswith=prefix).exists()
            or User.objects.filter(username__startswith=f"synth_{prefix}").exists()
        ):
            raise AlreadyGenerated(prefix.ljust(12, "0"))
        realmap.load_tree(prefix)
        counties = realmap.plan_counties(prefix, patients=patients, year=today.year)
    else:
        if patients is None:
            raise ValueError("an invented province needs a number of patients")
        prefix = province
        if Area.objects.filter(code=province.ljust(12, "0")).exists():
            raise AlreadyGenerated(province.ljust(12, "0"))
        counties = areas.plan_counties(province=province, patients=patients, rng=plan_rng)
    if not counties:
        raise ValueError("no county to place patients in")
    with transaction.atomic():
        if not real:
            year_list = list(range(window_start.year - build.LEGACY_YEARS, today.year + 1))
            areas.create_areas(
                province=province, counties=counties, years=year_list, rng=plan_rng, writer=Writer(copy=copy)
            )
        doctors = _doctors(counties)
    plan = Plan(
        seed=seed,
        today=today,
        window_start=window_start,
        now=str(timezone.now()),
        counties=tuple(counties),
        doctors=doctors,
        batch_size=batch_size,
        announce=announce,
        copy=copy,
        overlap=overlap,
    )
    total = sum(county.patients for county in counties)
    done = 0

    def report(count: int) -> None:
        nonlocal done
        done += count
        if progress and done < total:
            progress(done, total)

    workers = max(1, min(workers, len(counties)))
    followups = _run_parallel(plan, workers, report) if workers > 1 else _run_inline(plan, report)
    if progress:
        progress(done, total)
    return Summary(patients=done, followups=followups, counties=len(counties), province=prefix.ljust(12, "0"))


def generate_on(
    counties: list[areas.County],
    *,
    doctors: dict[str, int],
    years: int,
    seed: int,
    today: dt.date,
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> Summary:
    """Patients and their histories on areas that exist already (the real map), in this process.

    Each of *counties* is a unit of villages — a county, or a township of one — whose patients are written by
    the doctor *doctors* names for its code, or by a synthetic doctor of its county when it names none. The
    indicator state follows each batch.
    """
    unnamed = [c for c in counties if c.code not in doctors]
    doctors = {**doctors, **(_doctors(unnamed) if unnamed else {})}
    plan = Plan(
        seed=seed,
        today=today,
        window_start=dt.date(today.year - years + 1, 1, 1),
        now=str(timezone.now()),
        counties=tuple(counties),
        doctors=doctors,
        batch_size=batch_size,
        announce=True,
        copy=None,
        overlap=False,
    )
    done = 0

    def report(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(done, sum(c.patients for c in counties))

    followups = _run_inline(plan, report)
    return Summary(patients=done, followups=followups, counties=len(counties), province=counties[0].code[:2])


class CountyWorker:
    """Builds and writes counties in the current process, with its own encryption nonces, row keys, writer
    and database connection (so a forked worker never shares any of them with another)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.writer = Writer(copy=plan.copy)
        self.ctx = build.Context(
            today=plan.today,
            window_start=plan.window_start,
            now=plan.now,
            pools=templates.build_pools(plan.seed),
            sealer=crypto.BulkSealer(),
            uuids=uuid_strings(),
            keys=uuid_keys(),
            followup_id=IdPool(self.writer, FollowUp),
        )
        actor = User.objects.get(pk=plan.doctors[plan.counties[0].code])
        self.sink = _Sink(self.writer, actor=actor, announce=plan.announce, overlap=plan.overlap)
        self.every_village = [v for c in plan.counties for v in c.villages]
        self.batch = build.Batch()
        # Several units of one county (the demo's townships, each with its own doctor) share its ID numbers.
        self.id_allocators: dict[str, bulk.NationalIdAllocator] = {}

    def county(self, index: int, report: Report) -> None:
        """Build the county's patients into the current batch, handing each full batch to the writer."""
        county = self.plan.counties[index]
        builder = build.CountyBuilder(
            self.ctx,
            seed=self.plan.seed,
            county=county.code,
            villages=county.villages,
            doctor_id=self.plan.doctors[county.code],
            others=lambda rng: any_of(rng, self.every_village),
        )
        builder.ids = self.id_allocators.setdefault(county.code[:6], builder.ids)
        left = county.patients
        while left:
            take = min(left, self.plan.batch_size - len(self.batch))
            for patient_id in self.writer.reserve_ids(Patient, take):
                builder.add_patient(self.batch, patient_id)
            left -= take
            if len(self.batch) >= self.plan.batch_size:
                self._put(report)

    def finish(self, report: Report) -> int:
        """Write what is left and wait for the writer; returns how many follow-ups this worker wrote."""
        try:
            if len(self.batch):
                self._put(report)
        finally:
            followups = self.sink.close()
        return followups

    def _put(self, report: Report) -> None:
        size = len(self.batch)
        self.sink.put(self.batch)
        self.batch = build.Batch()
        report(size)


def _run_inline(plan: Plan, report: Report) -> int:
    worker = CountyWorker(plan)
    try:
        for index in range(len(plan.counties)):
            worker.county(index, report)
    except BaseException:
        worker.sink.close()
        raise
    return worker.finish(report)


def _run_parallel(plan: Plan, workers: int, report: Report) -> int:
    """Fork *workers* processes that take counties from a shared queue; relay their progress and errors."""
    context = multiprocessing.get_context("fork")  # children inherit the settings and keys, not connections
    tasks: Queue[int | None] = context.Queue()
    results: Any = context.Queue()
    # Largest counties first, so the workers finish close together.
    for index in sorted(range(len(plan.counties)), key=lambda i: -plan.counties[i].patients):
        tasks.put(index)
    for _ in range(workers):
        tasks.put(None)
    connections.close_all()  # each child opens its own connection
    processes = [context.Process(target=_worker_main, args=(plan, tasks, results)) for _ in range(workers)]
    for process in processes:
        process.start()
    followups, finished, failed = 0, 0, True
    try:
        while finished < workers:
            try:
                kind, value = results.get(timeout=1)
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in processes):
                    raise WorkerFailed("a worker process ended without reporting") from None
                continue
            if kind == "error":
                raise WorkerFailed(value)
            if kind == "patients":
                report(value)
            else:
                followups += value
                finished += 1
        failed = False
    finally:
        for process in processes:
            if failed and process.is_alive():
                process.terminate()  # its open batch is rolled back with its connection
            process.join()
    return followups


def _worker_main(plan: Plan, tasks: Queue[int | None], results: Any) -> None:
    """A worker process: counties from *tasks* until the sentinel, then ("done", follow-ups) on *results*."""
    try:
        _set_aside_inherited_connections()
        worker = CountyWorker(plan)
        report: Report = lambda count: results.put(("patients", count))  # noqa: E731
        try:
            while (index := tasks.get()) is not None:
                worker.county(index, report)
        except BaseException:
            worker.sink.close()
            raise
        results.put(("done", worker.finish(report)))
    except BaseException as exc:  # relayed to the parent, which raises it
        results.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        connections.close_all()


_INHERITED: list[object] = []  # in a forked worker: the parent's connection objects, kept open and never used


def _set_aside_inherited_connections() -> None:
    """In a forked worker: make the connections this process sees open afresh on first use.

    The parent closes its connections before forking, but it may hold others it cannot see from where it forks
    (Django keeps connections per thread, or per context while an event loop runs in the thread, as under a
    browser-driving test). A child must neither use such a socket (it is shared with the parent) nor close it
    (that would end the parent's session), so the objects are set aside, referenced until the process exits.
    """
    for wrapper in connections.all(initialized_only=True):
        if wrapper.connection is not None:
            _INHERITED.append(wrapper.connection)
            wrapper.connection = None


class _Sink:
    """Writes batches, inline or on one background thread (at most one batch waiting, to bound memory)."""

    def __init__(self, writer: Writer, *, actor: User, announce: bool, overlap: bool) -> None:
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
            pending, self.pending = self.pending, None
            self.followups += pending.result()  # re-raises the writer's error here

    def close(self) -> int:
        if self.pool is not None:
            pool, self.pool = self.pool, None
            try:
                self._wait()
            finally:
                pool.submit(connections.close_all).result()  # the thread's own connection
                pool.shutdown()
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


def _flush(writer: Writer, batch: build.Batch, *, actor: User, announce: bool) -> int:
    """Write one batch in one transaction; returns how many follow-ups it held."""
    with transaction.atomic():
        writer.commit_without_waiting()
        with writer.consistent_rows():
            writer.write(Patient, build.PATIENT_COLUMNS, batch.patients)
            writer.write(SupplementaryForm, build.FORM_COLUMNS, batch.forms)
            writer.write(StatusChange, build.STATUS_COLUMNS, batch.statuses)
            writer.write(CustodySpan, build.CUSTODY_COLUMNS, batch.custody)
            writer.write(Transfer, build.TRANSFER_COLUMNS, batch.transfers)
            writer.write_lines(FollowUp, templates.COLUMNS, batch.followups)
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
