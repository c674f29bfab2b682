"""Start-up refuses missing or wrong keys and DEBUG on a public host."""

from __future__ import annotations

import pytest
from django.core import checks
from django.test import override_settings

from casemgmt.checks import WORKER_BOOT_ERROR, refuse_to_start_on_errors
from casemgmt.crypto import cipher as crypto
from casemgmt.models import KeyCanary


def errors() -> list[str]:
    return [m.id or "" for m in checks.run_checks(tags=["security"]) if m.is_serious()]


def test_configured_keys_pass_and_write_their_canaries(db: object) -> None:
    assert errors() == []
    assert KeyCanary.objects.filter(kid="blind-index").exists()


def test_missing_keys_stop_start_up(db: object, capsys: pytest.CaptureFixture[str]) -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=""):
        assert "casemgmt.E003" in errors()
        with pytest.raises(SystemExit) as stopped:
            refuse_to_start_on_errors()
        assert stopped.value.code == WORKER_BOOT_ERROR
        assert "FIELD_ENCRYPTION_KEYS is not set" in capsys.readouterr().err


def test_wrong_field_key_is_caught_by_the_canary(db: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert errors() == []  # canaries written for the right keys
    from django.conf import settings

    kid = settings.FIELD_ENCRYPTION_ACTIVE_KEY
    with override_settings(FIELD_ENCRYPTION_KEYS=f"{kid}:{crypto.new_key()}"):
        assert "casemgmt.E004" in errors()
        with pytest.raises(SystemExit):
            refuse_to_start_on_errors()
        assert "not the key this database was encrypted with" in capsys.readouterr().err


def test_wrong_blind_index_key_is_caught(db: object) -> None:
    assert errors() == []
    with override_settings(BLIND_INDEX_KEY=crypto.new_key()):
        assert "casemgmt.E004" in errors()


def test_short_secret_key_and_debug_on_public_host(db: object) -> None:
    with override_settings(SECRET_KEY="short"):
        assert "casemgmt.E001" in errors()
    with override_settings(DEBUG=True, ALLOWED_HOSTS=["jingfang.example.org"]):
        assert "casemgmt.E002" in errors()
    with override_settings(DEBUG=True, ALLOWED_HOSTS=["127.0.0.1"]):
        assert "casemgmt.E002" not in errors()


def test_a_configuration_omitting_a_key_still_in_use_stops_start_up(world: object) -> None:
    """Issue 16 §9: omitting the old key id passed the checks (a new canary was written) and every patient page
    then answered 500. The stored values themselves say which key ids must be configured."""
    from django.conf import settings

    from casemgmt.models import KeyCanary

    assert errors() == []
    old = settings.FIELD_ENCRYPTION_ACTIVE_KEY
    KeyCanary.objects.filter(kid=old).delete()  # the data alone must be enough to tell
    with override_settings(FIELD_ENCRYPTION_KEYS=f"fresh:{crypto.new_key()}", FIELD_ENCRYPTION_ACTIVE_KEY="fresh"):
        assert "casemgmt.E005" in errors()
        # One query per model finds a row with a stray value; each of its columns on the old key is named.
        messages = [m.msg for m in checks.run_checks(tags=["security"]) if m.id == "casemgmt.E005"]
        assert f"registry_patient.name holds values on key id {old!r}, which is not configured" in str(messages)
        assert f"registry_patient.national_id holds values on key id {old!r}" in str(messages)
        with pytest.raises(SystemExit):
            refuse_to_start_on_errors()


def test_a_configuration_omitting_a_key_with_a_stored_canary_stops_start_up(db: object) -> None:
    from django.conf import settings

    assert errors() == []  # the canary of the configured key is written
    with override_settings(FIELD_ENCRYPTION_KEYS=f"fresh:{crypto.new_key()}", FIELD_ENCRYPTION_ACTIVE_KEY="fresh"):
        assert "casemgmt.E005" in errors()
    assert settings.FIELD_ENCRYPTION_ACTIVE_KEY != "fresh"
