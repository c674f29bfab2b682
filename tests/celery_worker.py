"""A real Celery worker for the tests about tasks: a subprocess on the test database, consuming one queue."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import connection


@contextmanager
def real_worker(queue: str, tmp_path: Path) -> Iterator[Path]:
    """Run a worker on the test database that consumes only *queue*; yields the path of its log."""
    settings_db = connection.settings_dict
    url = f"postgres://{settings_db['USER']}@{settings_db['HOST']}:{settings_db['PORT']}/{settings_db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url}
    command = [".venv/bin/celery", "-A", "casemgmt", "worker", "--concurrency=1", "--pool=solo"]
    command += ["--without-gossip", "--without-mingle", "-Q", queue]
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            yield log_path
        finally:
            worker.terminate()
            worker.wait(timeout=20)


def wait_until(record: Any, finished: Callable[[Any], bool], *, seconds: float = 60) -> None:
    """Reload *record* from the database until *finished* says so or the time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        record.refresh_from_db()
        if finished(record):
            return
        time.sleep(0.5)
