"""Every URL the project defines, walked by every hostile persona (issue 14 §9).

The patterns come from the URL resolver (``django.urls.get_resolver()``, includes followed), not from a hand
list; their path parameters are filled with the ids of records of township A of county X (see
``tests/casemgmt/url_probe.py``: ``FILLS`` maps each parameter name to the hidden objects). The personas:

- doctor_b, a doctor of township B of the same county;
- team_member, on the case team of township B's patient only;
- county_y, staff of another county;
- admin, the system administrator (no patient data at all);
- anonymous.

Each GETs and POSTs every pattern. A pattern naming a hidden record must answer exactly as it answers for a
record that does not exist (404, the login redirect, a role's 403 or a 405), and a POST must write nothing;
a page without parameters (a list, a form) may answer, but no response — body, headers, cookies or redirect
address — may carry the hidden patients' names, ID numbers, phones or addresses. A new pattern with a
parameter the probe cannot fill fails ``test_every_url_pattern_can_be_filled`` until a line is added to
``FILLS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.test import Client
from django.urls import reverse

from casemgmt.accounts.models import User
from casemgmt.audit.models import AuditEvent, AuditSubject
from registry.models import Patient
from registry.patients.masking import mask_name, mask_national_id
from tests.base import World, comparable_page
from tests.casemgmt.url_probe import (
    ENTITLED,
    FILLS,
    Hidden,
    Route,
    build_hidden,
    build_path,
    changed,
    client_for,
    fills_for,
    leaked,
    missing_value,
    not_probed,
    post_payload,
    probe_query,
    response_text,
    routes,
    row_counts,
)

pytestmark = pytest.mark.django_db

PERSONAS = ["doctor_b", "team_member", "county_y", "admin", "anonymous"]
# Patterns that end the session or change the client's language go last, so the walk stays logged in.
LAST = {"logout", "set_language"}


@pytest.fixture
def hidden(world: World, tmp_path: Path) -> Hidden:
    return build_hidden(world, tmp_path)


def persona_user(hidden: Hidden, persona: str) -> User | None:
    return {
        "doctor_b": hidden.world.doctor_b,
        "team_member": hidden.other_team_member,
        "county_y": hidden.other_county_staff,
        "admin": hidden.world.admin_e,
        "anonymous": None,
    }[persona]


def ordered(all_routes: list[Route]) -> list[Route]:
    return sorted(all_routes, key=lambda route: route.name in LAST)


def is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and urlsplit(response["Location"]).path == reverse(settings.LOGIN_URL)


def without_echo(text: str, hidden: Hidden) -> str:
    """The text less the search box echoing the term the persona typed (the hidden name, in the POST)."""
    return text.replace(f'value="{hidden.patient.name}"', "")


def send(client: Client, method: str, path: str, hidden: Hidden) -> Any:
    if method == "get":
        return client.get(path)
    return client.post(path, post_payload(hidden))


def test_every_url_pattern_can_be_filled(hidden: Hidden) -> None:
    """Fails with a message naming the line to add when a pattern has a parameter the probe cannot fill."""
    probed = [route for route in routes() if not not_probed(route)]
    assert len(probed) > 60
    for route in probed:
        assert list(fills_for(route, hidden)), route.label
    # No stale lines: every entry names a pattern or a parameter that exists.
    names = {route.name for route in probed}
    params = {param for route in probed for param in route.params}
    qualified = {f"{route.name}.{param}" for route in probed for param in route.params}
    assert set(ENTITLED) <= names, set(ENTITLED) - names
    assert set(FILLS) <= params | qualified, set(FILLS) - params - qualified


def refusal_problem(client: Client, method: str, route: Route, response: Any, hidden: Hidden) -> str | None:
    """What is wrong with the answer to a pattern naming a hidden record: it must be a refusal (404, the login
    redirect, a role's 403, a 405) and the very answer given for a record that does not exist."""
    if not (response.status_code in {403, 404, 405} or is_login_redirect(response)):
        return (
            f"status {response.status_code}, expected 404 or the login redirect (a persona legitimately entitled to "
            "this page, with no patient data on it, gets a line in ENTITLED in tests/casemgmt/url_probe.py)"
        )
    missing = send(client, method, build_path(route, {p: missing_value(route, p) for p in route.params}), hidden)
    if response.status_code != missing.status_code:
        return f"status {response.status_code}, but {missing.status_code} for a record that does not exist"
    if response.status_code in {403, 404} and comparable_page(response.content) != comparable_page(missing.content):
        return "the refusal differs from the one for a record that does not exist"
    return None


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_persona_reaches_township_a(hidden: Hidden, persona: str) -> None:
    client = client_for(persona_user(hidden, persona))
    problems: list[str] = []

    def check_response(what: str, response: Any) -> None:
        if response.status_code >= 500:
            problems.append(f"{what}: status {response.status_code}")
        if found := leaked(without_echo(response_text(response), hidden), hidden.identities):
            problems.append(f"{what}: shows the hidden {', '.join(found)}")

    counts_at_start = row_counts()
    for route in ordered(routes()):
        if not_probed(route):
            continue
        entitled = persona in ENTITLED.get(route.name, (set(), ""))[0]
        for values in fills_for(route, hidden):
            path = build_path(route, values)
            path = path if route.params else f"{path}?{urlencode(probe_query(hidden))}"
            for method in ("get",) if entitled else ("get", "post"):
                what = f"{persona} {method.upper()} {route.label} as {path}"
                before = row_counts() if method == "post" else {}
                response = send(client, method, path, hidden)
                check_response(what, response)
                if before and (writes := changed(before, row_counts())):
                    problems.append(f"{what}: wrote {writes}")
                if route.params and not entitled:
                    if problem := refusal_problem(client, method, route, response, hidden):
                        problems.append(f"{what}: {problem}")
                elif response.status_code in {301, 302, 303} and not is_login_redirect(response):
                    target = response["Location"]
                    if urlsplit(target).netloc == "":
                        check_response(f"{what}, redirected to {target}", client.get(target))
    if writes := changed(counts_at_start, row_counts()):
        problems.append(f"{persona}'s GETs wrote {writes}")
    assert not problems, "\n".join(problems)


# --- the entitled: every page that shows a patient is logged -----------------------------------------------------


def shown_patients(response: Any, hidden: Hidden) -> list[Patient]:
    """The hidden patients whose identity the response shows, in clear or masked (张*三, 3205**********123X)."""
    text = response_text(response)
    return [
        patient
        for patient in (hidden.patient, hidden.second)
        if any(
            value in text
            for value in (
                patient.name,
                patient.national_id,
                patient.phone,
                mask_name(patient.name),
                mask_national_id(patient.national_id),
            )
        )
    ]


ENTITLED_PERSONAS = {"doctor_a": "the patient's doctor", "police_c": "on the case team", "county_d": "county staff"}


@pytest.mark.parametrize("persona", list(ENTITLED_PERSONAS))
def test_every_page_showing_a_patient_leaves_an_audit_event(hidden: Hidden, persona: str) -> None:
    """The patient's own doctor, a member of the patient's case team and the county's staff (masked) open every
    page (GET) and submit every form empty (POST: the page re-shown after bad input); each response that shows a
    patient's identity, in clear or masked, must have written an audit event naming that patient. Each request
    is rolled back, so none changes the next."""
    user = getattr(hidden.world, persona)
    client = client_for(user)
    problems: list[str] = []
    shown_somewhere: set[str] = set()
    for route in ordered(routes()):
        if not_probed(route) or route.name in LAST:
            continue
        for values in fills_for(route, hidden):
            path = build_path(route, values)
            if not route.params:
                path = f"{path}?{urlencode(probe_query(hidden))}"
            for method in ("get", "post"):
                with transaction.atomic():
                    last = AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0
                    response = client.get(path) if method == "get" else client.post(path, {})
                    for patient in shown_patients(response, hidden):
                        shown_somewhere.add(route.name)
                        logged = AuditSubject.objects.filter(event_id__gt=last, patient_uuid=patient.uuid)
                        if not logged.exists():
                            problems.append(
                                f"{persona} {method.upper()} {route.label} as {path}: status "
                                f"{response.status_code} shows {patient.name}'s identity without an audit event"
                            )
                    transaction.set_rollback(True)
    # The probe reaches the pages it should (a control: the fills name records this persona sees).
    expected = {"registry:patient_detail"}
    if persona != "county_d":
        expected.add("followup:case_detail")
    if persona == "doctor_a":
        expected |= {"registry:patient_edit", "registry:status_change", "followup:followup_detail"}
    assert expected <= shown_somewhere, expected - shown_somewhere
    assert not problems, "\n".join(problems)
