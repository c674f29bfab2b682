"""Issue 16 §4, the drill: seed → backup → a new empty database → restore → every identity decrypts, every
indicator document is identical, the audit chain is intact; without its keys a dump opens nothing; a damaged or
changed backup, a wrong backup key and a non-empty target are refused. Real pg_dump / pg_restore / PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from casemgmt.audit.models import AuditEvent
from casemgmt.crypto import cipher as crypto
from registry.models import Patient
from tests.base import World

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
BACKUP_KEY = crypto.new_key()


def url_of(name: str) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A new, empty database beside the test database; dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restored"
    admin = url_of("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(database: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """This project's manage.py against *database* (a separate process, as an operator would run it)."""
    environment = {**os.environ, "DATABASE_URL": url_of(database), **env}
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False)  # noqa: S603


def indicator_documents(database: str) -> list[dict[str, object]]:
    documents = []
    for period in ("2025", "2025-Q3", "2026"):
        finished = manage(database, "indicators", "--area", "320508", "--period", period, "--children")
        assert finished.returncode == 0, finished.stderr
        document = json.loads(finished.stdout)
        document.pop("computed_at", None)
        documents.append(document)
    return documents


def identities(database: str) -> dict[str, tuple[str, str, str]]:
    script = (
        "import json; from registry.models import Patient; "
        "print(json.dumps({str(p.uuid): [p.name, p.national_id, p.phone] for p in Patient.objects.all()}))"
    )
    finished = manage(database, "shell", "--no-imports", "-c", script)
    assert finished.returncode == 0, finished.stderr
    return {key: tuple(value) for key, value in json.loads(finished.stdout).items()}


def audit_chain(database: str) -> list[list[str]]:
    with psycopg.connect(url_of(database)) as conn:
        rows = conn.execute(
            "SELECT e.uuid::text, e.action, coalesce(string_agg(s.patient_uuid::text, ',' ORDER BY s.id), '') "
            "FROM audit_auditevent e LEFT JOIN audit_auditsubject s ON s.event_id = e.id GROUP BY e.id ORDER BY e.id"
        ).fetchall()
    return [list(row) for row in rows]


def test_the_drill(world: World, tmp_path: Path, empty_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    source = connection.settings_dict["NAME"]
    before = (identities(source), indicator_documents(source), audit_chain(source))
    assert len(before[0]) == Patient.objects.count() >= 2 and AuditEvent.objects.exists()

    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", BACKUP_KEY)
    dump = tmp_path / "jingfang.dump"
    out = StringIO()
    call_command("backup", str(dump), "--encrypt", stdout=out)
    assert "encrypted backup" in out.getvalue() and (tmp_path / "jingfang.dump.sha256").is_file()
    assert world.patient_a.name.encode() not in dump.read_bytes()

    restored = manage(empty_database, "restore", str(dump), BACKUP_ENCRYPTION_KEY=BACKUP_KEY)
    assert restored.returncode == 0, restored.stderr
    assert "The configured field keys open the restored data." in restored.stdout
    assert (identities(empty_database), indicator_documents(empty_database), audit_chain(empty_database)) == before

    with psycopg.connect(url_of(empty_database)) as conn, pytest.raises(psycopg.Error):
        conn.execute("UPDATE audit_auditevent SET action = 'view'")  # still append-only


def test_the_dump_holds_no_key_and_opens_nothing_without_its_keys(
    world: World, tmp_path: Path, empty_database: str
) -> None:
    dump = tmp_path / "plain.dump"
    call_command("backup", str(dump), stdout=StringIO())
    sql = subprocess.run(  # noqa: S603
        ["/usr/bin/pg_restore", "--file", "-", str(dump)], capture_output=True, text=True, check=True
    ).stdout
    for secret in (settings.FIELD_ENCRYPTION_KEYS, settings.BLIND_INDEX_KEY, world.patient_a.name):
        for part in secret.split(","):
            assert part.split(":")[-1] not in sql
    assert world.patient_a.national_id not in sql

    other_keys = {
        "FIELD_ENCRYPTION_KEYS": f"{settings.FIELD_ENCRYPTION_ACTIVE_KEY}:{crypto.new_key()}",
        "BLIND_INDEX_KEY": crypto.new_key(),
    }
    restored = manage(empty_database, "restore", str(dump), **other_keys)
    assert restored.returncode != 0 and "the configured keys do not open it" in restored.stderr
    unreadable = manage(
        empty_database,
        "shell",
        "--no-imports",
        "-c",
        "from registry.models import Patient; print(Patient.objects.first().name)",
        **other_keys,
    )
    assert unreadable.returncode != 0 and world.patient_a.name not in unreadable.stdout


def test_a_damaged_backup_a_wrong_key_and_a_full_target_are_refused(
    world: World, tmp_path: Path, empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", BACKUP_KEY)
    dump = tmp_path / "jingfang.dump"
    call_command("backup", str(dump), "--encrypt", stdout=StringIO())

    wrong_key = manage(empty_database, "restore", str(dump), BACKUP_ENCRYPTION_KEY=crypto.new_key())
    assert wrong_key.returncode != 0 and "cannot be decrypted" in wrong_key.stderr

    full = manage(connection.settings_dict["NAME"], "restore", str(dump), BACKUP_ENCRYPTION_KEY=BACKUP_KEY)
    assert full.returncode != 0 and "not empty" in full.stderr

    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    damaged = manage(empty_database, "restore", str(dump), BACKUP_ENCRYPTION_KEY=BACKUP_KEY)
    assert damaged.returncode != 0 and "does not match its checksum" in damaged.stderr
    with pytest.raises(CommandError, match="does not match its checksum"):
        call_command("restore", str(dump), "--database-url", url_of(empty_database))
