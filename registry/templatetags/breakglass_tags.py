"""The county's count of break-glass accesses still to acknowledge, for the navigation."""

from __future__ import annotations

from django import template

from registry.breakglass.services import unreviewed_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unreviewed_break_glass(context: template.Context) -> int:
    """0 without a request or for users who do not review (one COUNT query for area staff)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_area_staff", False):
        return 0
    return unreviewed_count(user)
