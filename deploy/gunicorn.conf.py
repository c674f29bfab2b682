"""gunicorn settings for 精防 behind nginx (deploy/README.md). systemd starts it as
``gunicorn --config deploy/gunicorn.conf.py casemgmt.wsgi`` (deploy/systemd/jingfang-web.service).

Only nginx talks to it: it listens on the loopback address. The WSGI module runs the start-up checks, so a wrong or
missing key stops the workers with exit code 3 and gunicorn exits instead of restarting them in a loop (the unit
does not restart on that code either).
"""

import multiprocessing
import os

# The unit sets JINGFANG_WEB_BIND from the port the nginx site proxies to (deploy/render, WEB_PORT).
bind = [os.environ.get("JINGFANG_WEB_BIND", "127.0.0.1:8001")]
# Synchronous workers: 2 per core plus one, at most 9 (each holds a database connection); WEB_CONCURRENCY overrides.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(multiprocessing.cpu_count() * 2 + 1, 9))
worker_class = "sync"
# The application is loaded once, in the master, before the workers are forked: the start-up checks (casemgmt.wsgi:
# the keys against the stored data) run once, and a failure stops gunicorn at once with exit code 3. Loaded in each
# worker instead, the workers fail together and gunicorn 27 may exit with 1 while it stops the others (a second
# "worker failed to boot" raised during the halt), which systemd would restart every few seconds.
# New code needs a restart (systemctl restart jingfang-web), not a reload.
preload_app = True
# A request is killed after this long. The slowest legitimate one is a workbook upload (at most 300 MB, already
# buffered by nginx); reports and PDFs are built by the Celery workers. nginx waits as long (proxy_read_timeout).
timeout = 300
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (memory held by large reports is given back).
max_requests = 1000
max_requests_jitter = 100
# No access log: Django writes one structured line per request (casemgmt.request_log) without query strings, and
# gunicorn's format would log the query string (search terms). Errors go to standard error (the journal).
accesslog = None
errorlog = "-"
loglevel = "info"
capture_output = False
# gunicorn 27's runtime control socket is not needed: systemd starts, stops and restarts it.
control_socket_disable = True
# X-Forwarded-* are trusted from the local nginx only (Django reads them: SECURE_PROXY_SSL_HEADER, TRUSTED_PROXIES).
forwarded_allow_ips = "127.0.0.1"
proc_name = "jingfang-web"


def pre_fork(server: object, worker: object) -> None:
    """The checks opened a database connection in the master: close it, so that no worker inherits its socket."""
    from django.db import connections

    connections.close_all()
