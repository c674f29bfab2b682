"""Extra panels on the patient page, contributed by apps that build on the registry.

Dependencies point one way (``registry`` never imports ``followup``), so the follow-up app cannot be called
from the detail view. Instead it registers a renderer here, typically in its ``AppConfig.ready()``::

    from registry.patients.panels import register_panel

    @register_panel
    def followup_panel(request, patient, disclosure):
        if disclosure == "masked":
            return ""
        return render_to_string("followup/_patient_panel.html", {...}, request=request)

A renderer receives the disclosure level (``registry.access.disclosure.Disclosure``: full, masked or limited) and
must show no more than it allows: a case-team member (limited) never sees the clinical history. It returns
HTML rendered from a template (a ``SafeString``); anything else is escaped. The panels appear in the
``patient_extra`` block of ``templates/registry/patient_detail.html``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

from casemgmt.accounts.http import AuthenticatedHttpRequest
from registry.models import Patient

PanelRenderer = Callable[[AuthenticatedHttpRequest, Patient, str], str]

_renderers: list[PanelRenderer] = []


def register_panel(renderer: PanelRenderer) -> PanelRenderer:
    if renderer not in _renderers:
        _renderers.append(renderer)
    return renderer


def unregister_panel(renderer: PanelRenderer) -> None:
    if renderer in _renderers:
        _renderers.remove(renderer)


def render_panels(request: AuthenticatedHttpRequest, patient: Patient, disclosure: str) -> list[SafeString]:
    rendered = (renderer(request, patient, disclosure) for renderer in list(_renderers))
    return [conditional_escape(html) for html in rendered if html]
