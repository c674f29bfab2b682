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
``patient_extra`` block of ``templates/registry/patient_detail.html``; renderers registered with
``page=STATUS`` appear on the status-change page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

from casemgmt.accounts.http import AuthenticatedHttpRequest
from registry.models import Patient

PanelRenderer = Callable[[AuthenticatedHttpRequest, Patient, str], str]

DETAIL = "detail"  # the patient page
STATUS = "status"  # the status-change page: facts that bear on the change (e.g. the attempts not reached)

_renderers: dict[str, list[PanelRenderer]] = {DETAIL: [], STATUS: []}


def register_panel(renderer: PanelRenderer, *, page: str = DETAIL) -> PanelRenderer:
    if renderer not in _renderers[page]:
        _renderers[page].append(renderer)
    return renderer


def unregister_panel(renderer: PanelRenderer, *, page: str = DETAIL) -> None:
    if renderer in _renderers[page]:
        _renderers[page].remove(renderer)


def render_panels(
    request: AuthenticatedHttpRequest, patient: Patient, disclosure: str, *, page: str = DETAIL
) -> list[SafeString]:
    rendered = (renderer(request, patient, disclosure) for renderer in list(_renderers[page]))
    return [conditional_escape(html) for html in rendered if html]
