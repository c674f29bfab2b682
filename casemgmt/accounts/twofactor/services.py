"""Enrolling an authenticator, checking a code, and resetting an account's second factor; each audited."""

from __future__ import annotations

import base64
import enum
from dataclasses import dataclass

import segno
from django.db import transaction
from django_otp import verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt.accounts import login_audit, throttle
from casemgmt.accounts.models import User
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event

RECOVERY_CODE_COUNT = 10
TOTP_DIGITS = 6


def has_authenticator(user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def pending_authenticator(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (one per account; the same secret until it is confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret as a QR code (an SVG ``data:`` URI) and as text."""

    qr_data_uri: str
    secret: str


def enrolment_for(device: TOTPDevice) -> Enrolment:
    secret = base64.b32encode(device.bin_key).decode()
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    qr = segno.make(device.config_url, error="m")
    return Enrolment(qr_data_uri=qr.svg_data_uri(scale=5, border=2), secret=grouped)


def confirm_enrolment(user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the pending authenticator with its first code: its other devices go, ten new recovery codes are
    made (returned once, to be shown once). ``None`` when the code is wrong (audited OTP_FAILED)."""
    with transaction.atomic():
        pending = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user, confirmed=False).first()
        if pending is None or not pending.verify_token(_digits(code)):
            record_event(actor=user, action=Action.OTP_FAILED, detail={"username": user.username, "step": "enrol"})
            return None
        pending.confirmed = True
        pending.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=pending.pk).delete()
        StaticDevice.objects.filter(user=user).delete()
        recovery = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=recovery, token=token) for token in codes)
        record_event(actor=user, action=Action.OTP_ENROLL, detail={"username": user.username})
    return codes


class Outcome(enum.Enum):
    LOCKED = "locked"
    WRONG = "wrong"
    TOTP = "totp"
    RECOVERY = "recovery"


@dataclass(frozen=True)
class Check:
    outcome: Outcome
    device: Device | None = None


def check_code(user: User, code: str, address: str) -> Check:
    """Check a code typed on the code page: six digits against the authenticator, anything else against the
    recovery codes (used up when it matches). A wrong code counts toward the login lockout like a wrong password;
    a right one clears the account's failures (the password alone never does, for these accounts)."""
    if throttle.is_locked(user.username, address):
        record_event(actor=user, action=Action.OTP_FAILED, detail={"username": user.username, "step": "locked"})
        return Check(Outcome.LOCKED)
    digits = _digits(code)
    if len(digits) == TOTP_DIGITS and digits.isdigit():
        device = _first_match(user, TOTPDevice, digits)
        outcome = Outcome.TOTP
    else:
        device = _first_match(user, StaticDevice, _recovery(code))
        outcome = Outcome.RECOVERY
    if device is None:
        reached = throttle.record_failure(user.username, address)
        record_event(actor=user, action=Action.OTP_FAILED, detail={"username": user.username, "step": "verify"})
        login_audit.locked_out(user, {"username": user.username}, reached)
        return Check(Outcome.WRONG)
    throttle.clear_failures(user.username)
    if outcome is Outcome.RECOVERY:
        remaining = StaticToken.objects.filter(device__user=user).count()
        record_event(
            actor=user, action=Action.OTP_RECOVERY_USED, detail={"username": user.username, "remaining": remaining}
        )
    login_audit.logged_in(user, second_factor=outcome.value)
    return Check(outcome, device)


def _first_match(user: User, model: type[TOTPDevice] | type[StaticDevice], token: str) -> Device | None:
    if not token:
        return None
    for device in model.objects.filter(user=user, confirmed=True):
        verified: Device | None = verify_token(user, device.persistent_id, token)
        if verified is not None:
            return verified
    return None


def _digits(code: str) -> str:
    return "".join(code.split())


def _recovery(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def reset(*, actor: User | None, account: User, source: str = "") -> None:
    """Remove every authenticator and recovery code of ``account`` (a lost phone): its open sessions are no longer
    verified, and its next login enrols a new authenticator. Audited OTP_RESET (``actor`` None: the command line)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=account).delete()
        StaticDevice.objects.filter(user=account).delete()
        detail = {"username": account.username, **({"source": source} if source else {})}
        record_event(actor=actor, action=Action.OTP_RESET, detail=detail)
