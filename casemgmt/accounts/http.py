"""A request whose user is known to be signed in: the type of every view behind ``login_required``."""

from __future__ import annotations

from django.http import HttpRequest

from casemgmt.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
