"""System checks: refuse to start with missing or wrong keys, or with DEBUG on for a non-local host."""

from __future__ import annotations

import functools
import hmac
import operator
import sys
import uuid
from typing import TypedDict

from django.conf import settings
from django.core import checks
from django.db import DatabaseError
from django.db.models import Model, Q

from casemgmt.crypto import cipher as crypto
from casemgmt.crypto.rotation import Column, encrypted_columns

CANARY_TEXT = "jingfang-key-canary"
BLIND_INDEX_CANARY_ID = "blind-index"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "testserver"}


class _CanaryContext(TypedDict):
    table: str
    column: str
    row_uuid: uuid.UUID


def _canary_context(kid: str) -> _CanaryContext:
    return {
        "table": "casemgmt_keycanary",
        "column": "token",
        "row_uuid": uuid.uuid5(uuid.NAMESPACE_OID, f"canary:{kid}"),
    }


def verify_canaries(ring: crypto.KeyRing, *, write: bool = True) -> list[str]:
    """Compare every configured key against its canary, writing canaries for keys seen for the first time (unless
    ``write`` is off: /healthz only reads).

    Returns a list of problems (empty when all keys match).
    """
    from casemgmt.models import KeyCanary

    problems: list[str] = []
    stored = dict(KeyCanary.objects.values_list("kid", "token"))
    for kid in ring.keys:
        ring_for_kid = crypto.KeyRing(keys=ring.keys, active=kid, blind_index_key=ring.blind_index_key)
        if kid not in stored:
            if not write:
                continue
            token = crypto.encrypt(CANARY_TEXT, ring=ring_for_kid, **_canary_context(kid))
            KeyCanary.objects.get_or_create(kid=kid, defaults={"token": token})
            continue
        try:
            ok = crypto.decrypt(stored[kid], ring=ring, **_canary_context(kid)) == CANARY_TEXT
        except crypto.DecryptionError:
            ok = False
        if not ok:
            problems.append(f"field key {kid!r} is not the key this database was encrypted with")
    blind = crypto.blind_index(CANARY_TEXT, purpose="canary", ring=ring)
    if BLIND_INDEX_CANARY_ID not in stored:
        if write:
            KeyCanary.objects.get_or_create(kid=BLIND_INDEX_CANARY_ID, defaults={"token": blind})
    elif not hmac.compare_digest(stored[BLIND_INDEX_CANARY_ID], blind):
        problems.append("BLIND_INDEX_KEY is not the key this database's search indexes were built with")
    return problems


def missing_key_ids(ring: crypto.KeyRing) -> list[str]:
    """Key ids that stored values (or stored canaries) use but the configuration omits.

    Read from the data itself: one query per model, over all its encrypted columns, that stops at the first row
    holding a value on an unconfigured key (a scan of the table when there is none: ~10 s for a country's 6.5
    million patients, once at start-up), unordered so that no sort waits for the scan to end.
    """
    from casemgmt.models import KeyCanary

    problems: list[str] = []
    for kid in KeyCanary.objects.exclude(kid=BLIND_INDEX_CANARY_ID).values_list("kid", flat=True):
        if kid not in ring.keys:
            problems.append(f"key id {kid!r} has encrypted this database before and is not configured")
    by_model: dict[type[Model], list[Column]] = {}
    for column in encrypted_columns():
        by_model.setdefault(column.model, []).append(column)
    for model, columns in by_model.items():
        strays = functools.reduce(operator.or_, (_stray(column.field.name, ring) for column in columns))
        rows = model._default_manager.order_by().filter(strays)
        for values in rows.values_list(*(column.field.name for column in columns))[:1]:
            tokens = [getattr(sealed, "token", str(sealed)) for sealed in values]
            problems += [
                _stray_problem(column, token)
                for column, token in zip(columns, tokens, strict=True)
                if token and not any(token.startswith(prefix) for prefix in _prefixes(ring))
            ]
        problems += [problem for column in columns for problem in _undecryptable_samples(column, ring)]
    return problems


def _prefixes(ring: crypto.KeyRing) -> list[str]:
    return [f"{crypto.TOKEN_VERSION}.{kid}." for kid in ring.keys]


def _stray(name: str, ring: crypto.KeyRing) -> Q:
    """A value of the column *name* that is neither empty nor on a configured key."""
    configured = functools.reduce(operator.or_, (Q(**{f"{name}__startswith": prefix}) for prefix in _prefixes(ring)))
    return ~Q(**{name: ""}) & ~configured


def _stray_problem(column: Column, token: str) -> str:
    try:
        kid = crypto.token_key_id(token)
    except crypto.DecryptionError:
        return f"{column.label} holds a value that is not an encryption token"
    return f"{column.label} holds values on key id {kid!r}, which is not configured"


def _undecryptable_samples(column: Column, ring: crypto.KeyRing) -> list[str]:
    """One stored value per configured key id must decrypt: a wrong key under the right id is caught from the
    data even where no canary was ever written (a restored or imported database)."""
    name, table = column.field.name, column.model._meta.db_table
    problems = []
    for kid in ring.keys:
        on_kid = column.model._default_manager.order_by().filter(
            **{f"{name}__startswith": f"{crypto.TOKEN_VERSION}.{kid}."}
        )  # unordered: the first row found, not the newest after a scan and a sort
        for row_uuid, sealed in on_kid.values_list("uuid", name)[:1]:
            token = getattr(sealed, "token", str(sealed))
            try:
                crypto.decrypt(token, table=table, column=column.field.column, row_uuid=row_uuid, ring=ring)
            except crypto.DecryptionError:
                problems.append(f"{column.label} holds values that key id {kid!r} does not decrypt (a wrong key)")
    return problems


@checks.register("security")
def check_secret_key(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    if len(settings.SECRET_KEY) < 32:
        return [checks.Error("DJANGO_SECRET_KEY is missing or shorter than 32 characters.", id="casemgmt.E001")]
    return []


@checks.register("security")
def check_debug_host(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    if settings.DEBUG and any(host not in LOCAL_HOSTS for host in settings.ALLOWED_HOSTS):
        return [checks.Error("DEBUG is on while ALLOWED_HOSTS names a non-local host.", id="casemgmt.E002")]
    return []


@checks.register("security")
def check_field_keys(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    try:
        ring = crypto.get_keyring()
    except crypto.KeyConfigurationError as exc:
        return [checks.Error(f"Field encryption keys: {exc}.", id="casemgmt.E003")]
    try:
        missing = missing_key_ids(ring)
        if missing:  # checked first: canaries are written only for a configuration that covers the data
            return [
                checks.Error(f"Keys do not match the stored data: {problem}.", id="casemgmt.E005")
                for problem in missing
            ]
        problems = verify_canaries(ring)
    except DatabaseError:
        return []  # tables not migrated yet: nothing is encrypted, nothing to compare
    return [checks.Error(f"Wrong key: {problem}.", id="casemgmt.E004") for problem in problems]


# Gunicorn's code for "a worker failed to boot": its master then stops instead of restarting the worker in a loop
# (answering nothing while it keeps its port open). A Celery worker exits with it too.
WORKER_BOOT_ERROR = 3


def refuse_to_start_on_errors() -> None:
    """Run the checks outside manage.py (gunicorn, the Celery worker) and stop the process on any error: the
    reasons go to standard error, the exit code is WORKER_BOOT_ERROR."""
    errors = [m for m in checks.run_checks(tags=["security"]) if m.is_serious()]
    if errors:
        sys.stderr.write("Refusing to start:\n" + "\n".join(str(e) for e in errors) + "\n")
        sys.stderr.flush()
        raise SystemExit(WORKER_BOOT_ERROR)
