"""The second factor in tests.

Accounts that must pass a second factor (area staff, administrators, superusers) get a confirmed authenticator
from ``enrolled_device``; ``current_code`` computes what the authenticator app would show now.

``Client.force_login`` and ``Client.login`` (Django's test client) stand for a full login: for such accounts they
also create the authenticator and mark the session verified with ``django_otp.login``, exactly as the code page
does. Tests of the second factor itself log in through the login page (``client.post(reverse("login"), ...)``),
which this does not touch, or call ``password_only_login``.
"""

from __future__ import annotations

from typing import Any

from django.test.client import ClientMixin
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt.accounts.models import Role, User


def needs_second_factor(user: Any) -> bool:
    return bool(user.is_superuser or user.role in (Role.AREA_STAFF, Role.ADMIN))


def enrolled_device(user: User) -> TOTPDevice:
    """The account's confirmed authenticator, created on first use."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def code_for_key(hex_key: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app holding this secret shows now (or ``steps_ahead`` 30-second steps later)."""
    return f"{totp(bytes.fromhex(hex_key), drift=steps_ahead):06d}"


def current_code(device: TOTPDevice) -> str:
    """A code the device accepts now. A code is accepted once per 30-second step; tests that log the same account
    in several times within a step start it afresh (as if the previous login had been a step earlier)."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    return code_for_key(device.key)


_password_only_login = vars(ClientMixin)["_login"]


def password_only_login(client: Any, user: User) -> None:
    """Log in without passing the second factor (the state right after the password page)."""
    _password_only_login(client, user, "django.contrib.auth.backends.ModelBackend")


def _verified_login(self: Any, user: Any, backend: str | None = None) -> None:
    _password_only_login(self, user, backend)
    if needs_second_factor(user):
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = enrolled_device(user).persistent_id
        session.save()


def install() -> None:
    """Make the test client's logins full logins (called once from tests/conftest.py)."""
    ClientMixin._login = _verified_login  # type: ignore[attr-defined]
