"""Response hardening for pages that may carry patient data."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class NoStoreForPatientDataMiddleware:
    """Authenticated pages must not be kept in shared or browser caches (a phone may be shared)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            response.setdefault("Cache-Control", "no-store, private")
        return response


class ContentSecurityPolicyMiddleware:
    """A strict Content-Security-Policy on every response (``settings.CONTENT_SECURITY_POLICY``).

    Scripts and styles come from this site's static files only — no inline script, no inline style, no eval —
    so an injected tag or attribute cannot run. The pages keep their data in ``<script type="application/json">``
    blocks (``json_script``), which the policy does not execute.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy:
            response.setdefault("Content-Security-Policy", policy)
        return response
