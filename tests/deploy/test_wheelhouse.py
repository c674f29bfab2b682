"""The offline install (issue 16 §1): bin/wheelhouse builds a hash-pinned wheel folder from requirements.txt, and a
fresh virtual environment installs from it with the network switched off (a network namespace of its own without
interfaces, where ``unshare`` allows it; otherwise every proxy and index pointed at a closed port) — and refuses a
wheel whose hash does not match the lock.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNSHARE = shutil.which("unshare")
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing answers

pytestmark = pytest.mark.deploy


def offline(command: list[str]) -> list[str]:
    """*command* in a network namespace with no interface at all, when this machine lets us make one."""
    if UNSHARE and subprocess.run([UNSHARE, "--net", "true"], check=False, capture_output=True).returncode == 0:  # noqa: S603
        return [UNSHARE, "--net", *command]
    return command


def offline_env() -> dict[str, str]:
    """No pip configuration of this machine, and any network access pip might still try goes nowhere."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": "/nonexistent",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": CLOSED,
        "http_proxy": CLOSED,
        "https_proxy": CLOSED,
        "HTTP_PROXY": CLOSED,
        "HTTPS_PROXY": CLOSED,
    }


def install(venv: Path, wheelhouse: Path, lock: Path, *options: str) -> subprocess.CompletedProcess[str]:
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--isolated", "--disable-pip-version-check"]
    command = [*pip, "install", "--no-index", "--find-links", str(wheelhouse), "--require-hashes", "-r", str(lock)]
    command += options
    return subprocess.run(offline(command), env=offline_env(), check=False, capture_output=True, text=True)  # noqa: S603


def test_the_wheelhouse_installs_without_network_and_refuses_a_changed_wheel(tmp_path: Path) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    built = subprocess.run(  # noqa: S603
        [str(ROOT / "bin" / "wheelhouse"), str(wheelhouse)],
        env={**os.environ, "PYTHON": sys.executable},
        check=False,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    lock = wheelhouse / "requirements.lock"
    pins = {
        match.group(1): match.group(2) for match in re.finditer(r"^([a-z0-9-]+)==(\S+) ", lock.read_text(), flags=re.M)
    }
    # Every runtime requirement is pinned at the version requirements.txt names, with its dependencies.
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = re.sub(r"\[.*\]", "", line.strip()).split("==")
            assert pins[re.sub(r"[-_.]+", "-", name).lower()] == version, line
    assert {"psycopg-binary", "kombu", "asgiref", "cffi"} <= set(pins)
    # Each hash is the SHA-256 of the wheel in the folder.
    for wheel in wheelhouse.glob("*.whl"):
        assert f"--hash=sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}" in lock.read_text(), wheel.name

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    installed = install(venv, wheelhouse, lock)
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-3000:]
    probe = "import django, celery, gunicorn, psycopg, cryptography, reportlab, openpyxl, django_otp, segno, guardian"
    imported = subprocess.run([str(venv / "bin" / "python"), "-c", f"{probe}; print(django.get_version())"],  # noqa: S603
                              check=False, capture_output=True, text=True)  # fmt: skip
    assert imported.returncode == 0 and imported.stdout.strip() == pins["django"], imported.stderr

    # A wheel that is not the one locked (damaged in transit, or swapped) is refused, and nothing is fetched instead.
    tampered = wheelhouse / next(wheelhouse.glob("segno-*.whl")).name
    tampered.write_bytes(tampered.read_bytes() + b"\0")
    refused = install(venv, wheelhouse, lock, "--dry-run", "--ignore-installed")
    assert refused.returncode != 0 and "DO NOT MATCH THE HASHES" in refused.stderr, refused.stderr[-2000:]
    assert "segno" in refused.stderr
