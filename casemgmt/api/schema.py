"""The OpenAPI 3 document of /api/v1/, served at /api/v1/openapi.json.

Hand-written and kept exact to the responses (schemathesis checks every response against it in
tests/casemgmt/test_api_schemathesis.py). The shared parts are here; each endpoint module registers its own path
item next to its view (``register``), so the document cannot name a view that does not exist and the layers stay
as they are (casemgmt knows nothing of metrics or followup).
"""

from __future__ import annotations

import copy

from django.http import HttpRequest

JSONObject = dict[str, object]

_paths: dict[str, JSONObject] = {}
_schemas: dict[str, JSONObject] = {}


def register(path: str, item: JSONObject, schemas: dict[str, JSONObject] | None = None) -> None:
    """Add the path item of one endpoint (``/indicators``, relative to /api/v1) and the schemas it refers to."""
    _paths[path] = item
    _schemas.update(schemas or {})


def ref(name: str) -> JSONObject:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: JSONObject) -> JSONObject:
    return {"anyOf": [schema, {"type": "null"}]}


def json_content(schema: JSONObject) -> JSONObject:
    return {"application/json": {"schema": schema}}


def error(description: str, headers: JSONObject | None = None) -> JSONObject:
    response: JSONObject = {"description": description, "content": json_content(ref("Error"))}
    if headers:
        response["headers"] = headers
    return response


ERRORS: dict[str, JSONObject] = {
    "400": error("参数无效（中文说明）"),
    "401": error(
        "缺少或无效的令牌（吊销、过期、账号停用）",
        {"WWW-Authenticate": {"required": True, "schema": {"type": "string", "pattern": "^Bearer"}}},
    ),
    "403": error("账号的角色无权使用此接口"),
    "404": error("地区不存在或不在账号的辖区内"),
    "429": error(
        "超过每个令牌的请求频率上限",
        {"Retry-After": {"required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}}},
    ),
}


def query_parameter(name: str, description: str, schema: JSONObject, example: str | None = None) -> JSONObject:
    parameter: JSONObject = {"name": name, "in": "query", "required": False, "description": description}
    parameter["schema"] = schema
    if example is not None:
        parameter["example"] = example
    return parameter


def operation(summary: str, parameters: list[JSONObject], ok: JSONObject, *, errors: tuple[str, ...]) -> JSONObject:
    return {
        "summary": summary,
        "parameters": parameters,
        "security": [{"bearer": []}],
        "responses": {"200": {"description": "OK", "content": json_content(ok)}, **{c: ERRORS[c] for c in errors}},
    }


BASE_SCHEMAS: dict[str, JSONObject] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
        "additionalProperties": False,
    },
    "AreaRef": {
        "type": "object",
        "required": ["code", "name", "level"],
        "properties": {
            "code": {"type": "string", "pattern": "^[0-9]{12}$"},
            "name": {"type": "string"},
            "level": {"type": "integer", "minimum": 1, "maximum": 5},
        },
        "additionalProperties": False,
    },
}


def openapi_document(request: HttpRequest | None = None) -> JSONObject:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "精防 API",
            "version": "1",
            "description": "令牌认证的只读接口；所见范围与令牌所属账号相同，每次返回患者数据都记入访问日志。",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": copy.deepcopy(dict(sorted(_paths.items()))),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": copy.deepcopy({**BASE_SCHEMAS, **_schemas}),
        },
    }
