"""``token_endpoint``: bearer-token authentication, role check, per-token rate limit and JSON errors for one view.

The rate limit counts requests per token in fixed windows of ``API_RATE_WINDOW_SECONDS`` in the shared cache (Redis
in production), falling back to process memory while the cache is down (``casemgmt.sharedcache``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import ApiToken
from casemgmt.api.errors import ApiError, json_error, unauthorized
from casemgmt.api.tokens import authenticate
from casemgmt.sharedcache import increment, local_fallback, resilient

ApiView = Callable[[AuthenticatedHttpRequest, ApiToken], JsonResponse]
Endpoint = Callable[[HttpRequest], JsonResponse]
METHODS = ("GET", "HEAD")

_fallback = local_fallback("api-rate-fallback")


def spend(token: ApiToken) -> int:
    """Count one request of *token* in the current window; the window's count so far."""
    window = int(settings.API_RATE_WINDOW_SECONDS)
    key = f"api-rate:{token.prefix}:{int(time.time()) // window}"

    def count(store: BaseCache) -> int:
        return increment(store, key, timeout=window)

    return resilient(count, shared=cache, fallback=_fallback, what="API rate limit")


def admit(request: HttpRequest, roles: tuple[str, ...]) -> ApiToken | JsonResponse:
    """The request's token (``request.user`` set to its account), or the refusal: 405, 401, 429 or 403."""
    if request.method not in METHODS:
        return json_error(405, _("仅支持 GET 请求。"), {"Allow": ", ".join(METHODS)})
    token = authenticate(request.headers.get("Authorization", ""))
    if token is None:
        return unauthorized()
    request.user = token.user
    if spend(token) > int(settings.API_RATE_LIMIT):
        return json_error(429, _("请求过于频繁，请稍后再试。"), {"Retry-After": str(settings.API_RATE_WINDOW_SECONDS)})
    if token.user.role not in roles:
        return json_error(403, _("该账号的角色无权使用此接口。"))
    return token


def token_endpoint(*roles: str) -> Callable[[ApiView], Endpoint]:
    """Wrap an API view taking ``(request, token)``: only *roles* may call it; ``request.user`` is the token's."""

    def decorate(view: ApiView) -> Endpoint:
        @functools.wraps(view)
        def endpoint(request: HttpRequest) -> JsonResponse:
            token = admit(request, roles)
            if isinstance(token, JsonResponse):
                return token
            try:
                response = view(cast(AuthenticatedHttpRequest, request), token)
            except ApiError as error:
                return json_error(error.status, error.message)
            except Http404:
                return json_error(404, _("未找到，或无权查看。"))
            response["Cache-Control"] = "no-store"
            return response

        return csrf_exempt(endpoint)

    return decorate


def audit_detail(token: ApiToken, **detail: object) -> dict[str, object]:
    """An API response's audit detail: what was served, and through which token (its public prefix)."""
    return {**detail, "via": "api", "token": token.prefix}
