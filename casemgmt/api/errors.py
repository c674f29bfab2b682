"""The API's answers when it refuses: a JSON body ``{"error": <Chinese message>}`` with the status, never HTML."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _


class ApiError(Exception):
    """Raised by an endpoint to refuse the request with *status* and a message for the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in (headers or {}).items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


def unauthorized() -> JsonResponse:
    return json_error(401, _("缺少或无效的API令牌。"), {"WWW-Authenticate": 'Bearer realm="api"'})


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """A path under /api/v1/ that names no endpoint."""
    return json_error(404, _("未找到。"))
