"""The batch a province publishes, and its check on arrival (issue 17 §5).

A batch is one period's indicator documents (exchange.md §2, small counts suppressed) for every published area
of one province::

    {"format": "jingfang-federation/1", "province": "34", "period": "2025-Q3",
     "options": {...}, "published_at": "...", "documents": [ {document}, ... ]}

The receiver rebuilds every document from an allow-list of keys and types (``clean_document``): whatever else
a batch carries — by mistake or not — is dropped, so nothing but aggregates can reach the national database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from typing import NotRequired, TypedDict

from django.utils.translation import gettext as _

from metrics.indicators.definitions import INDICATOR_NAMES, Options
from metrics.reports.document import CountsJSON

FORMAT = "jingfang-federation/1"
AREA_CODE = re.compile(r"^\d{12}$")
PERIOD_KEY = re.compile(r"^\d{4}(-Q[1-4]|-\d{2}|-YTD-\d{2})?$")
NAME_MAX = 100
# The person counts of the document's "counts" (metrics.reports.document.CountsJSON), beside deaths by cause.
COUNT_KEYS = tuple(key for key in CountsJSON.__annotations__ if key != "deaths_by_cause")
OPTION_KEYS = tuple(option.name for option in dataclasses.fields(Options))
MAX_COUNT = 10**10


Counts = dict[str, int | dict[str, int | None] | None]  # COUNT_KEYS, and "deaths_by_cause" by cause code


class Figure(TypedDict):
    numerator: int | None
    denominator: int | None
    value: float | None
    suppressed: NotRequired[bool]


class AreaRef(TypedDict):
    code: str
    name: str
    level: int


class PeriodRef(TypedDict):
    start: str
    end: str
    cutoff: NotRequired[str]


class AreaPart(TypedDict):
    """One area's figures: a document's own, or one of its children."""

    area: AreaRef
    indicators: dict[str, Figure]
    counts: Counts
    missing_population: NotRequired[list[str]]
    population_year: NotRequired[int]
    suppressed_counts: NotRequired[list[str]]


class DocumentBase(AreaPart):
    period: PeriodRef
    rule_set: str
    options: Mapping[str, object]
    computed_at: str
    children: list[AreaPart]
    as_of: NotRequired[str]


class Document(DocumentBase):
    """A document as the national instance stores it (rebuilt by ``clean_document``)."""

    period_key: str
    suppression: NotRequired[dict[str, int | None]]


class BatchError(ValueError):
    """The batch is refused; the message (Chinese) is returned to the publishing province."""


def canonical(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def digest(document: Mapping[str, object]) -> str:
    """A document's content hash, leaving out when it was computed: the same figures give the same digest."""
    return hashlib.sha256(canonical({k: v for k, v in document.items() if k != "computed_at"})).hexdigest()


def options_key(options: Mapping[str, object]) -> str:
    return canonical({key: options.get(key) for key in OPTION_KEYS}).decode()


def _count(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise BatchError(_("%(where)s：计数无效。") % {"where": where})
    return value


def _text(value: object, where: str, limit: int = NAME_MAX) -> str:
    if not isinstance(value, str) or not value or len(value) > limit or any(ord(ch) < 32 for ch in value):
        raise BatchError(_("%(where)s：文本无效。") % {"where": where})
    return value


def _date(value: object, where: str) -> str:
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise BatchError(_("%(where)s：日期无效。") % {"where": where}) from None


def _figure(raw: object, where: str) -> Figure:
    if not isinstance(raw, dict):
        raise BatchError(_("%(where)s：指标格式无效。") % {"where": where})
    figure: Figure = {
        "numerator": _count(raw.get("numerator"), where),
        "denominator": _count(raw.get("denominator"), where),
        "value": None,
    }
    value = raw.get("value")
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1_000_000:
            raise BatchError(_("%(where)s：指标值无效。") % {"where": where})
        figure["value"] = float(value)
    if raw.get("suppressed") is True:
        figure["suppressed"] = True
    return figure


def _counts(raw: object, where: str) -> Counts:
    if not isinstance(raw, dict):
        raise BatchError(_("%(where)s：计数格式无效。") % {"where": where})
    counts: Counts = {key: _count(raw.get(key), f"{where}.{key}") for key in COUNT_KEYS}
    causes = raw.get("deaths_by_cause", {})
    if not isinstance(causes, dict) or not all(isinstance(k, str) and k.isdigit() and len(k) <= 2 for k in causes):
        raise BatchError(_("%(where)s：死亡原因计数无效。") % {"where": where})
    counts["deaths_by_cause"] = {key: _count(value, f"{where}.deaths_by_cause") for key, value in causes.items()}
    return counts


def clean_area(raw: object, province: str, where: str) -> AreaPart:
    """One area's part, rebuilt from the allow-list; its code must lie in *province*."""
    if not isinstance(raw, dict) or not isinstance(raw.get("area"), dict):
        raise BatchError(_("%(where)s：地区格式无效。") % {"where": where})
    area = raw["area"]
    code = area.get("code")
    if not isinstance(code, str) or not AREA_CODE.match(code) or not code.startswith(province):
        raise BatchError(_("%(where)s：区划代码不属于本省。") % {"where": where})
    level = area.get("level")
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
        raise BatchError(_("%(where)s：区划级别无效。") % {"where": where})
    indicators = raw.get("indicators")
    if not isinstance(indicators, dict) or set(indicators) != set(INDICATOR_NAMES):
        raise BatchError(_("%(where)s：指标不完整。") % {"where": where})
    body: AreaPart = {
        "area": {"code": code, "name": _text(area.get("name"), where), "level": level},
        "indicators": {name: _figure(indicators[name], f"{where}.{name}") for name in INDICATOR_NAMES},
        "counts": _counts(raw.get("counts"), where),
    }
    missing = raw.get("missing_population")
    if missing is not None:
        if not isinstance(missing, list) or not all(isinstance(c, str) and AREA_CODE.match(c) for c in missing):
            raise BatchError(_("%(where)s：缺少人口的地区列表无效。") % {"where": where})
        body["missing_population"] = list(missing)
    population_year = raw.get("population_year")
    if population_year is not None:
        if (
            isinstance(population_year, bool)
            or not isinstance(population_year, int)
            or not 1990 <= population_year <= 2200
        ):
            raise BatchError(_("%(where)s：人口年份无效。") % {"where": where})
        body["population_year"] = population_year
    hidden = raw.get("suppressed_counts")
    if hidden is not None:
        if not isinstance(hidden, list) or not all(isinstance(h, str) and len(h) <= 40 for h in hidden):
            raise BatchError(_("%(where)s：隐藏计数列表无效。") % {"where": where})
        body["suppressed_counts"] = list(hidden)
    return body


def clean_document(raw: object, *, province: str, period_key: str, options: Mapping[str, object]) -> Document:
    """A document of the batch, rebuilt from the allow-list (anything else is dropped)."""
    where = _("文档")
    if not isinstance(raw, dict):
        raise BatchError(_("%(where)s：格式无效。") % {"where": where})
    document = clean_area(raw, province, where)
    period = raw.get("period")
    if not isinstance(period, dict):
        raise BatchError(_("%(where)s：统计期无效。") % {"where": where})
    clean_period: PeriodRef = {"start": _date(period.get("start"), where), "end": _date(period.get("end"), where)}
    if "cutoff" in period:
        clean_period["cutoff"] = _date(period["cutoff"], where)
    children = raw.get("children", [])
    if not isinstance(children, list):
        raise BatchError(_("%(where)s：下级地区列表无效。") % {"where": where})
    level = document["area"]["level"]
    clean_children = [clean_area(child, province, f"{where}.children") for child in children]
    if any(child["area"]["level"] != level + 1 for child in clean_children):
        raise BatchError(_("%(where)s：下级地区级别不一致。") % {"where": where})
    computed_at = raw.get("computed_at")
    try:
        dt.datetime.fromisoformat(str(computed_at))
    except ValueError:
        raise BatchError(_("%(where)s：计算时间无效。") % {"where": where}) from None
    result: Document = {
        "area": document["area"],
        "period": clean_period,
        "period_key": period_key,
        "rule_set": _text(raw.get("rule_set"), where, 40),
        "options": {key: options.get(key) for key in OPTION_KEYS},
        "computed_at": str(computed_at),
        "indicators": document["indicators"],
        "counts": document["counts"],
        "children": clean_children,
    }
    if "missing_population" in document:
        result["missing_population"] = document["missing_population"]
    if "population_year" in document:
        result["population_year"] = document["population_year"]
    if "suppressed_counts" in document:
        result["suppressed_counts"] = document["suppressed_counts"]
    if "as_of" in raw:  # served from indicator state older than the cut-off (metrics.reports.engine)
        result["as_of"] = _date(raw["as_of"], where)
    suppression = raw.get("suppression")
    if isinstance(suppression, dict):
        result["suppression"] = {
            "below": _count(suppression.get("below"), where),
            "min_level": _count(suppression.get("min_level"), where),
        }
    return result


def parse_batch(body: bytes, province: str) -> tuple[str, dict[str, str], list[Document]]:
    """(period key, options, cleaned documents) of a signed body from *province*; BatchError if refused."""
    try:
        raw = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BatchError(_("数据不是有效的 JSON。")) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise BatchError(_("数据格式不是 %(format)s。") % {"format": FORMAT})
    if raw.get("province") != province:
        raise BatchError(_("数据中的省份与签名的省份不一致。"))
    period_key = raw.get("period")
    if not isinstance(period_key, str) or not PERIOD_KEY.match(period_key):
        raise BatchError(_("统计期无效。"))
    options = raw.get("options")
    if not isinstance(options, dict) or not all(isinstance(options.get(k), str) for k in OPTION_KEYS):
        raise BatchError(_("统计口径选项无效。"))
    documents = raw.get("documents")
    if not isinstance(documents, list):
        raise BatchError(_("文档列表无效。"))
    cleaned = [clean_document(doc, province=province, period_key=period_key, options=options) for doc in documents]
    codes = [doc["area"]["code"] for doc in cleaned]
    if len(codes) != len(set(codes)):
        raise BatchError(_("同一地区在一批数据中出现多次。"))
    return period_key, {key: options[key] for key in OPTION_KEYS}, cleaned
