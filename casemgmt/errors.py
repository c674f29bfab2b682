"""The refusal pages: one Chinese page inside the site's frame for 400, 403, 404, 405 and CSRF failures.

Django renders ``404.html``, ``403.html`` and ``400.html`` itself. Two refusals need help: a CSRF failure
(Django's own view renders without the request, so the page would lose its frame and language) and a 405, which
``require_http_methods`` answers with an empty body. A 404 never says whether a record exists: "not found" and
"not yours" are the same page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.template.loader import render_to_string


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: the expired-form page, rendered with the request. ``reason`` is not shown."""
    return HttpResponseForbidden(render_to_string("403_csrf.html", request=request))


class MethodNotAllowedPageMiddleware:
    """Give an empty 405 (from ``require_http_methods``) the site's page, keeping its ``Allow`` header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            response.content = render_to_string("405.html", request=request).encode()
            response["Content-Type"] = "text/html; charset=utf-8"
        return response
