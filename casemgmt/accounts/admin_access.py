"""The Django admin is for superusers (the server's operators) only; administrators work in the product's
own pages (``casemgmt.accounts.manage``, ``casemgmt.areas.views``).

Two locks: a middleware answers every ``/admin/`` request from anyone else with the site's 404 (an anonymous
visitor is sent to the product's throttled login), and every ModelAdmin refuses non-superusers as well.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse


def is_superuser(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_superuser)


class SuperuserOnlyAdminMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(reverse("admin:index")):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not is_superuser(request):
                raise Http404
        return self.get_response(request)


class SuperuserOnly:
    """Mixed into every ModelAdmin: only active superusers may view or change."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_superuser(request)

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return is_superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # areas and accounts are deactivated, never deleted (audit rows point at them)
