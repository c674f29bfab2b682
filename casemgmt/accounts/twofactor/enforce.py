"""Until an account that needs a second factor has passed it, every page but the code pages, logging out and the
language switch sends it to the code page (which sends an account without an authenticator on to enrolment).
The Django admin (/admin/) included. The same shape as ``casemgmt.accounts.enforce`` (temporary passwords), and
before it: the second factor comes first, then the choice of one's own password."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from casemgmt.accounts.twofactor.policy import is_verified, requires_second_factor

ALLOWED_NAMES = ("second_factor:verify", "second_factor:enrol", "logout", "set_language")


def verify_url(next_path: str = "") -> str:
    url = reverse("second_factor:verify")
    return f"{url}?{urlencode({'next': next_path})}" if next_path else url


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and requires_second_factor(user) and not is_verified(user):
            allowed = {reverse(name) for name in ALLOWED_NAMES}
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL or "/static/"):
                # The path only: a query string may hold a search term.
                return HttpResponseRedirect(verify_url(request.path if request.method == "GET" else ""))
        return self.get_response(request)
