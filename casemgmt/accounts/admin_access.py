"""The Django admin is for system administrators (role ADMIN) only, whatever their Django permissions."""

from __future__ import annotations

from django.http import HttpRequest


class SystemAdminOnly:
    """Mixed into every ModelAdmin: only active users with the ADMIN role may view or change."""

    def _is_system_admin(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and getattr(user, "is_system_admin", False))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_system_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._is_system_admin(request)

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return self._is_system_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._is_system_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # areas and accounts are deactivated, never deleted (audit rows point at them)
