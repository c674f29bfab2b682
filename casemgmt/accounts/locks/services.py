"""Reading and lifting login locks of the accounts in an officer's reach."""

from __future__ import annotations

from django.db.models import QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt.accounts import throttle
from casemgmt.accounts.models import User
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event


def locked_accounts(accounts: QuerySet[User]) -> list[User]:
    """The accounts among these that their own failed logins lock now (the throttle keys hash usernames, so the
    accounts are asked for by name: one read of the shared cache for all of them)."""
    candidates = list(accounts.only("id", "uuid", "username", "display_name", "role").order_by("username"))
    locked = throttle.locked_usernames(account.username for account in candidates)
    return [account for account in candidates if account.username in locked]


def with_authenticator(accounts: QuerySet[User]) -> QuerySet[User]:
    confirmed = TOTPDevice.objects.filter(confirmed=True).values("user_id")
    return accounts.filter(pk__in=confirmed).order_by("username")


def lift(*, actor: User, account: User) -> bool:
    """Clear the account's failed logins; False (and nothing written) when it was not locked. Audited LOCK_LIFTED
    with the username only (a lock by client address stays: the address is not known here and not recorded)."""
    if not throttle.is_locked(account.username, ""):
        return False
    throttle.clear_failures(account.username)
    record_event(actor=actor, action=Action.LOCK_LIFTED, detail={"username": account.username})
    return True
