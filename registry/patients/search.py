"""The one-box search of the patient list, over encrypted identity (design.md §3).

Identity columns hold ciphertext, so the database can only match keyed blind indexes:

- 18 characters shaped like an ID number: the full-length, unique ``national_id_index``.
- digits (at least four): a phone number or its ending, through the truncated ``phone_tail_index`` of the
  last four digits; the candidates are decrypted and compared.
- anything else is a name: exact matches through the truncated ``name_index`` (candidates decrypted and
  compared), plus substring matches found by decrypting the names of the visible, filtered set — at most
  ``PATIENT_NAME_SCAN_LIMIT`` rows, newest first; the page says when the scan stopped there.

Every search starts from a queryset that is already the user's visible set; nothing here widens it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from casemgmt.crypto import cipher as crypto
from casemgmt.crypto.cipher import normalize_for_index
from registry.models import (
    PHONE_TAIL_DIGITS,
    Patient,
    PatientQuerySet,
    name_index,
    national_id_index,
    phone_tail_index,
)
from registry.patients import idnumber

if TYPE_CHECKING:
    from django.contrib.sessions.backends.base import SessionBase

DEFAULT_NAME_SCAN_LIMIT = 20_000
ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
DIGITS = re.compile(r"^\d+$")
LIST_ORDER = ("-registered_on", "-id")


class SearchKind(StrEnum):
    NONE = "none"
    NATIONAL_ID = "national_id"
    PHONE = "phone"
    NAME = "name"
    TOO_SHORT = "too_short"


def name_scan_limit() -> int:
    return int(getattr(settings, "PATIENT_NAME_SCAN_LIMIT", DEFAULT_NAME_SCAN_LIMIT))


def classify(raw: str) -> tuple[SearchKind, str]:
    """What the text in the box is, and its normalized form."""
    term = normalize_for_index(raw)
    if not term:
        return SearchKind.NONE, ""
    if ID_SHAPE.match(term):
        return SearchKind.NATIONAL_ID, term
    digits = term.replace("-", "").replace("+", "")
    if DIGITS.match(digits):
        if len(digits) < PHONE_TAIL_DIGITS:
            return SearchKind.TOO_SHORT, digits
        return SearchKind.PHONE, digits
    return SearchKind.NAME, term


@dataclass
class SearchResult:
    """Either a queryset of matches (paged in SQL) or an ordered list of primary keys (paged in Python)."""

    kind: SearchKind
    queryset: QuerySet[Patient] | None = None
    pks: list[int] = field(default_factory=list)
    capped: bool = False
    notice: str = ""


def search(patients: PatientQuerySet, raw: str) -> SearchResult:
    kind, term = classify(raw)
    if kind == SearchKind.NONE:
        return SearchResult(kind, queryset=patients)
    if kind == SearchKind.NATIONAL_ID:
        return _by_national_id(patients, term)
    if kind == SearchKind.PHONE:
        return _by_phone(patients, term)
    if kind == SearchKind.NAME:
        return _by_name(patients, term)
    return SearchResult(kind, queryset=patients.none(), notice=_("请输入完整的18位身份证号、手机号后4位或姓名。"))


def _by_national_id(patients: PatientQuerySet, number: str) -> SearchResult:
    notice = ""
    try:
        idnumber.validate(number)
    except idnumber.IdNumberError:
        notice = _("该身份证号校验不通过，请核对。")
    return SearchResult(
        SearchKind.NATIONAL_ID, queryset=patients.filter(national_id_index=national_id_index(number)), notice=notice
    )


def _by_phone(patients: PatientQuerySet, digits: str) -> SearchResult:
    limit = name_scan_limit()
    candidates = list(
        patients.filter(phone_tail_index=phone_tail_index(digits))
        .order_by(*LIST_ORDER)
        .only("pk", "uuid", "phone")[: limit + 1]
    )
    pks = [p.pk for p in candidates[:limit] if "".join(ch for ch in p.phone if ch.isdigit()).endswith(digits)]
    return SearchResult(SearchKind.PHONE, pks=pks, capped=len(candidates) > limit)


def _by_name(patients: PatientQuerySet, term: str) -> SearchResult:
    """Exact matches first (found wherever they are), then the substring matches of the bounded scan."""
    limit = name_scan_limit()
    exact = [
        p.pk
        for p in patients.filter(name_index=name_index(term)).order_by(*LIST_ORDER).only("pk", "uuid", "name")
        if normalize_for_index(p.name) == term
    ]
    scanned = patients.order_by(*LIST_ORDER).only("pk", "uuid", "name")[: limit + 1]
    partial: list[int] = []
    seen = set(exact)
    count = 0
    for patient in scanned.iterator(chunk_size=2000):
        count += 1
        if count > limit:
            break
        if patient.pk not in seen and term in normalize_for_index(patient.name):
            partial.append(patient.pk)
    return SearchResult(SearchKind.NAME, pks=exact + partial, capped=count > limit)


# --- keeping search terms out of URLs ------------------------------------------------------------------------
# A search term is identity (an ID number, a name, a phone). It is POSTed, kept in the session under a random
# token, and the list is then shown at ?s=<token>: URLs, browser history and access logs never hold the term.
# Sessions live in the database (and its backups), so the term is stored there encrypted like the identity
# columns, bound to its token; a token whose key has since been retired simply counts as expired.

SESSION_KEY = "registry_searches"
REMEMBERED_SEARCHES = 20
SEALED_TABLE = "django_session"  # associated data: where the token lives, and its search token as the row


def remember_search(session: SessionBase, term: str) -> str:
    searches: dict[str, str] = dict(session.get(SESSION_KEY, {}))
    token = secrets.token_urlsafe(9)
    searches[token] = crypto.encrypt(term, table=SEALED_TABLE, column=SESSION_KEY, row_uuid=token)
    session[SESSION_KEY] = dict(list(searches.items())[-REMEMBERED_SEARCHES:])
    return token


def recall_search(session: SessionBase, token: str | None) -> str | None:
    """The term behind *token*, or None when there is no token or it has expired with the session."""
    if not token:
        return None
    sealed = dict(session.get(SESSION_KEY, {})).get(token)
    if not isinstance(sealed, str):
        return None
    try:
        return crypto.decrypt(sealed, table=SEALED_TABLE, column=SESSION_KEY, row_uuid=token)
    except crypto.DecryptionError:
        return None
