"""The audit rows of logging in and out (issue 14 §3): LOGIN, LOGOUT, LOGIN_FAILED and LOCKOUT.

What someone typed as a username may be a mistyped password or a person's name. A row names the account when one
has exactly that username; otherwise it keeps only a keyed hash of what was typed (``username_hash``: the same
typing gives the same hash, so repeated attempts can be followed, but the text cannot be read back). Passwords
and client addresses are never written.

Rows are written by the views (not by Django's login signal), so the test client's ``force_login`` leaves none.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.crypto import salted_hmac

from casemgmt.accounts.models import User
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event

_HASH_SALT = "casemgmt.accounts.login_audit.username"


def _who(typed_username: str) -> tuple[User | None, dict[str, object]]:
    """The account a typed username names, and the detail that identifies it without echoing unknown text."""
    account = User.objects.filter(username=typed_username).first() if typed_username else None
    if account is not None:
        return account, {"username": account.username}
    if not typed_username:
        return None, {}
    digest = salted_hmac(_HASH_SALT, typed_username.strip().lower(), algorithm="sha256").hexdigest()
    return None, {"username_hash": digest[:24]}


def logged_in(user: User, **detail: object) -> None:
    record_event(actor=user, action=Action.LOGIN, detail={"username": user.username, **detail})


def logged_out(user: User) -> None:
    record_event(actor=user, action=Action.LOGOUT, detail={"username": user.username})


def login_failed(typed_username: str, *, reason: str, reached: Iterable[str] = ()) -> None:
    """One failed attempt (``reason``: "password" or "locked"), then a LOCKOUT row for each limit it reached."""
    actor, who = _who(typed_username)
    record_event(actor=actor, action=Action.LOGIN_FAILED, detail={**who, "reason": reason})
    locked_out(actor, who, reached)


def locked_out(actor: User | None, who: dict[str, object], reached: Iterable[str]) -> None:
    for scope in reached:
        # An address lockout does not name the address (personal data), only that one happened.
        detail = {**who, "scope": scope} if scope == "username" else {"scope": scope}
        record_event(actor=actor if scope == "username" else None, action=Action.LOCKOUT, detail=detail)
