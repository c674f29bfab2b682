"""The machine API's report endpoints (/api/v1/indicators, /api/v1/patients): the exchange.md §2 indicator document
and the masked patients behind a figure, for area staff holding an API token (``casemgmt.api``).

Each runs the checks of its web page (``metrics.reports.views``): the query parsed by ``parse_query`` (400 with the
same Chinese message), the area within the account's jurisdiction (``may_view_area``; 404 otherwise, as for a
missing area), the members narrowed to ``visible_patients`` (the one rule) and masked like the page; each response is
audited like the page, marked with the token's prefix.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import ApiToken, Role, User
from casemgmt.api import schema
from casemgmt.api.areas import is_missing
from casemgmt.api.auth import audit_detail, token_endpoint
from casemgmt.api.errors import ApiError
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from metrics.indicators.definitions import INDICATOR_NAMES
from metrics.indicators.options import SETTINGS, export_suppression
from metrics.indicators.suppression import suppress_document
from metrics.reports.access import may_view_area
from metrics.reports.engine import compute
from metrics.reports.forms import QueryError, ReportQuery, parse_query
from metrics.reports.patient_lists import SETS, member_ids, page_patients, visible_members
from metrics.reports.source import report_source, sourced
from registry.access.disclosure import list_row
from registry.access.visibility import sees_masked_identity
from registry.codes import Status

MAX_PAGE = 10**6


def _query(request: AuthenticatedHttpRequest) -> ReportQuery:
    """The report query of the request, or ApiError: 400 for bad parameters, 404 outside the account's areas."""
    user: User = request.user
    prefixes = user.jurisdiction_prefixes()
    default = prefixes[0] if prefixes else ""
    try:
        query = parse_query(request.GET, default)
    except QueryError as error:
        if is_missing((request.GET.get("area") or default).strip()):
            raise ApiError(404, _("无权查看该地区。")) from None  # a missing area answers as one outside the scope
        raise ApiError(400, str(error)) from None
    if not may_view_area(user, query.area.code):
        raise ApiError(404, _("无权查看该地区。"))
    return query


@token_endpoint(Role.AREA_STAFF)
def indicators(request: AuthenticatedHttpRequest, token: ApiToken) -> JsonResponse:
    """The indicator document of an area and period (the same as /reports/api/indicators)."""
    query = _query(request)
    record_event(
        actor=request.user,
        action=Action.LIST,
        detail=audit_detail(
            token,
            report="indicators_api",
            area=query.area.code,
            period=query.period.key,
            options=query.options.as_dict(),
        ),
    )
    with report_source() as source:
        document = compute(query.area, query.period, query.options, children=query.children).document()
    document = suppress_document(document, export_suppression(request.user, query.area.level))
    return sourced(JsonResponse(document, json_dumps_params={"ensure_ascii": False}), source)


def _page_number(text: str | None) -> int:
    if text is None or text == "":
        return 1
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise ApiError(400, _("页码无效。"))
    return int(text)


@token_endpoint(Role.AREA_STAFF)
def patients(request: AuthenticatedHttpRequest, token: ApiToken) -> JsonResponse:
    """One page of the masked patients of one set (e.g. ``registered``) behind an area's figure."""
    query = _query(request)
    set_name = request.GET.get("set", "")
    if set_name not in SETS:
        raise ApiError(400, _("患者集合无效。"))
    number = _page_number(request.GET.get("page"))
    masked, today = sees_masked_identity(request.user), timezone.localdate()
    with report_source() as source:
        members = visible_members(request.user, member_ids(query.area, query.period, query.options, set_name))
        paginator = Paginator(members.visible, settings.PATIENT_LIST_PAGE_SIZE)
        if number > paginator.num_pages:
            raise ApiError(400, _("页码超出范围。"))
        ids = list(paginator.page(number).object_list)
        rows = [list_row(patient, masked=masked, today=today) for patient in page_patients(request.user, ids)]
    record_event(
        actor=request.user,
        action=Action.LIST,
        patient_uuids=[row.uuid for row in rows],
        detail=audit_detail(
            token,
            report="indicator_patients",
            area=query.area.code,
            period=query.period.key,
            set=set_name,
            options=query.options.as_dict(),
            page=number,
            results=paginator.count,
        ),
    )
    body = {
        "area": {"code": query.area.code, "name": query.area.name, "level": query.area.level},
        "period": {
            "key": query.period.key,
            "start": query.period.start.isoformat(),
            "end": query.period.end.isoformat(),
        },
        "options": query.options.as_dict(),
        "set": set_name,
        "counted": members.counted,
        "hidden": members.counted - len(members.visible),
        "total": paginator.count,
        "page": number,
        "pages": paginator.num_pages,
        "page_size": paginator.per_page,
        "masked": masked,
        "patients": [
            {
                "uuid": str(row.uuid),
                "name": row.name,
                "national_id": row.national_id,
                "sex": row.sex,
                "age": row.age,
                "village": row.village,
                "disorder": row.disorder,
                "status": row.status,
                "status_label": row.status_label,
                "registered_on": row.registered_on.isoformat(),
            }
            for row in rows
        ],
    }
    return sourced(JsonResponse(body, json_dumps_params={"ensure_ascii": False}), source)


# --- OpenAPI (casemgmt.api.schema) -----------------------------------------------------------------------------

COUNT = schema.nullable({"type": "integer", "minimum": 0})  # null: suppressed (a small count leaving the county)
COUNT_NAMES = (
    "registered", "managed", "at_home", "new_registrations", "deaths", "overdue_at_cutoff", "open_cases",
    "emergencies", "minor_trouble", "trouble", "disaster", "lost",
)  # fmt: skip


def _query_parameters() -> list[schema.JSONObject]:
    parameters = [
        schema.query_parameter(
            "area", "区划代码（12位）或其2、4、6、9位有效前缀；缺省为账号的第一个辖区", {"type": "string"}, "320508"
        ),
        schema.query_parameter(
            "period", "统计期：2025、2025-Q3、2025-07、2025-YTD-08；缺省为今年", {"type": "string"}, "2025"
        ),
    ]
    parameters += [
        schema.query_parameter(name, f"口径选项（缺省为 {setting}）", {"type": "string", "enum": list(allowed)})
        for name, (setting, allowed) in SETTINGS.items()
    ]
    return parameters


RATIO: schema.JSONObject = {
    "type": "object",
    "required": ["numerator", "denominator", "value"],
    "properties": {
        "numerator": COUNT,
        "denominator": COUNT,
        "value": schema.nullable({"type": "number"}),
        "suppressed": {"type": "boolean"},
    },
    "additionalProperties": False,
}
COUNTS: schema.JSONObject = {
    "type": "object",
    "required": [*COUNT_NAMES, "deaths_by_cause"],
    "properties": {
        **{name: COUNT for name in COUNT_NAMES},
        "deaths_by_cause": {"type": "object", "additionalProperties": COUNT},
    },
    "additionalProperties": False,
}
INDICATORS: schema.JSONObject = {
    "type": "object",
    "required": list(INDICATOR_NAMES),
    "properties": {name: schema.ref("Ratio") for name in INDICATOR_NAMES},
    "additionalProperties": False,
}
AREA_PART = {
    "area": schema.ref("AreaRef"),
    "indicators": schema.ref("Indicators"),
    "counts": schema.ref("Counts"),
    "missing_population": {"type": "array", "items": {"type": "string"}},
    "suppressed_counts": {"type": "array", "items": {"type": "string"}},
}
OPTIONS: schema.JSONObject = {
    "type": "object",
    "required": list(SETTINGS),
    "properties": {name: {"type": "string", "enum": list(allowed)} for name, (_s, allowed) in SETTINGS.items()},
    "additionalProperties": False,
}
DATE = {"type": "string", "format": "date"}

schema.register(
    "/indicators",
    {
        "get": schema.operation(
            "指标文档（与 /reports/api/indicators 及 exchange.md §2 相同）；仅县、市、省级精防管理人员",
            [
                *_query_parameters(),
                schema.query_parameter(
                    "children", "1、true 或 on：附每个下级地区（其他值：不附）", {"type": "string"}, "1"
                ),
            ],
            schema.ref("IndicatorDocument"),
            errors=("400", "401", "403", "404", "429"),
        )
    },
    {
        "Ratio": RATIO,
        "Counts": COUNTS,
        "Indicators": INDICATORS,
        "Options": OPTIONS,
        "AreaIndicators": {
            "type": "object",
            "required": ["area", "indicators", "counts"],
            "properties": AREA_PART,
            "additionalProperties": False,
        },
        "IndicatorDocument": {
            "type": "object",
            "required": ["area", "period", "rule_set", "options", "computed_at", "indicators", "counts", "children"],
            "properties": {
                **AREA_PART,
                "period": {
                    "type": "object",
                    "required": ["start", "end"],
                    "properties": {"start": DATE, "end": DATE, "cutoff": DATE},
                    "additionalProperties": False,
                },
                "rule_set": {"type": "string"},
                "options": schema.ref("Options"),
                "computed_at": {"type": "string", "format": "date-time"},
                "children": {"type": "array", "items": schema.ref("AreaIndicators")},
                "suppression": {
                    "type": "object",
                    "required": ["below", "min_level"],
                    "properties": {"below": {"type": "integer"}, "min_level": {"type": "integer"}},
                    "additionalProperties": False,
                },
            },
            "additionalProperties": False,
        },
    },
)

schema.register(
    "/patients",
    {
        "get": schema.operation(
            "某地区某指标集合的患者（脱敏），分页；仅县、市、省级精防管理人员",
            [
                *_query_parameters(),
                {
                    "name": "set",
                    "in": "query",
                    "required": True,
                    "description": "患者集合",
                    "schema": {"type": "string", "enum": list(SETS)},
                    "example": "registered",
                },
                schema.query_parameter("page", "页码（从1开始）", {"type": "string", "pattern": "^[0-9]+$"}, "1"),
            ],
            schema.ref("PatientPage"),
            errors=("400", "401", "403", "404", "429"),
        )
    },
    {
        "MaskedPatient": {
            "type": "object",
            "required": [
                "uuid",
                "name",
                "national_id",
                "sex",
                "age",
                "village",
                "disorder",
                "status",
                "status_label",
                "registered_on",
            ],
            "properties": {
                "uuid": {"type": "string", "format": "uuid"},
                "name": {"type": "string"},
                "national_id": {"type": "string"},
                "sex": {"type": "string"},
                "age": {"type": "integer"},
                "village": {"type": "string"},
                "disorder": {"type": "string"},
                "status": {"type": "string", "enum": list(Status.values)},
                "status_label": {"type": "string"},
                "registered_on": DATE,
            },
            "additionalProperties": False,
        },
        "PatientPage": {
            "type": "object",
            "required": [
                "area",
                "period",
                "options",
                "set",
                "counted",
                "hidden",
                "total",
                "page",
                "pages",
                "page_size",
                "masked",
                "patients",
            ],
            "properties": {
                "area": schema.ref("AreaRef"),
                "period": {
                    "type": "object",
                    "required": ["key", "start", "end"],
                    "properties": {"key": {"type": "string"}, "start": DATE, "end": DATE},
                    "additionalProperties": False,
                },
                "options": schema.ref("Options"),
                "set": {"type": "string", "enum": list(SETS)},
                "counted": {"type": "integer", "minimum": 0},
                "hidden": {"type": "integer", "minimum": 0},
                "total": {"type": "integer", "minimum": 0},
                "page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
                "page_size": {"type": "integer", "minimum": 1},
                "masked": {"type": "boolean"},
                "patients": {"type": "array", "items": schema.ref("MaskedPatient")},
            },
            "additionalProperties": False,
        },
    },
)
