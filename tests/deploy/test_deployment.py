"""The deploy/ files brought up on this machine as written (issue 16 §2): nginx with a self-signed certificate →
gunicorn → the test database; a Celery worker and beat on Redis — then a browser journey through the proxy over
HTTPS, and the login lockout keyed on the real client address.

What is substituted, and nothing else: the placeholders that ``deploy/render`` documents (paths, ports, the
certificate, the host name ``localhost``), and in the rendered ``jingfang.env`` the lines an administrator edits
(deploy/README.md): the test database and Redis, a lockout limit of 2 (so that 8 failures lock an address) and two
web workers. The units are not run by systemd: their ``WorkingDirectory``, ``EnvironmentFile``, ``Environment``
and ``ExecStart`` are read and started as systemd would (``%i`` and ``%H`` filled in), with a clean environment.
nginx runs its Debian binary with a small main configuration that includes the rendered site, as Debian's
``nginx.conf`` includes ``sites-enabled/`` (``nginx -t`` also checks it inside Debian's own). Needs root (the
rendered ``jingfang-manage`` uses runuser).

Checked besides the journey: systemd-analyze accepts the units; collectstatic, ``check --deploy`` and the nightly
encrypted backup run through ``jingfang-manage``; with a wrong key the web and worker units' commands exit with 3
(which their units do not restart on); HTTP redirects to HTTPS, HSTS is sent, unknown host names get nothing,
a body above the workbook limit is refused; /healthz answers through nginx and sees the worker.
"""

from __future__ import annotations

import getpass
import http.client
import json
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.cache import cache
from django.db import connection, connections

from casemgmt.accounts import throttle
from casemgmt.accounts.models import User
from casemgmt.audit.models import Action, AuditEvent
from casemgmt.checks import WORKER_BOOT_ERROR
from casemgmt.crypto.cipher import new_key
from followup.models import FollowUp
from followup.workbook.forms import MAX_UPLOAD_BYTES
from metrics.models import PdfExport
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, log_in
from tests.browser.test_followup_journey import fill_reached_visit, make_overdue

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
HOST = "localhost"
LOCKOUT_LIMIT = 2  # per username; an address is locked after 4 × this many failures

pytestmark = [
    pytest.mark.deploy,
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def machine() -> None:
    """What the test needs of the machine; missing, it skips — or fails in CI (REQUIRE_SERVICES=true)."""
    missing = [
        reason
        for absent, reason in (
            (not Path(NGINX).exists(), "nginx is not installed (apt-get install nginx)"),
            (not Path(OPENSSL).exists(), "openssl is not installed"),
            (os.geteuid() != 0, "runs the rendered jingfang-manage, which needs root (runuser)"),
            (not Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}"),
            (SYSTEMD_ANALYZE is None, "systemd-analyze is not installed (apt-get install systemd)"),
        )
        if absent
    ]
    if missing and os.environ.get("REQUIRE_SERVICES") == "true":
        pytest.fail("; ".join(missing))
    if missing:
        pytest.skip("; ".join(missing))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def render(out: Path, variables: dict[str, str]) -> None:
    env = {"PATH": os.environ["PATH"], **variables}
    subprocess.run([str(DEPLOY / "render"), str(out)], env=env, check=True, capture_output=True)  # noqa: S603


def edit_env_file(path: Path, changes: dict[str, str]) -> None:
    """Set these variables in the rendered env file, as the administrator edits /etc/jingfang/jingfang.env."""
    lines = [line for line in path.read_text().splitlines() if line.split("=", 1)[0] not in changes]
    path.write_text("\n".join([*lines, *(f"{key}={value}" for key, value in changes.items())]) + "\n")


def read_env_file(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip()
    return found


def unit_command(unit: Path, instance: str = "") -> tuple[list[str], dict[str, str], Path]:
    """What systemd would run for this unit: the ExecStart argv, the environment and the working directory."""
    service: dict[str, list[str]] = {}
    section = ""
    for raw in unit.read_text().splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            service.setdefault(key, []).append(value)
    specifiers = {"%i": instance, "%H": socket.gethostname(), "%%": "%"}

    def fill(text: str) -> str:
        return re.sub(r"%[iH%]", lambda match: specifiers[match.group(0)], text)

    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": str(unit.parent)}
    for path in service.get("EnvironmentFile", []):
        env.update(read_env_file(Path(fill(path).lstrip("-"))))
    for assignment in service.get("Environment", []):
        for item in shlex.split(fill(assignment)):
            key, _, value = item.partition("=")
            env[key] = value
    (exec_start,) = service["ExecStart"]
    return shlex.split(fill(exec_start)), env, Path(fill(service["WorkingDirectory"][0]))


@contextmanager
def started(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def wait_for(
    what: str, ready: Any, *, seconds: float = 60, logs: tuple[Path, ...] = (), what_else: Any = lambda: ""
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.25)
    tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs if log.exists())
    pytest.fail(f"{what}: not within {seconds} s {what_else()}\n{tails}")


def in_log(log: Path, text: str) -> Any:
    return lambda: log.exists() and text in log.read_text(errors="replace")


def answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the self-signed certificate of the test
    return context


class Client:
    """An HTTPS client whose connections leave from a given local address (127.0.0.2, 127.0.0.3, ...)."""

    def __init__(self, port: int, source: str) -> None:
        self.port, self.source = port, source

    def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, body: str | None = None
    ) -> tuple[http.client.HTTPResponse, str]:
        connection = http.client.HTTPSConnection(
            HOST, self.port, source_address=(self.source, 0), context=tls_context(), timeout=60
        )
        try:
            connection.request(method, path, body=body, headers={"Host": f"{HOST}:{self.port}", **(headers or {})})
            response = connection.getresponse()
            return response, response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()

    def log_in(self, username: str, password: str, *, forwarded_for: str | None = None) -> tuple[int, str]:
        """GET the login page, POST the form (with its CSRF token and cookie); the status and body of the answer."""
        forged = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        response, page = self.request("GET", "/login/", headers=forged)
        cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert cookie and token, page[:500]
        origin = f"https://{HOST}:{self.port}"
        headers = {
            **forged,
            "Cookie": f"csrftoken={cookie.group(1)}",
            "Origin": origin,
            "Referer": f"{origin}/login/",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        form = urlencode({"csrfmiddlewaretoken": token.group(1), "username": username, "password": password})
        response, page = self.request("POST", "/login/", headers=headers, body=form)
        return response.status, page


def write_keys(keys: Path) -> None:
    """The keys the test database was encrypted with, in the files the env file names (deploy/README.md step 4)."""
    keys.mkdir(parents=True)
    values = {
        "django_secret_key": settings.SECRET_KEY,
        "field_encryption_keys": settings.FIELD_ENCRYPTION_KEYS,
        "field_encryption_active_key": settings.FIELD_ENCRYPTION_ACTIVE_KEY,
        "blind_index_key": settings.BLIND_INDEX_KEY,
        "backup_encryption_key": new_key(),
    }
    for name, value in values.items():
        (keys / name).write_text(value + "\n")
        (keys / name).chmod(0o640)


def upload_answer(port: int, length: int) -> int | None:
    """Announce a POST body of *length* bytes and send its first KiB: nginx's answer (its status) when it refuses
    the size at once, None when it waits for the rest (the size is accepted)."""
    upload = http.client.HTTPSConnection(HOST, port, context=tls_context(), timeout=3)
    try:
        upload.putrequest("POST", "/followup/import/", skip_host=True)
        upload.putheader("Host", f"{HOST}:{port}")
        upload.putheader("Content-Length", str(length))
        upload.endheaders(b"x" * 1024)
        try:
            return upload.getresponse().status
        except TimeoutError:
            return None
    finally:
        upload.close()


def refuses_a_wrong_key(systemd_dir: Path, keys: Path, tmp_path: Path) -> None:
    """With a wrong field key in its file, the web unit's and a worker unit's commands exit with the code their
    units do not restart on (no restart loop answering nothing)."""
    right = (keys / "field_encryption_keys").read_text()
    kid = right.split(":", 1)[0]
    (keys / "field_encryption_keys").write_text(f"{kid}:{new_key()}\n")
    try:
        for unit, instance in (("jingfang-web.service", ""), ("jingfang-worker@.service", "reports")):
            command, env, cwd = unit_command(systemd_dir / unit, instance)
            log = tmp_path / f"refused-{unit}.log"
            with started(command, env, cwd, log) as process:
                wait_for(f"{unit} to refuse", lambda process=process: process.poll() is not None, logs=(log,))
            assert process.returncode == WORKER_BOOT_ERROR, log.read_text()[-2000:]
            assert f"RestartPreventExitStatus={WORKER_BOOT_ERROR}" in (systemd_dir / unit).read_text().splitlines()
            assert log.read_text().count("Refusing to start") == 1  # the checks ran once (gunicorn: in the master)
    finally:
        (keys / "field_encryption_keys").write_text(right)


def verify_units(systemd_dir: Path) -> None:
    """systemd's own check of the rendered units (unknown keys, bad values, missing programs), the template as
    an instance of each queue."""
    units = [systemd_dir / "jingfang-web.service", systemd_dir / "jingfang-beat.service"]
    for queue in ("celery", "imports", "reports"):
        instance = systemd_dir / f"jingfang-worker@{queue}.service"
        shutil.copy(systemd_dir / "jingfang-worker@.service", instance)
        units.append(instance)
    verified = subprocess.run(  # noqa: S603
        [str(SYSTEMD_ANALYZE), "verify", "--man=no", *map(str, units)], check=False, capture_output=True, text=True
    )
    assert verified.returncode == 0 and not verified.stderr.strip(), verified.stderr
    for instance in units[2:]:
        instance.unlink()


def check_in_debian_nginx(tmp: Path, site: Path) -> None:
    """The site as Debian's own nginx.conf includes it from sites-enabled/ (its http-level TLS and gzip settings
    included): nginx -t accepts it."""
    debian = Path("/etc/nginx/nginx.conf").read_text()
    assert "include /etc/nginx/sites-enabled/*;" in debian
    config = tmp / "debian-nginx.conf"
    config.write_text(debian.replace("include /etc/nginx/sites-enabled/*;", f"include {site};"))
    command = [NGINX, "-t", "-e", str(tmp / "nginx-error.log"), "-c", str(config)]
    tested = subprocess.run(command, check=False, capture_output=True, text=True)  # noqa: S603
    assert tested.returncode == 0, tested.stderr


def nginx_main_config(tmp: Path, site: Path) -> Path:
    """Debian's nginx.conf in small: an http block that includes the site, state files under *tmp*."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {tmp / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = tmp / "nginx.conf"
    config.write_text(
        f"{user}worker_processes 1;\npid {tmp / 'nginx.pid'};\nerror_log {tmp / 'nginx-error.log'} warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        f"{temp}    include {site};\n}}\n"
    )
    return config


def browser_journey(browser: Any, base: str, world: World, manifest: dict[str, str], worker_log: Path) -> None:
    """Through nginx over HTTPS: a doctor saves a follow-up; county staff has the worker build a PDF."""
    server = SimpleNamespace(url=base)

    # A doctor on a phone records a follow-up.
    phone = browser.new_context(ignore_https_errors=True, locale="zh-CN", viewport={"width": 390, "height": 844})
    page = phone.new_page()
    page.set_default_timeout(30_000)
    log_in(page, server, "doctor_a", PASSWORD)
    assert page.url.startswith(base) and "/login/" not in page.url, page.url
    stylesheets = page.eval_on_selector_all("link[rel=stylesheet]", "links => links.map(l => l.href)")
    scripts = page.eval_on_selector_all("script[src]", "tags => tags.map(t => t.src)")
    page.goto(f"{base}/followup/patients/{world.patient_a.uuid}/new/")
    fill_reached_visit(page)
    page.click("#suggestion [data-adopt]")
    page.click("#save-followup")
    page.wait_for_url(re.compile(r"/timeline/$"))
    assert "随访已保存" in page.inner_text(".messages")
    # Dated by the server's today: TODAY, or the day after when the run has passed midnight since it started.
    followup = FollowUp.objects.get(patient=world.patient_a, date__gte=TODAY)
    assert (followup.outcome, followup.doctor_id) == ("REACHED", world.doctor_a.pk)

    # Static files under their hashed names, from nginx, cached for a year.
    hashed = set(manifest.values())
    assert stylesheets and all(url.split("/static/", 1)[1] in hashed for url in stylesheets + scripts)
    asset = page.request.get(stylesheets[0])
    assert asset.status == 200 and "immutable" in asset.headers["cache-control"]
    assert "text/css" in asset.headers["content-type"]
    phone.close()

    # County staff (second factor) builds the PDF: the worker of the "reports" queue makes it.
    desktop = browser.new_context(ignore_https_errors=True, locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = desktop.new_page()
    page.set_default_timeout(30_000)
    log_in(page, server, "county_d", PASSWORD)
    assert "/login/" not in page.url, page.url
    page.goto(f"{base}/reports/")
    page.select_option("#id_period_kind", "year")
    page.select_option("#id_period_year", str(TODAY.year))
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("table.list")
    page.click("text=生成PDF报告")
    page.wait_for_selector("text=下载PDF", timeout=60_000)
    export = PdfExport.objects.get(requested_by=world.county_d)
    assert export.status == PdfExport.Status.DONE
    assert "build_report_pdf" in worker_log.read_text()
    with page.expect_download() as download:
        page.click("text=下载PDF")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    desktop.close()


def other_sessions() -> list[tuple[int, str]]:
    """Connections to the test database other than this process's own (the started processes' must be gone)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, concat_ws(' ', backend_start, client_port, state, left(query, 200)) FROM pg_stat_activity "
            "WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [(int(pid), str(what)) for pid, what in cursor.fetchall()]


def drive_chromium(base: str, world: World, manifest: dict[str, str], worker_log: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            browser_journey(browser, base, world, manifest, worker_log)
        finally:
            browser.close()
            # Playwright's greenlet ran the ORM on a connection of its own: close it here, where it lives.
            connections.close_all()


def in_own_thread(work: Callable[[], None]) -> None:
    """Run *work* in a thread of its own: Playwright's sync API refuses a thread where an event loop already runs
    (the browser journeys' session Chromium runs one in the main thread when they ran first); the thread's
    database connections are closed before it ends."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # handed to the test's thread
            failures.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="deployment-journey")
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


def test_the_deployment_serves_the_journey_through_nginx(world: World, tmp_path: Path, settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = LOCKOUT_LIMIT  # what the started processes read from the env file
    # Connections this test process already holds (e.g. one an earlier browser test's Playwright context opened):
    # not the started processes', so the final check leaves them out.
    before = {pid for pid, _what in other_sessions()}
    https_port, http_port, web_port = free_port(), free_port(), free_port()
    conf_dir, out = tmp_path / "etc", tmp_path / "rendered"
    cert, cert_key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603
        [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}",
         "-keyout", str(cert_key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    render(
        out,
        {
            "SERVER_NAME": HOST,
            "APP_DIR": str(ROOT),
            "CONF_DIR": str(conf_dir),
            "SERVICE_USER": getpass.getuser(),
            "CERT": str(cert),
            "CERT_KEY": str(cert_key),
            "HTTP_PORT": str(http_port),
            "HTTPS_PORT": str(https_port),
            "WEB_PORT": str(web_port),
            "NGINX_LOG_DIR": str(tmp_path),
        },
    )
    conf_dir.mkdir()
    write_keys(conf_dir / "keys")
    shutil.copy(out / "jingfang.env", conf_dir / "jingfang.env")
    db = connection.settings_dict
    edit_env_file(
        conf_dir / "jingfang.env",
        {
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": str(settings.REDIS_URL),
            "LOGIN_FAILURE_LIMIT": str(LOCKOUT_LIMIT),
            "WEB_CONCURRENCY": "2",
        },
    )
    # The accounts' passwords under the product's hasher (the test suite's fast one is not accepted by it).
    hasher = PBKDF2PasswordHasher()
    password = hasher.encode(PASSWORD, hasher.salt())
    User.objects.filter(username__in=["doctor_a", "county_d"]).update(password=password)
    make_overdue(world)
    cache.clear()  # no lockout or heartbeat left by an earlier test

    # deploy/README.md: collectstatic and the deployment checks through the rendered jingfang-manage.
    manage = [str(out / "jingfang-manage")]
    subprocess.run([*manage, "collectstatic", "--no-input", "--verbosity", "0"], check=True)  # noqa: S603
    deploy_check = [*manage, "check", "--deploy", "--fail-level", "ERROR"]
    checked = subprocess.run(deploy_check, check=False, capture_output=True, text=True)  # noqa: S603
    assert checked.returncode == 0, checked.stdout + checked.stderr
    manifest = json.loads((ROOT / "staticfiles" / "staticfiles.json").read_text())["paths"]
    # The nightly backup's command (deploy/cron/jingfang-backup), sealed with the backup key from its file.
    cron = (out / "cron" / "jingfang-backup").read_text()
    assert "/usr/local/bin/jingfang-manage backup /var/backups/jingfang/jingfang-$(date +\\%F).dump --encrypt" in cron
    subprocess.run([*manage, "backup", str(tmp_path / "nightly.dump"), "--encrypt"], check=True, capture_output=True)  # noqa: S603
    assert not (tmp_path / "nightly.dump").read_bytes().startswith(b"PGDMP")  # encrypted, not a plain pg_dump
    assert (tmp_path / "nightly.dump.sha256").exists()
    verify_units(out / "systemd")

    logs = {name: tmp_path / f"{name}.log" for name in ("web", "worker", "beat", "nginx")}
    nginx_config = nginx_main_config(tmp_path, out / "nginx" / "jingfang.conf")
    nginx = [NGINX, "-p", str(tmp_path), "-e", str(tmp_path / "nginx-error.log"), "-c", str(nginx_config)]
    tested = subprocess.run([*nginx, "-t"], check=False, capture_output=True, text=True)  # noqa: S603
    assert tested.returncode == 0, tested.stderr
    check_in_debian_nginx(tmp_path, out / "nginx" / "jingfang.conf")

    refuses_a_wrong_key(out / "systemd", conf_dir / "keys", tmp_path)

    with ExitStack() as stack:
        web, web_env, web_cwd = unit_command(out / "systemd" / "jingfang-web.service")
        stack.enter_context(started(web, web_env, web_cwd, logs["web"]))
        worker, worker_env, worker_cwd = unit_command(out / "systemd" / "jingfang-worker@.service", "reports")
        stack.enter_context(started(worker, worker_env, worker_cwd, logs["worker"]))
        beat, beat_env, beat_cwd = unit_command(out / "systemd" / "jingfang-beat.service")
        beat_process = stack.enter_context(started(beat, beat_env, beat_cwd, logs["beat"]))
        stack.enter_context(
            started([*nginx, "-g", "daemon off;"], {"PATH": os.environ["PATH"]}, tmp_path, logs["nginx"])
        )
        wait_for("gunicorn", lambda: answers(web_port), logs=(logs["web"],))
        wait_for("nginx", lambda: answers(https_port), logs=(logs["nginx"], tmp_path / "nginx-error.log"))
        wait_for("the worker", in_log(logs["worker"], "ready."), logs=(logs["worker"],))
        wait_for("beat", in_log(logs["beat"], "beat: Starting"), logs=(logs["beat"],))
        base = f"https://{HOST}:{https_port}"
        local = Client(https_port, "127.0.0.1")

        # Plain HTTP answers only with the redirect; HTTPS pages carry HSTS; unknown host names get nothing.
        plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        plain.request("GET", "/login/?next=/", headers={"Host": HOST})
        redirect = plain.getresponse()
        assert (redirect.status, redirect.getheader("Location")) == (301, f"{base}/login/?next=/")
        plain.close()
        response, _ = local.request("GET", "/login/")
        assert response.status == 200 and "max-age=31536000" in (response.getheader("Strict-Transport-Security") or "")
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            local.request("GET", "/login/", headers={"Host": "attacker.example"})
        # nginx takes a workbook of the largest size the form accepts (300 MB and the form around it): it waits for
        # the rest of the body; a body well above the limit is refused before it is sent.
        assert upload_answer(https_port, MAX_UPLOAD_BYTES + 1024 * 1024) is None
        assert upload_answer(https_port, MAX_UPLOAD_BYTES + 20 * 1024 * 1024) == 413

        in_own_thread(lambda: drive_chromium(base, world, manifest, logs["worker"]))

        # /healthz through nginx: everything the web needs, and the worker of the reports queue.
        response, body = local.request("GET", "/healthz")
        found = json.loads(body)
        assert response.status == 200 and found["status"] == "ok", body
        assert found["checks"]["worker:reports"] == "ok", body

        # The login lockout keys on the address nginx saw. 8 failures from 127.0.0.2 (unknown usernames, so no
        # username is locked) lock that address, not 127.0.0.3 nor the proxy's own 127.0.0.1.
        attacker, neighbour = Client(https_port, "127.0.0.2"), Client(https_port, "127.0.0.3")
        for attempt in range(LOCKOUT_LIMIT * 4):
            status, page_text = attacker.log_in(f"nobody-{attempt}", "wrong-password-1")
            assert status == 200 and "用户名或密码不正确" in page_text
        assert throttle.is_locked("", "127.0.0.2")
        assert not throttle.is_locked("", "127.0.0.3") and not throttle.is_locked("", "127.0.0.1")
        assert AuditEvent.objects.filter(action=Action.LOCKOUT, detail__scope="address").count() == 1
        status, page_text = attacker.log_in("doctor_a", PASSWORD)
        assert status == 200 and "登录失败次数过多" in page_text
        # A forged X-Forwarded-For is overwritten by nginx: it neither frees the locked address...
        status, page_text = attacker.log_in("doctor_a", PASSWORD, forwarded_for="127.0.0.9")
        assert status == 200 and "登录失败次数过多" in page_text
        # ... nor puts the neighbour under the lock it names.
        status, _ = neighbour.log_in("doctor_a", PASSWORD, forwarded_for="127.0.0.2")
        assert status == 302
        assert beat_process.poll() is None, logs["beat"].read_text()[-2000:]

    # Every process is stopped: no connection of theirs is left on the test database.
    def started_processes_sessions() -> list[tuple[int, str]]:
        return [(pid, what) for pid, what in other_sessions() if pid not in before]

    wait_for(
        "the processes' database connections to close",
        lambda: not started_processes_sessions(),
        seconds=20,
        what_else=started_processes_sessions,
    )
