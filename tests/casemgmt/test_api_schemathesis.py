"""schemathesis against the served OpenAPI schema (/api/v1/openapi.json) on a live server, with a real token of
each role that uses the API: 0 server errors and 0 schema violations (issue 16 §6). Besides the response
conformance checks (status code, content type, headers, body), schemathesis checks that a request without the
token is refused (``ignored_auth``) and that other methods answer 405 with ``Allow``.

Runs the schemathesis CLI in a subprocess against pytest-django's ``live_server``; a bounded number of examples per
operation and a fixed seed keep it under a minute and reproducible.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from casemgmt.api import tokens
from followup.emergencies.services import record_emergency
from tests.base import TODAY, build_world
from tests.followup.base import reached_data, record

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "ignored_auth",
        "unsupported_method",
        "allow_header_conformance",
    )
)
ST = Path(sys.executable).with_name("st")


def run_schemathesis(url: str, token: str, paths: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(ST), "run", f"{url}/api/v1/openapi.json",
        "--include-path-regex", paths,
        "--header", f"Authorization: Bearer {token}",
        "--checks", CHECKS,
        "--max-examples", "10",
        "--seed", "16",
        "--workers", "1",
        "--request-timeout", "20",
        "--no-color",
        "--report-dir", str(tmp_path),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=150, check=False, cwd=tmp_path)  # noqa: S603


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_server: Any, settings: Any, tmp_path: Path
) -> None:
    settings.API_RATE_LIMIT = 1_000_000
    world = build_world()
    record(world.patient_a, world.doctor_a, reached_data(classification=1, next_date=TODAY + dt.timedelta(days=3)))
    now = timezone.now()
    values = {"occurred_at": now - dt.timedelta(hours=2), "place": "家中"}
    patient = world.patient_a
    record_emergency(actor=world.doctor_a, values=values, handler=None, complete=False, now=now, patient=patient)
    # Each role on the operations it may use (the other role's 403 is covered in tests/casemgmt/test_api.py).
    for user, paths, count in ((world.county_d, "^/(indicators|patients)$", 2), (world.doctor_a, "^/worklist$", 1)):
        token = tokens.issue(user, name="schemathesis", days=1)[1]
        result = run_schemathesis(live_server.url, token, paths, tmp_path)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-6000:]
        assert f"Tested: {count}" in output and "Authentication failed" not in output, output[-3000:]
