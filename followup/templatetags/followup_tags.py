"""Template helpers of the follow-up pages, and the data of the patient panel for any page.

``{% followup_panel patient as panel %}`` lets ``followup/partials/patient_panel.html`` be included on any
page that has ``patient`` and ``request`` in its context (the registry detail page, the follow-up pages).
"""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.utils import timezone

from followup import display
from followup.models import PatientCareState
from registry.access import can_write
from registry.disclosure import Disclosure, disclosure_for
from registry.models import Patient

register = template.Library()


@register.simple_tag(takes_context=True)
def followup_panel(context: template.Context, patient: Patient) -> display.Panel | None:
    """The panel's data for the current user: ``None`` when there is no request (nothing to decide with)."""
    request = context.get("request")
    if request is None or not getattr(request.user, "is_authenticated", False):
        return None
    user: Any = request.user
    disclosure = disclosure_for(user, request.session, patient)
    state = PatientCareState.objects.filter(patient=patient).first()
    return display.panel(
        patient,
        state,
        can_write=can_write(user, patient),
        can_read_clinical=disclosure == Disclosure.FULL,
        today=timezone.localdate(),
    )


@register.filter
def widget_kind(bound: forms.BoundField) -> str:
    """ "choices" for radio/checkbox groups, "flag" for a single checkbox, "input" otherwise."""
    widget = bound.field.widget
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return "choices"
    if isinstance(widget, forms.CheckboxInput):
        return "flag"
    return "input"


@register.filter
def risk_short(level: int | None) -> str:
    return display.risk_short(level)
