"""The national side: a signed batch checked and stored, idempotently (issue 17 §5).

A document replaces the stored one of its (area, period, options) only when its figures differ and it was
computed later: a batch sent twice changes nothing, and an older batch arriving late (a retry) cannot overwrite a
newer one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from federation.envelope import BatchError, Document, digest, options_key, parse_batch
from federation.models import FederatedDocument
from metrics.indicators.options import default_options


@dataclass
class Received:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def store_batch(body: bytes, province: str) -> Received:
    """Check and store a batch whose signature by *province* was verified; BatchError if refused."""
    period_key, options, documents = parse_batch(body, province)
    if options != default_options().as_dict():
        raise BatchError(_("统计口径与国家平台不一致，请按国家口径重新计算后上报。"))
    key = options_key(options)
    result = Received()
    with transaction.atomic():
        stored = {
            doc.area_code: doc
            for doc in FederatedDocument.objects.select_for_update().filter(
                area_code__in=[d["area"]["code"] for d in documents], period_key=period_key, options_key=key
            )
        }
        for document in documents:
            _store(
                document,
                stored.get(document["area"]["code"]),
                province=province,
                period_key=period_key,
                key=key,
                result=result,
            )
    return result


def _store(
    document: Document,
    existing: FederatedDocument | None,
    *,
    province: str,
    period_key: str,
    key: str,
    result: Received,
) -> None:
    content = digest(document)
    computed_at = dt.datetime.fromisoformat(document["computed_at"])
    if existing is None:
        FederatedDocument.objects.create(
            province=province,
            area_code=document["area"]["code"],
            level=document["area"]["level"],
            period_key=period_key,
            options_key=key,
            document=document,
            digest=content,
            computed_at=computed_at,
        )
        result.created += 1
    elif existing.digest == content:
        result.unchanged += 1
    elif computed_at <= existing.computed_at:
        result.stale += 1
    else:
        existing.document, existing.digest, existing.computed_at = document, content, computed_at
        existing.level = document["area"]["level"]
        existing.save(update_fields=["document", "digest", "computed_at", "level", "received_at"])
        result.updated += 1
