"""The machinery of the URL probe (tests/casemgmt/test_url_probe.py): every URL pattern the project defines,
read from the resolver, and the objects its path parameters are filled with.

Adding a URL needs at most one line here: a new path parameter name gets a line in ``FILLS`` (parameter name →
the hidden objects' values); a page on which some persona is legitimately entitled to content that is not a
patient's (account administration, the PDF verification page) gets a line in ``ENTITLED``. A pattern whose
parameter has no line fails the probe with a message that names the line to add.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter, UUIDConverter
from django.utils import timezone

from casemgmt.accounts.manage import approvals
from casemgmt.accounts.models import ChangeKind, Role, User
from casemgmt.areas.models import Area, AreaLevel
from followup.cases import services as case_services
from followup.emergencies import services as emergency_services
from followup.models import Case, CaseMember, CaseRole, Emergency, FollowUp, WorkbookExport, WorkbookImport
from followup.rehab import services as rehab_services
from metrics.models import PdfExport
from registry import codes
from registry.breakglass import services as breakglass_services
from registry.models import ClosureRequest, Patient, Transfer
from registry.patients import services as registry_services
from registry.transfers import services as transfer_services
from tests.base import TODAY, World, edit_patient, make_area, make_patient, make_user
from tests.followup.base import RISPERIDONE, reached_data, record

YESTERDAY = TODAY - dt.timedelta(days=1)


@dataclass(frozen=True)
class Route:
    """One URL pattern, as the resolver holds it: its full regex or route text and its parameters."""

    name: str  # "namespace:name", or "" for an unnamed pattern
    route: str  # the pattern text, e.g. "patients/<uuid:patient_uuid>/edit/"
    converters: dict[str, Any]
    pattern: URLPattern

    @property
    def params(self) -> list[str]:
        return list(self.converters)

    @property
    def label(self) -> str:
        return f"{self.name or '(unnamed)'} [{self.route}]"


def routes() -> list[Route]:
    """Every URL pattern of the project, recursing into includes, from ``django.urls.get_resolver()``."""
    found: list[Route] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str, converters: dict[str, Any]) -> None:
        for entry in resolver.url_patterns:
            text = prefix + str(entry.pattern)
            own = {**converters, **getattr(entry.pattern, "converters", {})}
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry, text, inner, own)
            else:
                regex_groups = re.findall(r"\(\?P<(\w+)>", text)
                for group in regex_groups:
                    own.setdefault(group, None)
                name = f"{namespace}{entry.name}" if entry.name else ""
                found.append(Route(name=name, route=text, converters=own, pattern=entry))

    walk(get_resolver(), "", "", {})
    return found


def build_path(route: Route, values: dict[str, object]) -> str:
    """The path for ``route`` with its parameters replaced by ``values`` (built from the route text, so unnamed
    patterns and several patterns sharing a name are each probed)."""
    path = route.route
    for param, value in values.items():
        path = re.sub(rf"<(?:\w+:)?{param}>", str(value), path)
    if "<" in path or "(?P" in path or "^" in path or "$" in path:
        raise ValueError(
            f"cannot build a path for {route.label}: fill its parameters in FILLS, or add its start to NOT_PROBED "
            "in tests/casemgmt/url_probe.py with the reason it needs no probe"
        )
    return "/" + path


def missing_value(route: Route, param: str) -> object:
    """A value of the parameter's type that names no object."""
    converter = route.converters.get(param)
    if isinstance(converter, UUIDConverter):
        return uuid.uuid4()
    if isinstance(converter, IntConverter):
        return 987654321
    return "zz0000000000"


# --- the hidden world ------------------------------------------------------------------------------------------


@dataclass
class Hidden:
    """Patients of township A of county X and everything recorded about them, which the probing personas must
    never see; and the personas."""

    world: World
    patient: Patient  # patient_a: follow-ups, a case, a transfer, an emergency, rehab, a health check
    second: Patient  # a second patient of township A, with a pending closure request
    followup: FollowUp
    case: Case
    member: CaseMember
    external_member: CaseMember
    closure: ClosureRequest
    transfer: Transfer
    emergency: Emergency
    unregistered: Emergency  # an emergency of an unregistered person in township A
    rehab_uuid: uuid.UUID
    job: WorkbookImport
    export: PdfExport
    registry_export: WorkbookExport  # county X's staff exported the county's registry
    village_c1: Area
    other_county_staff: User
    other_team_member: User
    approval_uuid: uuid.UUID  # a second administrator's pending change to doctor_a's account (county X decides)
    break_glass_uuid: uuid.UUID  # county Y's doctor broke the glass on the patient (county X reviews)
    identities: dict[str, str] = field(default_factory=dict)  # label -> a string that must never appear


# Distinctive identity values: strings that cannot appear in a page by chance.
HIDDEN_NAME = "闵探秘"
SECOND_NAME = "柏隐名"
UNREGISTERED_NAME = "隗未登"
GUARDIAN_NAME = "卞护人"
EXTERNAL_MEMBER_NAME = "郜网格"
HIDDEN_ADDRESS = "探针巷七十七号"
SECOND_ADDRESS = "隐名里八十八号"


def build_hidden(world: World, tmp_path: Path) -> Hidden:
    """The hidden records; ``tmp_path`` holds the finished PDF export's file."""
    province_other = world.city  # county Y lies in the same city as county X
    county_y = make_area("320509000000", "丙区", AreaLevel.COUNTY, province_other)
    township_y = make_area("320509001000", "丙街道", AreaLevel.TOWNSHIP, county_y)
    make_area("320509001001", "丙一社区", AreaLevel.VILLAGE, township_y)
    township_c = make_area("320508003000", "丁街道", AreaLevel.TOWNSHIP, world.county)
    village_c1 = make_area("320508003001", "丁一社区", AreaLevel.VILLAGE, township_c)
    other_county_staff = make_user("county_y", Role.AREA_STAFF, county_y)
    other_team_member = make_user("grid_b", Role.CASE_MEMBER, world.county)  # affiliated: no visibility

    patient = world.patient_a
    patient = edit_patient(
        world.doctor_a,
        patient,
        name=HIDDEN_NAME,
        address=HIDDEN_ADDRESS,
        guardian_name=GUARDIAN_NAME,
        guardian_relation="父亲",
        guardian_phone="13900001111",
    )
    second = make_patient(world.doctor_a, world.village_a2, name=SECOND_NAME, address=SECOND_ADDRESS)

    # A stable follow-up with medication, then an unstable one that opens the case.
    record(patient, world.doctor_a, reached_data(TODAY - dt.timedelta(days=40)), [RISPERIDONE])
    unstable = reached_data(YESTERDAY, risk_level=3, classification=1, next_date=YESTERDAY + dt.timedelta(days=14))
    followup = record(patient, world.doctor_a, unstable, [RISPERIDONE])
    case = case_services.opened_by_followup(followup)
    assert case is not None
    member = case_services.add_member(
        actor=world.doctor_a, case=case, role=CaseRole.POLICE, user=world.police_c, today=TODAY
    )
    external = case_services.add_member(
        actor=world.doctor_a,
        case=case,
        role=CaseRole.GRID,
        person_name=EXTERNAL_MEMBER_NAME,
        person_phone="13700002222",
        today=TODAY,
    )
    # patient_b (township B) has a case too; grid_b is on its team, and on no team of township A.
    followup_b = record(world.patient_b, world.doctor_b, unstable)
    case_b = case_services.opened_by_followup(followup_b)
    assert case_b is not None
    case_services.add_member(actor=world.doctor_b, case=case_b, role=CaseRole.GRID, user=other_team_member, today=TODAY)

    transfer = transfer_services.request_transfer(
        actor=world.doctor_a, patient=patient, to_village=village_c1, reason="随子女居住", today=TODAY
    )
    closure = registry_services.request_closure(
        actor=world.doctor_a, patient=second, effective_date=TODAY, reason=codes.ClosureReason.DUPLICATE
    )
    now = timezone.now()
    values = {"occurred_at": now - dt.timedelta(hours=2), "place": "家中"}
    emergency = emergency_services.record_emergency(
        actor=world.doctor_a, values=values, handler=None, complete=False, now=now, patient=patient
    )
    unregistered = emergency_services.record_emergency(
        actor=world.doctor_a,
        values=values,
        handler=None,
        complete=False,
        now=now,
        area=world.village_a1,
        person_name=UNREGISTERED_NAME,
    )
    rehab = rehab_services.record_rehab_participation(
        actor=world.doctor_a,
        patient=patient,
        data={"provider_type": "clubhouse", "start_date": TODAY - dt.timedelta(days=10)},
    )
    rehab_services.record_health_check(
        actor=world.doctor_a, patient=patient, data={"date": TODAY - dt.timedelta(days=5), "consent": True}
    )
    job = WorkbookImport.objects.create(requested_by=world.county_d, file_name="甲街道.xlsx")
    export = PdfExport.objects.create(
        requested_by=world.county_d,
        area_code=world.county.code,
        period=str(TODAY.year),
        status=PdfExport.Status.DONE,
        code="abcdef123456",
        file_path=str(tmp_path / "report.pdf"),
    )
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    registry_export = WorkbookExport.objects.create(
        requested_by=world.county_d,
        area_code=world.county.code,
        status=WorkbookExport.Status.DONE,
        patients=2,
        file_path=str(tmp_path / "registry.xlsx"),
        finished_at=timezone.now(),
    )
    (tmp_path / "registry.xlsx").write_bytes(b"PK\x05\x06" + bytes(18))
    second_admin = make_user("admin_f", Role.ADMIN)
    approval = approvals.request_change(
        actor=second_admin,
        kind=ChangeKind.UPDATE,
        account=world.doctor_a,
        role=Role.DOCTOR,
        areas=[world.township_a, township_c],
    )
    doctor_y = make_user("doctor_y", Role.DOCTOR, township_y)
    glass = breakglass_services.probe(
        actor=doctor_y, national_id=patient.national_id, reason="急诊就诊需要查看既往病史"
    )
    assert glass.access is not None
    patient.refresh_from_db()
    second.refresh_from_db()
    identities = {
        "name": patient.name,
        "national_id": patient.national_id,
        "phone": patient.phone,
        "address": patient.address,
        "guardian name": GUARDIAN_NAME,
        "second patient's name": second.name,
        "second patient's national_id": second.national_id,
        "second patient's phone": second.phone,
        "second patient's address": second.address,
        "unregistered person's name": UNREGISTERED_NAME,
    }
    assert all(identities.values())
    return Hidden(
        world=world,
        patient=patient,
        second=second,
        followup=followup,
        case=case,
        member=member,
        external_member=external,
        closure=closure,
        transfer=transfer,
        emergency=emergency,
        unregistered=unregistered,
        rehab_uuid=rehab.uuid,
        job=job,
        export=export,
        registry_export=registry_export,
        village_c1=village_c1,
        other_county_staff=other_county_staff,
        other_team_member=other_team_member,
        approval_uuid=approval.uuid,
        break_glass_uuid=glass.access.uuid,
        identities=identities,
    )


# --- how each path parameter is filled -------------------------------------------------------------------------

Fill = Callable[[Hidden], list[object]]

# Path parameter name -> the hidden objects' values it is filled with (every combination is probed). A key
# "namespace:name.param" fills one pattern's parameter only, where a name means something else there.
FILLS: dict[str, Fill] = {
    "patient_uuid": lambda h: [h.patient.uuid, h.second.uuid],
    "followup_uuid": lambda h: [h.followup.uuid],
    "case_uuid": lambda h: [h.case.uuid],
    "member_uuid": lambda h: [h.member.uuid, h.external_member.uuid],
    "closure_uuid": lambda h: [h.closure.uuid],
    "transfer_uuid": lambda h: [h.transfer.uuid],
    "emergency_uuid": lambda h: [h.emergency.uuid, h.unregistered.uuid],
    "rehab_uuid": lambda h: [h.rehab_uuid],
    "job_uuid": lambda h: [h.job.uuid],
    "export_id": lambda h: [h.export.pk],
    "export_uuid": lambda h: [h.registry_export.uuid],
    "account_uuid": lambda h: [h.world.doctor_a.uuid],
    "request_uuid": lambda h: [h.approval_uuid],
    "access_uuid": lambda h: [h.break_glass_uuid],
    "metrics:pdf_verify.code": lambda h: [h.export.code],
    "areas:population_edit.code": lambda h: [h.world.village_a1.code],
    "areas:population_edit.year": lambda h: [TODAY.year],
}

# Patterns not probed (by the start of their path), each with the reason.
NOT_PROBED: dict[str, str] = {
    "admin/": "Django admin: its object pages take the admin's own ids (object_id, app_label, id, url) of the "
    "models registered there (areas, populations, users), none of which holds patient data; who reaches the "
    "admin at all is tested in tests/casemgmt/test_admin.py. Its pages without parameters are probed.",
    "api/": "the machine API's only parameterised patterns are its JSON 404s for a path naming no endpoint (they name "
    "no record); the endpoints (no parameters) are probed, and tokens, visibility and audit are tested in "
    "tests/casemgmt/test_api.py.",
}

# Pages on which a persona is entitled to content that is not patient data; the probe then only checks that
# the GET shows no hidden identity, and does not POST (it would be a legitimate write).
ENTITLED: dict[str, tuple[set[str], str]] = {
    "manage:account_edit": ({"admin"}, "administrators manage every account"),
    "manage:account_active": ({"admin"}, "administrators manage every account"),
    "manage:account_reset_password": ({"admin"}, "administrators manage every account"),
    "areas:population_edit": ({"admin"}, "administrators keep every area's population"),
    "locks:lift": ({"admin"}, "administrators lift any account's login lock"),
    "locks:reset_second_factor": ({"admin"}, "administrators reset any account's authenticator"),
    "metrics:pdf_verify": (
        {"doctor_b", "team_member", "county_y", "admin"},
        "anyone holding a printed report verifies it by its code; the page shows area, period and date only",
    ),
}


class UnknownParameter(Exception):
    pass


def fills_for(route: Route, hidden: Hidden) -> Iterator[dict[str, object]]:
    """Every combination of hidden values for the route's parameters."""
    choices: list[list[object]] = []
    for param in route.params:
        fill = FILLS.get(f"{route.name}.{param}") or FILLS.get(param)
        if fill is None:
            raise UnknownParameter(
                f"URL pattern {route.label} has the path parameter {param!r}, which the probe does not know how "
                f"to fill: add a line to FILLS in tests/casemgmt/url_probe.py mapping {param!r} (or "
                f"'{route.name}.{param}') to the hidden object(s) it names."
            )
        choices.append(fill(hidden))
    for combination in itertools.product(*choices):
        yield dict(zip(route.params, combination, strict=True))


def not_probed(route: Route) -> str | None:
    for prefix, reason in NOT_PROBED.items():
        if route.route.startswith(prefix) and route.params:
            return reason
    return None


# --- what must not change --------------------------------------------------------------------------------------

# Tables a refused request may still write, each with the reason.
MAY_CHANGE = {
    "audit.auditevent": "the refusal and the pages shown are logged",
    "audit.auditsubject": "the refusal and the pages shown are logged",
    "sessions.session": "the test client's session",
}


def watched_models() -> list[type[Model]]:
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label not in {"contenttypes", "auth", "admin"} and model._meta.label_lower not in MAY_CHANGE
    ]


def row_counts() -> dict[str, int]:
    return {model._meta.label_lower: model._default_manager.count() for model in watched_models()}


def changed(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {name: (before[name], after[name]) for name in before if before[name] != after[name]}


# --- looking for identity in a response ------------------------------------------------------------------------


def response_text(response: Any) -> str:
    """Body, headers and cookies of a response as one text (streamed bodies included)."""
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    parts = [body.decode("utf-8", "replace")]
    parts += [f"{key}: {value}" for key, value in response.items()]
    parts += [f"cookie {name}={morsel.value}" for name, morsel in response.cookies.items()]
    return "\n".join(parts)


def leaked(text: str, identities: dict[str, str]) -> list[str]:
    return [label for label, value in identities.items() if value and value in text]


def client_for(user: User | None) -> Client:
    client = Client()  # CSRF checks are off, so a refused POST is refused by the view, not by the middleware
    if user is not None:
        client.force_login(user)
    return client


def post_payload(hidden: Hidden) -> dict[str, object]:
    """A POST that looks like a real submission to most forms, aimed at the hidden patient."""
    return {
        "q": hidden.patient.name,
        "reason": "探查",
        "purpose": "探查",
        "note": "探查",
        "date": YESTERDAY.isoformat(),
        "end_date": TODAY.isoformat(),
        "effective_date": TODAY.isoformat(),
        "to_status": "LOST",
        "lost_reason": "1",
        "decision": "confirm",
        "confirm": "on",
        "to_village": hidden.village_c1.code,
        "village": hidden.world.village_a1.code,
        "area": hidden.world.county.code,
        "patient": str(hidden.patient.uuid),
        "findings": "探查",
        "mode": "3",
    }


def probe_query(hidden: Hidden) -> dict[str, str]:
    """Query parameters a list page might take, all naming the hidden jurisdiction."""
    world = hidden.world
    return {
        "area": world.county.code,
        "parent": world.township_a.code,
        "village": world.village_a1.code,
        "period": str(TODAY.year),
        "set": "registered",
        "year": str(TODAY.year),
    }
