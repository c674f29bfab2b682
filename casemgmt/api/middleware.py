"""Session cookies never authenticate the machine API."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

API_PREFIX = "/api/"


class ApiWithoutSessionMiddleware:
    """Drop the session and CSRF cookies of requests under /api/ before the session middleware reads them.

    The API authenticates by bearer token only; without the session the request is anonymous to every later
    middleware, so none of them redirects it to a login, second-factor or password page (HTML).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            request.COOKIES.pop(settings.SESSION_COOKIE_NAME, None)
            request.COOKIES.pop(settings.CSRF_COOKIE_NAME, None)
        return self.get_response(request)
