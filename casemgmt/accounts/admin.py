"""Administrators maintain accounts, roles and area memberships here."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from casemgmt.accounts.admin_access import SystemAdminOnly
from casemgmt.accounts.models import AreaMembership, User


class MembershipInline(SystemAdminOnly, admin.TabularInline):  # type: ignore[type-arg]  # the class is not subscriptable at run time
    model = AreaMembership
    extra = 0
    raw_id_fields = ("area",)


@admin.register(User)
class UserAdmin(SystemAdminOnly, BaseUserAdmin):  # type: ignore[type-arg]  # the class is not subscriptable at run time
    list_display = ("username", "display_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("username", "display_name")
    inlines = [MembershipInline]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("精防"), {"fields": ("role", "display_name", "phone")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("精防"), {"fields": ("role", "display_name")}),
    )
