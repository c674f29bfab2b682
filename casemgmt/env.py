"""Typed readers for environment variables.

Every setting comes from the environment. A secret may instead come from a file named by ``NAME_FILE``
(the usual container/secret-manager convention). A local, git-ignored ``var/local.env`` file written by
``manage.py generate_keys`` supplies throw-away keys for the demo and the test suite; real deployments set
the variables themselves and never use that file.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse


class ImproperlyConfiguredEnv(ValueError):
    pass


def load_env_file(path: Path) -> None:
    """Put ``KEY=value`` lines of *path* into ``os.environ`` without overriding what is already set."""
    if not path.is_file():
        return
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        os.environ.setdefault(key.strip(), value.strip())


def env_str(name: str, default: str | None = None) -> str | None:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if value is None:
        return default
    if value.lower() == "true":
        return True
    if value.lower() == "false":
        return False
    raise ImproperlyConfiguredEnv(f"{name} must be 'true' or 'false', not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfiguredEnv(f"{name} must be an integer, not {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database_from_url(url: str) -> dict[str, object]:
    """Translate ``postgres://user:pw@host:port/name`` or ``sqlite:///path`` into a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": unquote(url.removeprefix("sqlite:///"))}
    if parsed.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfiguredEnv(f"DATABASE_URL scheme {parsed.scheme!r} is not supported")


def replica_database_from_url(url: str) -> dict[str, object]:
    """The DATABASES entry of a read replica (``DATABASE_REPLICA_URL``, ``metrics.reports.source``): a short
    connect timeout (an unreachable standby means the primary, not a hung page), a read-only session even if the
    URL names a writable server, and the test runner mirrors it onto the test database."""
    entry = database_from_url(url)
    if entry["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfiguredEnv("DATABASE_REPLICA_URL must be a postgres:// URL (a streaming replica)")
    return {
        **entry,
        "OPTIONS": {"connect_timeout": 3, "options": "-c default_transaction_read_only=on"},
        "TEST": {"MIRROR": "default"},
    }
