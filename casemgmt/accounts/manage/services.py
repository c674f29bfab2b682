"""Account changes made by an administrator: each one goes through the provisioning rules and is audited.

Audit detail names accounts by username (staff, not patients) and areas by code; never a patient.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from casemgmt.accounts.management.provisioning import generate_password, provision_account
from casemgmt.accounts.models import User
from casemgmt.areas.models import Area
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event


def area_codes(user: User) -> list[str]:
    return sorted(user.memberships.values_list("area_id", flat=True))


def _account_detail(user: User) -> dict[str, object]:
    return {"username": user.username, "role": user.role, "areas": area_codes(user), "active": user.is_active}


@transaction.atomic
def create_account(
    *, actor: User, username: str, role: str, areas: Sequence[Area], display_name: str
) -> tuple[User, str]:
    """A new account with a temporary password (returned once) that must be changed at first login.

    Raises ProvisioningError when the rules refuse, writing nothing.
    """
    password = generate_password()
    result = provision_account(username=username, role=role, areas=areas, display_name=display_name, password=password)
    user = result.user
    user.must_change_password = True
    user.save(update_fields=["must_change_password"])
    record_event(actor=actor, action=Action.ACCOUNT_CREATE, detail=_account_detail(user))
    return user, password


@transaction.atomic
def update_account(*, actor: User, user: User, role: str, areas: Sequence[Area], display_name: str) -> User:
    """Bring the account to this role, these areas and this name; its password and active state are kept."""
    before = _account_detail(user) | {"display_name": user.display_name}
    was_active = user.is_active
    result = provision_account(username=user.username, role=role, areas=areas, display_name=display_name)
    user = result.user
    if not was_active:  # provision_account reactivates; editing a deactivated account must not
        user.is_active = False
        user.save(update_fields=["is_active"])
    after = _account_detail(user) | {"display_name": user.display_name}
    changed = sorted(key for key in after if after[key] != before[key])
    record_event(
        actor=actor,
        action=Action.ACCOUNT_UPDATE,
        detail={"username": user.username, "changed": changed, "before": before, "after": after},
    )
    return user


@transaction.atomic
def set_active(*, actor: User, user: User, active: bool) -> User:
    """Deactivate (the account can no longer sign in; its sessions stop working) or reactivate."""
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        action = Action.ACCOUNT_REACTIVATE if active else Action.ACCOUNT_DEACTIVATE
        record_event(actor=actor, action=action, detail={"username": user.username, "role": user.role})
    return user


@transaction.atomic
def reset_password(*, actor: User, user: User) -> str:
    """A new temporary password (returned once, never stored in clear or in the audit); the account's open
    sessions end (the session hash changes) and it must choose its own password at next login."""
    password = generate_password()
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    record_event(actor=actor, action=Action.PASSWORD_RESET, detail={"username": user.username, "role": user.role})
    return password
