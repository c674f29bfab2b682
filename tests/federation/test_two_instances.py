"""Two instances, two databases (issue 17 §5): this test process is the province side (its test database holds
two provinces' registries and publishes each under its own key), and a national instance runs as gunicorn on a
database of its own. The national document must equal the sum of the provinces', and no identity may cross."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg
import pytest
from django.conf import settings
from django.test import override_settings

from federation.models import Publication
from federation.publish import PublishError, publish
from federation.signing import new_key_pair
from federation.tasks import publish_indicators
from metrics.indicators.definitions import INDICATOR_NAMES
from metrics.indicators.options import default_options
from metrics.indicators.periods import parse_period
from metrics.reports.engine import compute, find_area
from tests.base import TODAY
from tests.federation.world import Federation, build_federation

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
ROOT = Path(__file__).resolve().parents[2]
PERIODS = [str(TODAY.year - 1), str(TODAY.year)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class National:
    url: str
    database: str
    env: dict[str, str]
    keys: dict[str, tuple[str, str]]

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "manage.py", *args]
        return subprocess.run(command, check=False, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120)  # noqa: S603

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(host="127.0.0.1", user="postgres", dbname=self.database) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []


def _admin() -> psycopg.Connection[Any]:
    return psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True)


@pytest.fixture(scope="module")
def national_instance() -> Iterator[National]:
    database = f"jingfang_national_{os.getpid()}"
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        conn.execute(f'CREATE DATABASE "{database}"')
    keys = {"32": new_key_pair(), "34": new_key_pair()}
    port = free_port()
    # The national instance's own settings, explicitly: the keys this test process runs with (not whatever a file
    # or an earlier test left in the environment), no Redis, its own database.
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/root")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "casemgmt.settings",
        "CASEMGMT_LOCAL_ENV": "/dev/null",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": settings.FIELD_ENCRYPTION_KEYS,
        "FIELD_ENCRYPTION_ACTIVE_KEY": settings.FIELD_ENCRYPTION_ACTIVE_KEY,
        "BLIND_INDEX_KEY": settings.BLIND_INDEX_KEY,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "FEDERATION_PROVINCE_KEYS": ",".join(f"{code}:{public}" for code, (_, public) in keys.items()),
    }
    node = National(f"http://127.0.0.1:{port}/api/v1/federation/batches", database, env, keys)
    migrated = node.manage("migrate", "--no-input", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, "-m", "gunicorn", "casemgmt.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            wait_for(node, server, log)
            yield node
        finally:
            server.terminate()
            server.wait(timeout=30)
            with _admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def wait_for(node: National, server: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    """Until the national endpoint answers (405 to a GET); its log in the failure if it stops or never does."""
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(node.url, timeout=2)  # noqa: S310 - loopback
        except urllib.error.HTTPError:
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"national instance did not start: {log.read().decode(errors='replace')[-3000:]}")
            time.sleep(0.3)


@pytest.fixture
def national(national_instance: National) -> National:
    national_instance.query("TRUNCATE federation_federateddocument")
    return national_instance


def publish_as(province: str, world: Federation, url: str, **kwargs: Any) -> Any:
    with override_settings(
        FEDERATION_PROVINCE=province, FEDERATION_SIGNING_KEY=world.keys[province][0], FEDERATION_NATIONAL_URL=url
    ):
        return publish(**kwargs)


def local_province_documents(period_key: str) -> list[dict[str, Any]]:
    period = parse_period(period_key)
    return [compute(find_area(code), period, default_options()).document() for code in ("32", "34")]


def test_the_national_document_is_the_sum_of_the_provinces_and_no_identity_crosses(national: National) -> None:
    world = build_federation(national.keys)
    for province in ("32", "34"):
        report = publish_as(province, world, national.url, periods=PERIODS)
        assert report.sent == PERIODS
    for period_key in PERIODS:
        printed = national.manage("federated_indicators", "--area", "all", "--period", period_key, "--children")
        assert printed.returncode == 0, printed.stderr
        country = json.loads(printed.stdout)
        provinces = local_province_documents(period_key)
        for name in INDICATOR_NAMES:
            figures = [doc["indicators"][name] for doc in provinces]
            numerator = sum(f["numerator"] for f in figures)
            denominators = [f["denominator"] for f in figures]
            denominator = None if None in denominators else sum(denominators)
            assert country["indicators"][name]["numerator"] == numerator, name
            assert country["indicators"][name]["denominator"] == denominator, name
        for key in ("registered", "managed", "at_home", "deaths", "lost", "new_registrations"):
            assert country["counts"][key] == sum(doc["counts"][key] for doc in provinces), key
        assert [child["area"]["code"] for child in country["children"]] == ["320000000000", "340000000000"]
    anhui = json.loads(national.manage("federated_indicators", "--area", "34", "--period", PERIODS[1]).stdout)
    assert anhui["indicators"] == local_province_documents(PERIODS[1])[1]["indicators"]
    assert anhui["counts"]["registered"] == 6

    # Nothing but aggregates: no registry rows, and no patient's name, ID number or phone anywhere in the database.
    for table in ("registry_patient", "followup_followup", "registry_custodyspan", "audit_auditevent"):
        assert national.query(f"SELECT count(*) FROM {table}") == [(0,)], table  # noqa: S608 - fixed names
    dump = subprocess.run(  # noqa: S603 - fixed arguments
        ["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "--data-only", national.database],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "340202000000" in dump  # the dump holds the published documents
    for patient in world.patients:
        for secret in (patient.name, patient.national_id, patient.phone):
            assert secret and secret not in dump


def test_publishing_again_sends_nothing_new_and_the_receiver_is_idempotent(national: National) -> None:
    world = build_federation(national.keys)
    publish_as("34", world, national.url, periods=PERIODS)
    again = publish_as("34", world, national.url, periods=PERIODS)
    assert again.sent == [] and again.unchanged == PERIODS  # the same figures: not sent again
    Publication.objects.all().delete()
    resent = publish_as("34", world, national.url, periods=PERIODS)
    assert resent.sent == PERIODS
    answers = [p.answer for p in Publication.objects.order_by("pk")]
    assert all(answer["unchanged"] == 3 and answer["created"] == 0 for answer in answers)
    assert national.query("SELECT count(*) FROM federation_federateddocument") == [(6,)]


def test_an_unreachable_national_instance_is_retried(national: National, eager_celery: Any) -> None:
    world = build_federation(national.keys)
    closed = f"http://127.0.0.1:{free_port()}/api/v1/federation/batches"
    with pytest.raises(PublishError) as failure:
        publish_as("34", world, closed, periods=PERIODS[:1])
    assert failure.value.transient
    assert Publication.objects.get().state == Publication.State.FAILED
    Publication.objects.all().delete()
    with override_settings(
        FEDERATION_PROVINCE="34", FEDERATION_SIGNING_KEY=world.keys["34"][0], FEDERATION_NATIONAL_URL=closed
    ):
        given_up = publish_indicators.apply()  # eager: each retry runs at once, until max_retries
    assert given_up.state == "FAILURE" and isinstance(given_up.result, PublishError)
    assert (
        Publication.objects.filter(state=Publication.State.FAILED).count() == (publish_indicators.max_retries or 0) + 1
    )
    Publication.objects.all().delete()
    with override_settings(
        FEDERATION_PROVINCE="34", FEDERATION_SIGNING_KEY=world.keys["32"][0], FEDERATION_NATIONAL_URL=national.url
    ):
        refused = publish_indicators.apply()  # signed with the wrong key: refused, not retried
    assert refused.state == "FAILURE" and "403" in str(refused.result)
    assert Publication.objects.count() == 1
