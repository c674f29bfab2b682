"""The Django admin's account pages, for superusers only (administrators use the product's own pages).

Nothing that decides what an account may reach is changed here (issue 14 §3): the role, the memberships, the
active flag, the superuser and staff flags, Django's groups and permissions and the password are shown read-only
or not at all, and no account is added here. Those changes go through the product's account pages, where a
change that gives access waits for a second person's approval (``casemgmt.accounts.manage.approvals``); the
superuser flag is set only from the command line (``createsuperuser``).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt.accounts.admin_access import SuperuserOnly
from casemgmt.accounts.models import User
from casemgmt.accounts.views import ThrottledAdminAuthenticationForm
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event


@admin.register(User)
class UserAdmin(SuperuserOnly, BaseUserAdmin):  # type: ignore[type-arg]  # the class is not subscriptable at run time
    list_display = ("username", "display_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("username", "display_name")
    fieldsets = (
        (None, {"fields": ("username",)}),
        (_("精防"), {"fields": ("role", "areas", "display_name", "phone", "is_active", "must_change_password")}),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("role", "areas", "is_active", "must_change_password", "last_login", "date_joined")

    @admin.display(description=_("辖区"))
    def areas(self, obj: User) -> str:
        memberships = obj.memberships.select_related("area").order_by("area_id")
        return pgettext("list item separator", "、").join(str(m.area) for m in memberships) or "—"

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False  # a new account is requested in the product and made when a second person approves it

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        raise Http404  # a password the superuser chose would let it sign in as the account

    # Every account change made here is written to the append-only audit too (the admin's own LogEntry can be
    # deleted); the change message names fields and inline rows, never a password.
    def log_addition(self, request: HttpRequest, obj: User, message: object) -> LogEntry:
        entry = super().log_addition(request, obj, message)
        _audit(request, obj, Action.ACCOUNT_CREATE, entry)
        return entry

    def log_change(self, request: HttpRequest, obj: User, message: object) -> LogEntry:
        entry = super().log_change(request, obj, message)
        _audit(request, obj, Action.ACCOUNT_UPDATE, entry)
        return entry


def _audit(request: HttpRequest, user: User, action: str, entry: LogEntry) -> None:
    actor = request.user if isinstance(request.user, User) else None
    detail = {"username": user.username, "role": user.role, "source": "admin", "change": entry.get_change_message()}
    record_event(actor=actor, action=action, detail=detail)


if admin.site.is_registered(Group):
    admin.site.unregister(Group)

# Authenticators and recovery codes change only through the audited reset (casemgmt.accounts.locks, or the
# reset_second_factor command): django-otp's own admin pages (registered before this module runs) are removed.
for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)

# /admin/login/ counts failed logins like /login/ (per username and per client address behind the proxy).
admin.site.login_form = ThrottledAdminAuthenticationForm
