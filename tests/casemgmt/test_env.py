from __future__ import annotations

from pathlib import Path

import pytest

from casemgmt.env import ImproperlyConfiguredEnv, database_from_url, env_bool, env_str, replica_database_from_url


def test_env_bool_refuses_anything_but_true_or_false(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "true")
    assert env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "yes")
    with pytest.raises(ImproperlyConfiguredEnv):
        env_bool("X_FLAG", False)


def test_secret_from_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env_str("X_SECRET") == "from-file"


def test_database_urls() -> None:
    pg = database_from_url("postgres://u:p%40ss@db.local:5433/jf")
    assert (pg["ENGINE"], pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == (
        "django.db.backends.postgresql", "jf", "u", "p@ss", "db.local", "5433",
    )  # fmt: skip
    assert database_from_url("sqlite:////tmp/x.sqlite3")["NAME"] == "/tmp/x.sqlite3"  # noqa: S108
    with pytest.raises(ImproperlyConfiguredEnv):
        database_from_url("mysql://x/y")


def test_replica_url_is_a_read_only_postgres_session_mirrored_in_tests() -> None:
    entry = replica_database_from_url("postgres://ro@standby.local:5432/jf")
    assert (entry["HOST"], entry["USER"], entry["NAME"]) == ("standby.local", "ro", "jf")
    assert entry["OPTIONS"] == {"connect_timeout": 3, "options": "-c default_transaction_read_only=on"}
    assert entry["TEST"] == {"MIRROR": "default"}
    with pytest.raises(ImproperlyConfiguredEnv, match="streaming replica"):
        replica_database_from_url("sqlite:////tmp/replica.sqlite3")
