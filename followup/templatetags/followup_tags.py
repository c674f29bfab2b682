"""Template helpers of the follow-up pages, and the data of the patient panel for any page.

``{% followup_panel patient as panel %}`` lets ``followup/partials/patient_panel.html`` be included on any
page that has ``patient`` and ``request`` in its context (the registry detail page, the follow-up pages).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms, template
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from followup.models import PatientCareState
from followup.visits import display
from registry.access.disclosure import Disclosure, disclosure_for
from registry.access.visibility import can_write
from registry.models import Patient

if TYPE_CHECKING:
    from collections.abc import Iterable

    from casemgmt.accounts.models import User

register = template.Library()


@register.simple_tag(takes_context=True)
def followup_panel(context: template.Context, patient: Patient) -> display.Panel | None:
    """The panel's data for the current user: ``None`` when there is no request (nothing to decide with)."""
    request = context.get("request")
    if request is None or not getattr(request.user, "is_authenticated", False):
        return None
    user: User = request.user
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


@register.filter
def choice_inputs(bound: forms.BoundField) -> SafeString:
    """The radio buttons or checkboxes of a choice field, each inside its label.

    The same markup Django's RadioSelect / CheckboxSelectMultiple render, built directly: the follow-up form
    has about a hundred options and rendering each through the widget templates was most of the page's
    server time. Values and labels are escaped by ``format_html``.
    """
    widget = bound.field.widget
    input_type = "checkbox" if isinstance(widget, forms.CheckboxSelectMultiple) else "radio"
    current = bound.value()
    values = current if isinstance(current, list | tuple) else [current]
    checked = {str(v) for v in values if v not in (None, "")}
    choices: Iterable[tuple[object, object]] = getattr(bound.field, "choices", ())
    mark = {True: " checked", False: ""}
    return format_html_join(
        "",
        '<div><label for="{0}_{1}"><input type="{2}" name="{3}" value="{4}" id="{0}_{1}"{5}> {6}</label></div>',
        (
            (bound.auto_id, index, input_type, bound.html_name, value, mark[str(value) in checked], label)
            for index, (value, label) in enumerate(choices)
        ),
    )
