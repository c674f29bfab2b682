"""The refs a stored record answers to in a registry workbook: the ref it was imported with, and its UUID — the
ref an export gives a record entered on the web (``followup.workbook.export_rows``). Loading an export back into
the database it came from therefore finds every record it holds, and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import Model, Q, QuerySet


def stored_refs(records: QuerySet[Model], owner: str) -> set[tuple[object, str]]:
    """``(owner, ref)`` of every record, once under its imported ref (if any) and once under its UUID."""
    found: set[tuple[object, str]] = set()
    for owner_value, source_ref, record_uuid in records.values_list(owner, "source_ref", "uuid"):
        if source_ref:
            found.add((owner_value, source_ref))
        found.add((owner_value, str(record_uuid)))
    return found


def answers_to(ref: str, source_ref: str | None, record_uuid: uuid.UUID) -> bool:
    return ref in (source_ref, str(record_uuid))


def matching(refs: Iterable[str]) -> Q:
    """Records whose imported ref or UUID is one of *refs*."""
    wanted = set(refs)
    uuids = []
    for ref in wanted:
        try:
            uuids.append(uuid.UUID(ref))
        except ValueError:
            continue
    return Q(source_ref__in=wanted) | Q(uuid__in=uuids)
