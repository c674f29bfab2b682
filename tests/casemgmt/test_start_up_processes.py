"""Issue 16 §9: with a wrong key the web and worker processes exit, they do not loop.

Tried before: gunicorn kept its port open and restarted the failing worker ~100 times in 20 s, answering nothing.
Both are started here for real (gunicorn from the venv, a Celery worker on Redis) against the test database.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core import checks
from django.db import connection

from casemgmt.checks import WORKER_BOOT_ERROR
from casemgmt.crypto import cipher as crypto

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]
ROOT = Path(__file__).resolve().parents[2]


def environment_with_a_wrong_key() -> dict[str, str]:
    assert not [m for m in checks.run_checks(tags=["security"]) if m.is_serious()]  # canaries of the right keys
    db = connection.settings_dict
    kid = settings.FIELD_ENCRYPTION_ACTIVE_KEY
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "casemgmt.settings",
        "FIELD_ENCRYPTION_KEYS": f"{kid}:{crypto.new_key()}",
    }


def run_until_exit(command: list[str], env: dict[str, str], tmp_path: Path, seconds: float = 60) -> tuple[int, str]:
    log_path = tmp_path / "process.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        deadline = time.monotonic() + seconds
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        if process.poll() is None:
            process.kill()
            process.wait()
            pytest.fail(f"still running after {seconds} s:\n{log_path.read_text()[-2000:]}")
    return process.returncode, log_path.read_text()


def test_gunicorn_stops_on_a_wrong_key(tmp_path: Path) -> None:
    command = [str(ROOT / ".venv/bin/gunicorn"), "casemgmt.wsgi", "--bind", "127.0.0.1:0", "--workers", "2"]
    # As deployed (deploy/gunicorn.conf.py): the app is loaded once in the master, so a key error stops it with 3.
    # Without --preload every worker fails on its own and gunicorn 27 may exit with 1 while stopping the rest.
    command += ["--preload", "--no-control-socket"]
    code, output = run_until_exit(command, environment_with_a_wrong_key(), tmp_path)
    assert code == WORKER_BOOT_ERROR, output
    assert "not the key this database was encrypted with" in output
    assert output.count("Refusing to start") <= 2  # each worker tried once; no restart loop


def test_a_celery_worker_stops_on_a_wrong_key(tmp_path: Path) -> None:
    command = [str(ROOT / ".venv/bin/celery"), "-A", "casemgmt", "worker", "--pool=solo", "--without-gossip"]
    command += ["--without-mingle", "-Q", "start-up-check"]
    code, output = run_until_exit(command, environment_with_a_wrong_key(), tmp_path)
    assert code != 0, output
    assert "not the key this database was encrypted with" in output
