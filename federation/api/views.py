"""The national instance's endpoints: the provinces' signed batches in, the federated reports out.

Both answer 404 on an instance that is not national (no ``FEDERATION_PROVINCE_KEYS``), like any unknown path.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import ApiToken, Role
from casemgmt.api.auth import audit_detail, token_endpoint
from casemgmt.api.errors import ApiError, json_error
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event
from federation import signing
from federation.envelope import BatchError, Document
from federation.national import COUNTRY_CODE, CountryDocument, country_document, stored_document
from federation.receive import store_batch
from metrics.indicators.options import default_options
from metrics.indicators.periods import PeriodError, parse_period


def _national() -> bool:
    return bool(settings.FEDERATION_PROVINCE_KEYS)


def _bounded_body(request: HttpRequest) -> bytes | None:
    """The request body, or None when it exceeds FEDERATION_MAX_BATCH_BYTES (declared or actual)."""
    limit = int(settings.FEDERATION_MAX_BATCH_BYTES)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    body = b"" if declared > limit else request.read(limit + 1)
    return None if declared > limit or len(body) > limit else body


@csrf_exempt
def receive_batch(request: HttpRequest) -> JsonResponse:
    """POST a signed batch (federation.envelope); 200 with the counts, or a JSON error in Chinese."""
    if not _national():
        return json_error(404, _("未找到。"))
    if request.method != "POST":
        return json_error(405, _("仅支持 POST 请求。"), {"Allow": "POST"})
    body = _bounded_body(request)
    if body is None:
        return json_error(413, _("上报数据过大。"))
    province = request.headers.get(signing.PROVINCE_HEADER, "")
    signature = request.headers.get(signing.SIGNATURE_HEADER, "")
    if not signing.verify(body, signature, province):
        return json_error(403, _("签名无效，或该省份未获授权。"))
    try:
        received = store_batch(body, province)
    except BatchError as exc:
        return json_error(400, str(exc))
    return JsonResponse(received.as_dict())


def _covers(user_prefixes: list[str], code: str) -> bool:
    return any(code.startswith(prefix) for prefix in user_prefixes)


@token_endpoint(Role.AREA_STAFF)
def indicators(request: AuthenticatedHttpRequest, token: ApiToken) -> JsonResponse:
    """``?area=all|CODE&period=KEY[&children=1]``: the federated document (the country's: the provinces' sum).

    The country's document needs an account whose areas cover every province in it.
    """
    if not _national():
        raise ApiError(404, _("未找到。"))
    try:
        period = parse_period(request.GET.get("period", ""))
    except PeriodError as exc:
        raise ApiError(400, str(exc)) from None
    area = (request.GET.get("area") or "").strip()
    prefixes = request.user.jurisdiction_prefixes()
    options = default_options()
    document: Document | CountryDocument | None
    if area in ("all", COUNTRY_CODE):
        document = country_document(period.key, options, name=_("全国"), children=request.GET.get("children") == "1")
        if document is not None and not all(_covers(prefixes, code) for code in document["provinces"]):
            document = None
    else:
        code = area.ljust(12, "0") if area.isdigit() and len(area) in (2, 4, 6, 9, 12) else ""
        document = stored_document(code, period.key, options) if code and _covers(prefixes, code) else None
        if document is not None and request.GET.get("children") != "1":
            document["children"] = []
    if document is None:
        raise ApiError(404, _("未找到该地区该统计期的上报数据，或无权查看。"))
    record_event(
        actor=request.user,
        action=Action.LIST,
        detail=audit_detail(token, report="federated_indicators", area=document["area"]["code"], period=period.key),
    )
    return JsonResponse(document, json_dumps_params={"ensure_ascii": False})
