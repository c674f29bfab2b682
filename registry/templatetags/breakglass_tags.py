"""Break-glass in the templates: the county's count of accesses still to acknowledge (navigation), and the end of
the current user's access on the header of every page of a record opened that way."""

from __future__ import annotations

import datetime as dt

from django import template

from registry.access.visibility import break_glass_until
from registry.breakglass.services import unreviewed_count
from registry.models import Patient

register = template.Library()


@register.simple_tag(takes_context=True)
def unreviewed_break_glass(context: template.Context) -> int:
    """0 without a request or for users who do not review (one COUNT query for area staff)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_area_staff", False):
        return 0
    return unreviewed_count(user)


@register.simple_tag(takes_context=True)
def break_glass_ends(context: template.Context, patient: Patient) -> dt.datetime | None:
    """When the current user's break-glass access to this patient ends; None without one."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return break_glass_until(user, patient)
