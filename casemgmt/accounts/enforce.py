"""An account with a temporary password (``must_change_password``) may open only the password-change page
(and log out or switch language) until it has chosen its own password."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

# The second factor's pages too: it is passed before the temporary password is replaced (twofactor.enforce).
ALLOWED_NAMES = (
    "password_change",
    "logout",
    "set_language",
    "second_factor:verify",
    "second_factor:enrol",
    "second_factor:recovery_codes",
)


class ForcePasswordChangeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            allowed = {reverse(name) for name in ALLOWED_NAMES}
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL or "/static/"):
                return redirect("password_change")
        return self.get_response(request)
