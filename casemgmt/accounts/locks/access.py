"""Who may lift locks and reset second factors, and over which accounts."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import User
from casemgmt.areas.scope import within

OfficerView = Callable[..., HttpResponse]


def is_officer(user: User) -> bool:
    """Active area staff and administrators (and superusers, the server's operators)."""
    return bool(user.is_active and (user.is_area_staff or user.is_system_admin or user.is_superuser))


def officer_required(view: OfficerView) -> OfficerView:
    @wraps(view)
    def wrapped(request: AuthenticatedHttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not is_officer(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def accounts_in_reach(actor: User) -> QuerySet[User]:
    """Administrators: every account (a superuser's only for a superuser). Area staff: the accounts with a
    membership inside their jurisdiction (never a superuser's). Never the actor's own."""
    if actor.is_system_admin or actor.is_superuser:
        accounts = User.objects.all() if actor.is_superuser else User.objects.filter(is_superuser=False)
    else:
        inside = within(actor.jurisdiction_prefixes(), "memberships__area__code")
        accounts = User.objects.filter(inside, is_superuser=False).distinct()
    return accounts.exclude(pk=actor.pk)


def account_in_reach(actor: User, account_uuid: UUID) -> User:
    """The account, or the site's 404 (the same for "no such account" and "not yours")."""
    account = accounts_in_reach(actor).filter(uuid=account_uuid).first()
    if account is None:
        raise Http404
    return account
