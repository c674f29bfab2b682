"""The machine API's work list (/api/v1/worklist): a doctor's overdue, due-soon, unstable and not-reached patients
and those under close follow-up after an emergency, for a doctor holding an API token (``casemgmt.api``).

The same query as the work list page (``followup.visits.queries.work_list``: the doctor's own areas among
``visible_patients`` (the one rule)), the identity as the page shows it to the doctor (name and phone in clear), each
section up to ``WORK_LIST_LIMIT`` rows; ``area`` narrows it to a township or village of the doctor's (404 for an area
outside them, as for a missing one). Each response is audited like the page, with the patients it lists.
"""

from __future__ import annotations

import datetime as dt

from django.http import JsonResponse
from django.utils import timezone

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import ApiToken, Role, User
from casemgmt.api import schema
from casemgmt.api.areas import reachable_area
from casemgmt.api.auth import audit_detail, token_endpoint
from casemgmt.areas import codes as area_codes
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from followup import codes
from followup.emergencies.services import CloseFollowRow, close_follow_rows
from followup.visits import queries
from registry.access.visibility import visible_patients

SECTIONS = ("overdue", "due_soon", "unstable", "not_reached")


def _label(classification: int | None) -> str | None:
    label = dict(codes.Classification.choices).get(classification) if classification is not None else None
    return str(label) if label is not None else None


def _item(item: queries.WorkItem) -> dict[str, object]:
    patient = item.patient
    classification = item.classification
    return {
        "uuid": str(patient.uuid),
        "name": patient.name,
        "phone": patient.phone,
        "village": {"code": patient.village.code, "name": patient.village.name},
        "next_due": item.next_due.isoformat() if item.next_due else None,
        "overdue_days": item.overdue_days,
        "risk_level": item.risk_level,
        "classification": classification,
        "classification_label": _label(classification),
        "not_reached": item.not_reached,
    }


def _close_follow_rows(user: User, today: dt.date, within: str) -> list[CloseFollowRow]:
    """The page's close follow-up rows (after an emergency), narrowed to *within* when an area is asked."""
    rows = close_follow_rows(user, today)
    if not within or not rows:
        return rows
    inside = set(
        visible_patients(user)
        .filter(uuid__in=[row.patient_uuid for row in rows], village__code__startswith=within)
        .values_list("uuid", flat=True)
    )
    return [row for row in rows if row.patient_uuid in inside]


def _close_follow(row: CloseFollowRow) -> dict[str, object]:
    return {
        "uuid": str(row.patient_uuid),
        "name": row.name,
        "village": row.village,
        "since": row.since.isoformat(),
        "visit_by": row.visit_by.isoformat() if row.visit_by else None,
        "overdue": row.overdue,
    }


@token_endpoint(Role.DOCTOR)
def worklist(request: AuthenticatedHttpRequest, token: ApiToken) -> JsonResponse:
    user = request.user
    today = timezone.localdate()
    area_text = request.GET.get("area")
    area = reachable_area(user, area_text) if area_text is not None else None
    within = area_codes.significant_prefix(area.code) if area else ""
    work = queries.work_list(user, today, within=within)
    sections = {name: [_item(item) for item in getattr(work, name)] for name in SECTIONS}
    close_follow = [_close_follow(row) for row in _close_follow_rows(user, today, within)]
    shown = [entry["uuid"] for items in (*sections.values(), close_follow) for entry in items]
    record_event(
        actor=user,
        action=Action.LIST,
        patient_uuids=[str(uuid) for uuid in shown],
        detail=audit_detail(token, page="worklist", area=area.code if area else ""),
    )
    body = {
        "date": today.isoformat(),
        "area": {"code": area.code, "name": area.name, "level": area.level} if area else None,
        "totals": {name: int(work.totals.get(name, 0)) for name in (*SECTIONS, "without_schedule")},
        "limit": queries.WORK_LIST_LIMIT,
        **sections,
        "close_follow": close_follow,
    }
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


# --- OpenAPI (casemgmt.api.schema) -----------------------------------------------------------------------------

WORK_ITEM: schema.JSONObject = {
    "type": "object",
    "required": [
        "uuid", "name", "phone", "village", "next_due", "overdue_days", "risk_level", "classification",
        "classification_label", "not_reached",
    ],
    "properties": {
        "uuid": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "phone": {"type": "string"},
        "village": {
            "type": "object",
            "required": ["code", "name"],
            "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
            "additionalProperties": False,
        },
        "next_due": schema.nullable({"type": "string", "format": "date"}),
        "overdue_days": {"type": "integer", "minimum": 0},
        "risk_level": schema.nullable({"type": "integer", "minimum": 0, "maximum": 5}),
        "classification": schema.nullable({"type": "integer", "enum": list(codes.Classification.values)}),
        "classification_label": schema.nullable({"type": "string"}),
        "not_reached": {"type": "integer", "minimum": 0},
    },
    "additionalProperties": False,
}  # fmt: skip
COUNT = {"type": "integer", "minimum": 0}

schema.register(
    "/worklist",
    {
        "get": schema.operation(
            "医生的随访任务（逾期、7天内到期、不稳定、连续未访到）；仅精防医生",
            [
                schema.query_parameter(
                    "area",
                    "仅列出该乡镇或村（须在医生的辖区内）：区划代码或其有效前缀",
                    {"type": "string"},
                    "320508001",
                )
            ],
            schema.ref("WorkList"),
            errors=("400", "401", "403", "404", "429"),
        )
    },
    {
        "WorkItem": WORK_ITEM,
        "CloseFollowItem": {
            "type": "object",
            "required": ["uuid", "name", "village", "since", "visit_by", "overdue"],
            "properties": {
                "uuid": {"type": "string", "format": "uuid"},
                "name": {"type": "string"},
                "village": {"type": "string"},
                "since": {"type": "string", "format": "date"},
                "visit_by": schema.nullable({"type": "string", "format": "date"}),
                "overdue": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
        "WorkList": {
            "type": "object",
            "required": ["date", "area", "totals", "limit", *SECTIONS, "close_follow"],
            "properties": {
                "date": {"type": "string", "format": "date"},
                "area": schema.nullable(schema.ref("AreaRef")),
                "totals": {
                    "type": "object",
                    "required": [*SECTIONS, "without_schedule"],
                    "properties": {name: COUNT for name in (*SECTIONS, "without_schedule")},
                    "additionalProperties": False,
                },
                "limit": COUNT,
                **{name: {"type": "array", "items": schema.ref("WorkItem")} for name in SECTIONS},
                "close_follow": {"type": "array", "items": schema.ref("CloseFollowItem")},
            },
            "additionalProperties": False,
        },
    },
)
