"""Who must pass a second factor, and whether a request has."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from casemgmt.accounts.models import Role, User

ROLES = (Role.AREA_STAFF, Role.ADMIN)


def requires_second_factor(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Area staff (county, city, province), administrators and superusers: the accounts that can open identities
    outside a township or export."""
    if not isinstance(user, User):
        return False
    return bool(user.is_superuser or user.role in ROLES)


def is_verified(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Whether this request's session has passed the second factor (set by ``django_otp``'s middleware)."""
    return getattr(user, "otp_device", None) is not None
