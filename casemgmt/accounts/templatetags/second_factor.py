"""``account|has_authenticator``: whether an account has a confirmed second factor (for its reset button)."""

from __future__ import annotations

from django import template

from casemgmt.accounts.models import User
from casemgmt.accounts.twofactor import services

register = template.Library()


@register.filter
def has_authenticator(account: User) -> bool:
    return services.has_authenticator(account)
