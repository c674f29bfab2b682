"""Backups of the PostgreSQL database, and their restore into an empty database.

A backup is ``pg_dump --format=custom`` (compressed), optionally encrypted, with a SHA-256 checksum beside it. The
field keys are never inside it (they live in the environment, see SECURITY.md): a dump restored without its keys
holds ciphertext only, so the keys are backed up on their own path.

Encryption (``--encrypt``, key from ``BACKUP_ENCRYPTION_KEY``: 32 bytes, base64): AES-256-GCM in 4 MiB chunks, so
memory stays flat whatever the size. File layout: MAGIC, an 8-byte random file id, then per chunk a 4-byte length
and the sealed chunk; each chunk's nonce is the file id and its counter, and its associated data says whether it is
the last one, so chunks can be neither reordered nor cut off.

May import Django and ``casemgmt`` only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from casemgmt import env

MAGIC = b"JINGFANG-BACKUP-1\n"
CHUNK = 4 * 1024 * 1024
PG_DUMP = "/usr/bin/pg_dump"
PG_RESTORE = "/usr/bin/pg_restore"


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why, for the person at the console."""


# --- where -------------------------------------------------------------------------------------------------------


def connection_env(database: dict[str, object]) -> tuple[str, dict[str, str]]:
    """The database name and the libpq environment for a Django DATABASES entry (PostgreSQL only)."""
    if "postgresql" not in str(database.get("ENGINE", "")):
        raise BackupError("backup and restore need PostgreSQL (an SQLite demo database is one file: copy it)")
    env = {**os.environ}
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if database.get(key):
            env[variable] = str(database[key])
    return str(database["NAME"]), env


def database_from_url(url: str, base: dict[str, object]) -> dict[str, object]:
    """A DATABASES entry for ``postgres://user:password@host:port/name`` (read as DATABASE_URL is), the rest as in
    *base*."""
    try:
        parsed = env.database_from_url(url)
    except env.ImproperlyConfiguredEnv as exc:
        raise BackupError("the target must be a postgres://user@host:port/name URL") from exc
    if "postgresql" not in str(parsed["ENGINE"]) or not parsed["NAME"]:
        raise BackupError("the target must be a postgres://user@host:port/name URL")
    return {**base, **parsed}


# --- the checksum ------------------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def write_checksum(path: Path) -> str:
    value = sha256_of(path)
    checksum_path(path).write_text(f"{value}  {path.name}\n", encoding="utf-8")
    return value


def verify_checksum(path: Path) -> None:
    sums = checksum_path(path)
    if not sums.is_file():
        raise BackupError(f"{sums.name} is missing: a backup is restored only with its checksum")
    expected = sums.read_text(encoding="utf-8").split()[0]
    if sha256_of(path) != expected:
        raise BackupError(f"{path.name} does not match its checksum: the file is damaged or was changed")


# --- encryption --------------------------------------------------------------------------------------------------


def backup_key(text: str | None) -> bytes:
    if not text:
        raise BackupError("BACKUP_ENCRYPTION_KEY is not set (32 bytes, base64; manage.py generate_keys prints one)")
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BackupError("BACKUP_ENCRYPTION_KEY is not valid base64") from exc
    if len(key) != 32:
        raise BackupError("BACKUP_ENCRYPTION_KEY must be 32 bytes")
    return key


def _nonce(file_id: bytes, counter: int) -> bytes:
    return file_id + counter.to_bytes(4, "big")


def _chunks(handle: object) -> Iterator[tuple[bytes, bool]]:
    """(chunk, is_last) pairs of a binary file, reading one chunk ahead."""
    read = handle.read  # type: ignore[attr-defined]
    current = read(CHUNK)
    while True:
        following = read(CHUNK)
        yield current, not following
        if not following:
            return
        current = following


def encrypt_file(source: Path, target: Path, key: bytes) -> None:
    cipher, file_id = AESGCM(key), secrets.token_bytes(8)
    with source.open("rb") as plain, target.open("wb") as sealed:
        sealed.write(MAGIC + file_id)
        for counter, (chunk, last) in enumerate(_chunks(plain)):
            box = cipher.encrypt(_nonce(file_id, counter), chunk, MAGIC + (b"\x01" if last else b"\x00"))
            sealed.write(len(box).to_bytes(4, "big") + box)


def is_encrypted(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def decrypt_file(source: Path, target: Path, key: bytes) -> None:
    cipher = AESGCM(key)
    with source.open("rb") as sealed, target.open("wb") as plain:
        sealed.read(len(MAGIC))
        file_id, counter, ended = sealed.read(8), 0, False
        while size_bytes := sealed.read(4):
            if ended:
                raise BackupError("the encrypted backup goes on after its last part: it was changed")
            box = sealed.read(int.from_bytes(size_bytes, "big"))
            for last in (False, True):
                try:
                    chunk = cipher.decrypt(_nonce(file_id, counter), box, MAGIC + (b"\x01" if last else b"\x00"))
                except InvalidTag:
                    continue
                ended = last
                break
            else:
                raise BackupError("the backup cannot be decrypted with this BACKUP_ENCRYPTION_KEY (or it was changed)")
            plain.write(chunk)
            counter += 1
        if not ended:
            raise BackupError("the encrypted backup is cut short: its last part is missing")


# --- dump and restore --------------------------------------------------------------------------------------------


def dump(database: dict[str, object], target: Path, *, key: bytes | None = None) -> str:
    """Write the backup (and its checksum); returns the checksum."""
    name, env = connection_env(database)
    target.parent.mkdir(parents=True, exist_ok=True)
    plain = target.with_name(target.name + ".partial")
    command = [PG_DUMP, "--format=custom", "--no-owner", "--no-privileges", "--file", str(plain), name]
    finished = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if finished.returncode != 0:
        plain.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {finished.stderr.strip()}")
    if key is None:
        shutil.move(plain, target)
    else:
        try:
            encrypt_file(plain, target, key)
        finally:
            plain.unlink(missing_ok=True)
    return write_checksum(target)


def table_count(database: dict[str, object]) -> int:
    name, env = connection_env(database)
    query = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    finished = subprocess.run(  # noqa: S603
        ["/usr/bin/psql", "-tA", "-d", name, "-c", query], env=env, capture_output=True, text=True, check=False
    )
    if finished.returncode != 0:
        raise BackupError(f"cannot reach the target database: {finished.stderr.strip()}")
    return int(finished.stdout.strip() or 0)


def restore(source: Path, database: dict[str, object], *, key: bytes | None = None) -> None:
    """Restore a backup into an EMPTY database (never over data): checksum first, then decrypt, then pg_restore."""
    verify_checksum(source)
    if table_count(database):
        raise BackupError("the target database is not empty: restore only into a new, empty database")
    name, env = connection_env(database)
    plain = source
    if is_encrypted(source):
        if key is None:
            raise BackupError("this backup is encrypted: set BACKUP_ENCRYPTION_KEY")
        plain = source.with_name(source.name + ".decrypted")
        decrypt_file(source, plain, key)
    try:
        command = [PG_RESTORE, "--no-owner", "--no-privileges", "--exit-on-error", "--dbname", name, str(plain)]
        finished = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if finished.returncode != 0:
            raise BackupError(f"pg_restore failed: {finished.stderr.strip()}")
    finally:
        if plain != source:
            plain.unlink(missing_ok=True)
