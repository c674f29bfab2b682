"""One structured log line per request and per task, never with identity.

A request line names the route (``registry:patient_detail``), never the path or the query string: paths carry
record ids and a query may carry a typed ID number or name. A task line names the task and its outcome, never its
arguments. Lines are ``key=value`` pairs on the ``casemgmt.request`` / ``casemgmt.task`` loggers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from celery import signals
from django.http import HttpRequest, HttpResponseBase

request_logger = logging.getLogger("casemgmt.request")
task_logger = logging.getLogger("casemgmt.task")


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.monotonic()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        request_logger.info(
            "request method=%s route=%s status=%s ms=%.1f user=%s",
            request.method,
            match.view_name if match else "-",
            response.status_code,
            (time.monotonic() - started) * 1000,
            user.pk if user is not None and user.is_authenticated else "-",
        )
        return response


_task_started: dict[str, float] = {}


@signals.task_prerun.connect
def _task_begins(task_id: str = "", **_kwargs: object) -> None:
    _task_started[task_id] = time.monotonic()


@signals.task_postrun.connect
def _task_ends(task_id: str = "", task: object = None, state: str = "", **_kwargs: object) -> None:
    from casemgmt.health import record_periodic_run

    started = _task_started.pop(task_id, None)
    name = str(getattr(task, "name", "-"))
    task_logger.info(
        "task name=%s id=%s state=%s ms=%s",
        name,
        task_id,
        state or "-",
        f"{(time.monotonic() - started) * 1000:.1f}" if started is not None else "-",
    )
    record_periodic_run(name)
