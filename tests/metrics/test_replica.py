"""Reports on a real PostgreSQL streaming replica (issue 16 §8).

A standby of the running cluster is made with ``pg_basebackup -R -X stream`` once the test database exists,
started with ``pg_ctl`` as the postgres user on a free port, and registered as the ``replica`` alias the way
``DATABASE_REPLICA_URL`` does. Then: a report reads the replica (and provably so: with replay paused it shows
the replica's older figures); it falls back to the primary when the standby lags beyond the bound or is
stopped, and says so; audit events and the state refresh stay on the primary; the replica session writes
nothing.

Needs ``host replication all 127.0.0.1/32 trust`` in the primary's pg_hba.conf (``.ci/run`` ensures it).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.test import Client

from casemgmt.audit.models import Action, AuditEvent
from casemgmt.env import replica_database_from_url
from casemgmt.readdb import REPLICA_ALIAS, read_alias
from metrics.models import PdfExport
from metrics.reports import source
from tests.base import TODAY, build_world, make_patient

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA_ALIAS]),
]

BIN = Path("/usr/lib/postgresql/15/bin")
YEAR = str(TODAY.year)
API = "/reports/api/indicators"
SAME_AS_PRIMARY = (
    "max_connections", "max_worker_processes", "max_wal_senders", "max_prepared_transactions",
    "max_locks_per_transaction",
)  # fmt: skip  # a hot standby refuses to start with less than the primary


def _as_postgres(*command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """PostgreSQL refuses to run as root: the standby's tools run as the postgres user."""
    return subprocess.run(  # noqa: S603 - fixed tool paths, arguments built here
        ["runuser", "-u", "postgres", "--", *command],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Standby:
    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def start(self) -> None:
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "log"), "-w", "-t", "30",
                     "start")  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                with self.connect() as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def connect(self) -> psycopg.Connection[Any]:
        name = connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=name, autocommit=True)

    def sql(self, statement: str) -> None:
        with self.connect() as conn:
            conn.execute(statement)


def _primary_setting(name: str) -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return str(cursor.fetchone()[0])


@pytest.fixture(scope="module")
def standby(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Standby]:
    """A streaming standby of the whole cluster, the test database included (backed up after it was made)."""
    if shutil.which("runuser") is None or not (BIN / "pg_ctl").exists():
        pytest.fail("the replica test needs PostgreSQL 15's server binaries and runuser")
    directory = Path(tempfile.mkdtemp(prefix="jf-standby-"))
    shutil.chown(directory, "postgres")
    os.chmod(directory, 0o700)
    node = Standby(directory, _free_port())
    try:
        _as_postgres("pg_basebackup", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-D", str(node.data),
                     "-R", "-X", "stream", "-c", "fast", timeout=120)  # fmt: skip
        with django_db_blocker.unblock():
            same = "\n".join(f"{name} = {_primary_setting(name)}" for name in SAME_AS_PRIMARY)
        (node.directory / "sock").mkdir()
        shutil.chown(node.directory / "sock", "postgres")
        (node.data / "postgresql.conf").write_text(
            f"port = {node.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{node.directory}/sock'\n"
            f"hot_standby = on\nfsync = off\nshared_buffers = 16MB\n{same}\n",
            encoding="utf-8",
        )
        (node.data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        (node.data / "pg_ident.conf").write_text("")
        for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
            shutil.chown(node.data / name, "postgres")
        node.start()
        # The alias as DATABASE_REPLICA_URL configures it (a test mirror: never created nor flushed by the runner).
        name = connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]
        entry = replica_database_from_url(f"postgres://postgres@127.0.0.1:{node.port}/{name}")
        connections.settings[REPLICA_ALIAS] = connections.configure_settings(
            {DEFAULT_DB_ALIAS: {}, REPLICA_ALIAS: entry}
        )[REPLICA_ALIAS]
        yield node
    finally:
        if REPLICA_ALIAS in connections.settings:
            if any(c.alias == REPLICA_ALIAS for c in connections.all(initialized_only=True)):
                connections[REPLICA_ALIAS].close()
                del connections[REPLICA_ALIAS]
            del connections.settings[REPLICA_ALIAS]
        if node.running():
            _as_postgres(str(BIN / "pg_ctl"), "-D", str(node.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def replica(standby: Standby, transactional_db: Any, settings: Any) -> Iterator[Standby]:
    """The running standby, replaying, with the default lag bound; left so for the next test."""
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 300
    try:
        yield standby
    finally:
        connections[REPLICA_ALIAS].close()
        if not standby.running():
            standby.start()
        standby.sql("SELECT pg_wal_replay_resume()")


def wait_for_replica(timeout: float = 20) -> source.Source:
    """The standby has replayed everything committed so far (reports would read it)."""
    deadline = time.monotonic() + timeout
    while True:
        chosen = source.choose()
        if chosen.is_replica and chosen.lag_seconds == 0:
            return chosen
        assert time.monotonic() < deadline, f"the standby did not catch up: {chosen}"
        time.sleep(0.1)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def registered(client: Client) -> tuple[int, str]:
    response = client.get(API, {"area": "320508", "period": YEAR})
    assert response.status_code == 200
    return int(response.json()["counts"]["registered"]), response["X-Data-Source"]


def on_replica(answer: tuple[int, str], count: int) -> bool:
    """The report read the replica (its lag is within the bound, not always 0 on a busy machine) and counted
    *count* registered patients."""
    return answer[0] == count and answer[1].startswith("replica; lag=")


def test_a_report_reads_the_replica_and_falls_back_when_it_lags(replica: Standby, settings: Any) -> None:
    world = build_world()
    client = client_for(world.county_d)
    wait_for_replica()
    assert on_replica(registered(client), 2)
    page = client.get("/reports/", {"area": "320508", "period": YEAR})
    assert page.status_code == 200 and page["X-Data-Source"].startswith("replica; lag=")
    assert "数据来源：只读副本（延迟 " in page.content.decode()

    # Replay paused, a third patient registered on the primary: within a generous bound the report still reads
    # the replica, which does not have that patient yet (proof that the figures came from the standby) ...
    replica.sql("SELECT pg_wal_replay_pause()")
    make_patient(world.doctor_a, world.village_a2)
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 3600
    count, header = registered(client)
    assert count == 2 and header.startswith("replica; lag=")
    # ... and beyond a tiny bound it falls back to the primary, which has it, and says so.
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.2
    time.sleep(0.5)
    assert registered(client) == (3, "primary; fallback=lagging")
    page = client.get("/reports/", {"area": "320508", "period": YEAR})
    assert page["X-Data-Source"] == "primary; fallback=lagging" and "数据来源：主库" in page.content.decode()

    replica.sql("SELECT pg_wal_replay_resume()")
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 300
    wait_for_replica()
    assert on_replica(registered(client), 3)


def test_a_stopped_standby_means_the_primary_until_it_is_back(replica: Standby) -> None:
    world = build_world()
    client = client_for(world.county_d)
    wait_for_replica()
    assert on_replica(registered(client), 2)
    replica.stop()
    assert registered(client) == (2, "primary; fallback=unreachable")
    page = client.get("/reports/", {"area": "320508", "period": YEAR})
    assert page.status_code == 200 and "数据来源：主库" in page.content.decode()
    patients = client.get("/reports/patients", {"area": "320508", "period": YEAR, "set": "registered"})
    assert patients.status_code == 200 and patients["X-Data-Source"] == "primary; fallback=unreachable"
    replica.start()
    wait_for_replica()
    assert on_replica(registered(client), 2)


def test_audit_and_state_writes_stay_on_the_primary_and_the_replica_session_writes_nothing(
    replica: Standby,
) -> None:
    from metrics.state.rebuild import rebuild

    world = build_world()
    rebuild()  # the report then sums the per-village state (metrics.state.read.tallies) on the replica
    client = client_for(world.county_d)
    wait_for_replica()
    last = AuditEvent.objects.order_by("pk").values_list("pk", flat=True).last() or 0
    patients = client.get("/reports/patients", {"area": "320508", "period": YEAR, "set": "registered"})
    assert patients.status_code == 200 and patients["X-Data-Source"].startswith("replica; lag=")
    assert "只读副本" in patients.content.decode()
    xlsx = client.get("/reports/xlsx", {"area": "320508", "period": YEAR})
    assert xlsx.status_code == 200 and xlsx["X-Data-Source"].startswith("replica; lag=")
    assert on_replica(registered(client), 2)
    events = list(AuditEvent.objects.using(DEFAULT_DB_ALIAS).filter(pk__gt=last).order_by("pk"))
    assert [(e.action, e.detail["report"]) for e in events] == [
        (Action.LIST, "indicator_patients"),
        (Action.EXPORT, "indicators_xlsx"),
        (Action.LIST, "indicators_api"),
    ]
    subjects = set(events[0].subjects.values_list("patient_uuid", flat=True))
    assert subjects == {world.patient_a.uuid, world.patient_b.uuid}

    # The alias is only ever used for reading: outside a report it is not chosen, and its session refuses writes.
    assert read_alias() == DEFAULT_DB_ALIAS
    with pytest.raises(DatabaseError, match="read-only"), connections[REPLICA_ALIAS].cursor() as cursor:
        cursor.execute("CREATE TABLE replica_write_probe (id int)")


def test_the_pdf_of_a_report_says_where_its_figures_came_from(replica: Standby) -> None:
    from metrics.reports.pdf import content_for_export

    world = build_world()
    export = PdfExport.objects.create(requested_by=world.county_d, area_code="320508000000", period=YEAR, options={})
    wait_for_replica()
    content, _code = content_for_export(export)
    assert content.footer[-1].startswith("数据来源：只读副本（延迟 ")
    replica.stop()
    content, _code = content_for_export(export)
    assert content.footer[-1] == "数据来源：主库"


def test_state_rows_refreshed_for_a_report_are_read_once_the_standby_has_them(replica: Standby, settings: Any) -> None:
    """A report first refreshes stale state rows on the primary (``ensure_fresh``); on the replica it then
    waits for them to be replayed, or reads the primary: it never sums the standby's stale rows."""
    from metrics.models import PatientYearState
    from metrics.state.rebuild import rebuild

    world = build_world()
    rebuild()
    client = client_for(world.county_d)
    yesterday = TODAY - dt.timedelta(days=1)
    stale = PatientYearState.objects.filter(year=int(YEAR))
    assert stale.update(valid_until=yesterday) > 0
    wait_for_replica()
    count, header = registered(client)
    assert count == 2 and header.startswith("replica; lag=")
    assert not PatientYearState.objects.filter(valid_until__lte=yesterday).exists()  # refreshed on the primary

    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 3600
    stale.update(valid_until=yesterday)
    wait_for_replica()
    replica.sql("SELECT pg_wal_replay_pause()")
    assert registered(client) == (2, "primary; fallback=lagging")  # the refresh could not be replayed in time


def test_a_replica_url_naming_a_writable_server_is_not_used_and_its_session_writes_nothing(
    replica: Standby,
) -> None:
    """A misconfigured DATABASE_REPLICA_URL pointing at the primary (or a promoted standby): not in recovery,
    so reports read the primary and say why; and the alias's session is read-only all the same."""
    world = build_world()
    client = client_for(world.county_d)
    saved = connections.settings[REPLICA_ALIAS]
    connections[REPLICA_ALIAS].close()
    del connections[REPLICA_ALIAS]
    connections.settings[REPLICA_ALIAS] = {**saved, "PORT": connections[DEFAULT_DB_ALIAS].settings_dict["PORT"]}
    try:
        assert registered(client) == (2, "primary; fallback=not a standby")
        with pytest.raises(DatabaseError, match="read-only"), connections[REPLICA_ALIAS].cursor() as cursor:
            cursor.execute("CREATE TABLE replica_write_probe (id int)")
    finally:
        connections[REPLICA_ALIAS].close()
        del connections[REPLICA_ALIAS]
        connections.settings[REPLICA_ALIAS] = saved


def test_the_machine_api_reads_the_replica_too(replica: Standby) -> None:
    """Issue 16 §8: report pages, exports and the API's read endpoints read from the replica."""
    from casemgmt.api.tokens import issue

    world = build_world()
    _token, secret = issue(world.county_d, name="对接平台", days=30)
    wait_for_replica()
    bearer = {"Authorization": f"Bearer {secret}"}
    params = {"area": "320508", "period": YEAR}
    document = Client().get("/api/v1/indicators", params, headers=bearer)
    assert document.status_code == 200 and document["X-Data-Source"].startswith("replica; lag=")
    assert document.json()["counts"]["registered"] == 2
    patients = Client().get("/api/v1/patients", {**params, "set": "registered"}, headers=bearer)
    assert patients.status_code == 200 and patients["X-Data-Source"].startswith("replica; lag=")
    assert patients.json()["total"] == 2
