"""API tokens: issue (shown once), revoke, and authenticate; creating and revoking are audited.

A token reads ``jf_<prefix>_<secret>``: ``prefix`` (8 hex characters) is stored in clear to find the row, and the
SHA-256 digest of the whole token is stored instead of the token. The secret has 256 bits of entropy, so a
digest without salt or stretching is enough (nothing to guess, unlike a password).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from casemgmt.accounts.models import ApiToken, Role, User
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event

TOKEN_START = "jf_"  # noqa: S105 (the public start of every token, not a secret)
PREFIX = re.compile(r"[0-9a-f]{8}")
HOLDER_ROLES = frozenset({Role.DOCTOR, Role.AREA_STAFF})  # those who use the endpoints; admins see no patients


def may_hold_tokens(user: User) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.is_active and user.role in HOLDER_ROLES


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones too: the page shows their history)."""
    return list(ApiToken.objects.filter(user=user))


def is_live(token: ApiToken, now: dt.datetime | None = None) -> bool:
    return token.revoked_at is None and token.expires_at > (now or timezone.now())


@transaction.atomic
def issue(user: User, *, name: str, days: int) -> tuple[ApiToken, str]:
    """A new token for *user* valid for *days*; returns the row and the token (its only appearance)."""
    if not may_hold_tokens(user):
        raise PermissionError("role may not hold API tokens")
    while True:
        prefix = secrets.token_hex(4)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    plain = f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        digest=digest_of(plain),
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    record_event(
        actor=user,
        action=Action.ACCOUNT_UPDATE,
        detail={"api_token": "created", "prefix": prefix, "expires_at": token.expires_at.isoformat()},
    )
    return token, plain


@transaction.atomic
def revoke(user: User, token_id: int) -> ApiToken | None:
    """Revoke one of *user*'s own live tokens; None when the user has no such token (someone else's alike)."""
    token = ApiToken.objects.select_for_update().filter(user=user, pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        return None
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record_event(actor=user, action=Action.ACCOUNT_UPDATE, detail={"api_token": "revoked", "prefix": token.prefix})
    return token


def authenticate(header: str) -> ApiToken | None:
    """The live token named by an ``Authorization`` header value, with its user; None for anything else.

    Refused: no ``Bearer`` scheme, an unknown prefix, a wrong secret, a revoked or expired token, a deactivated
    account. A success stamps ``last_used_at``.
    """
    scheme, _space, plain = header.partition(" ")
    plain = plain.strip()
    if scheme.lower() != "bearer" or not plain.startswith(TOKEN_START) or len(plain) > 200:
        return None
    prefix = plain[len(TOKEN_START) :].partition("_")[0]
    if not PREFIX.fullmatch(prefix):
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.digest, digest_of(plain)):
        return None
    now = timezone.now()
    if not is_live(token, now) or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def default_days() -> int:
    return int(settings.API_TOKEN_DAYS)
