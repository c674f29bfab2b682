"""System checks: refuse to start with missing or wrong keys, or with DEBUG on for a non-local host."""

from __future__ import annotations

import hmac
import uuid
from typing import TypedDict

from django.conf import settings
from django.core import checks
from django.db import DatabaseError

from casemgmt.crypto import cipher as crypto

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


def verify_canaries(ring: crypto.KeyRing) -> list[str]:
    """Compare every configured key against its canary, writing canaries for keys seen for the first time.

    Returns a list of problems (empty when all keys match).
    """
    from casemgmt.models import KeyCanary

    problems: list[str] = []
    stored = dict(KeyCanary.objects.values_list("kid", "token"))
    for kid in ring.keys:
        ring_for_kid = crypto.KeyRing(keys=ring.keys, active=kid, blind_index_key=ring.blind_index_key)
        if kid not in stored:
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
        KeyCanary.objects.get_or_create(kid=BLIND_INDEX_CANARY_ID, defaults={"token": blind})
    elif not hmac.compare_digest(stored[BLIND_INDEX_CANARY_ID], blind):
        problems.append("BLIND_INDEX_KEY is not the key this database's search indexes were built with")
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
        problems = verify_canaries(ring)
    except DatabaseError:
        return []  # tables not migrated yet: nothing is encrypted, nothing to compare
    return [checks.Error(f"Wrong key: {problem}.", id="casemgmt.E004") for problem in problems]


def refuse_to_start_on_errors() -> None:
    """Run the checks outside manage.py (gunicorn) and stop start-up on any error."""
    errors = [m for m in checks.run_checks(tags=["security"]) if m.is_serious()]
    if errors:
        raise SystemExit("Refusing to start:\n" + "\n".join(str(e) for e in errors))
