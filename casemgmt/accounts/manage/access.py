"""Who may use the administration pages: active system administrators. Anyone else signed in gets the
site's one 404 page (the pages' existence is not confirmed); an anonymous visitor is sent to log in."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import User

AdminView = Callable[..., HttpResponse]


def is_administrator(user: User) -> bool:
    return bool(user.is_active and user.is_system_admin)


def admin_required(view: AdminView) -> AdminView:
    @wraps(view)
    def wrapped(request: AuthenticatedHttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not is_administrator(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def manageable_accounts(actor: User) -> QuerySet[User]:
    """The accounts an administrator may see and manage: every account except a superuser's (those belong
    to the operators of the server and are managed from the command line), unless the actor is one."""
    return User.objects.all() if actor.is_superuser else User.objects.filter(is_superuser=False)


def account_for(actor: User, uuid: UUID) -> User:
    user = manageable_accounts(actor).filter(uuid=uuid).first()
    if user is None:
        raise Http404
    return user
