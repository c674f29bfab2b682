"""Probes of an ID number against the whole registry: their audit and their daily limit (issue 14 §2).

A person is registered once (domain.md §4.1), so registration, an identity edit and the workbook import must
look an ID number up everywhere and refuse one held elsewhere, saying only "registered in another jurisdiction".
That answer still tells whether someone is a registered patient, so:

- every lookup that hits a patient is audited against THAT patient (``Action.IDENTITY_PROBE``; the channel, the
  outcome and, for an import, the job's UUID in the detail; never the number or a name): the patient's own
  doctors see who probed in the record's access log (an indexed lookup through ``AuditSubject``);
- hits outside the account's view are limited per account and calendar day (``IDENTITY_PROBE_LIMIT_PER_DAY``),
  counted in the shared cache with a process-local fallback while it is down (``casemgmt.sharedcache``). Once the
  allowance is spent, every number the account cannot match inside its own view is refused, registered or not:
  a refusal that only registered numbers got would answer the very question.

A search by ID number shows the user's visible set only; it is audited here too (who typed this patient's
number), but not limited: it answers nothing about other jurisdictions.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from enum import StrEnum
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casemgmt.accounts.models import User
from casemgmt.audit.models import Action, AuditEvent
from casemgmt.audit.services import record_event
from casemgmt.sharedcache import increment, local_fallback, resilient
from registry.models import Patient, national_id_index

T = TypeVar("T")
AUDIT_CHUNK = 5000  # subjects per event: a province-sized import writes a few events, not one per row
KEY_SECONDS = 2 * 24 * 3600  # a day's counter outlives its day (the key names the day)


class Channel(StrEnum):
    IMPORT = "import"
    REGISTRATION = "registration"
    EDIT = "edit"
    SEARCH = "search"


class Outcome(StrEnum):
    MATCHED = "matched"  # inside the user's view: they may see the record anyway
    ELSEWHERE = "registered_elsewhere"  # outside: answered "registered in another jurisdiction", nothing more
    OVER_LIMIT = "refused_over_limit"  # outside, allowance spent: not answered
    NOT_SHOWN = "not_shown"  # a search: outside the view, so not in the results


CHANNEL_LABELS: dict[str, Promise] = {
    Channel.IMPORT: gettext_lazy("登记表导入"),
    Channel.REGISTRATION: gettext_lazy("新建档案"),
    Channel.EDIT: gettext_lazy("修改身份信息"),
    Channel.SEARCH: gettext_lazy("按身份证号检索"),
}


def record_probes(
    *,
    actor: User,
    patient_uuids: Sequence[uuid.UUID | str],
    channel: Channel,
    outcome: Outcome,
    detail: Mapping[str, object] | None = None,
) -> None:
    """Audit probes that hit these patients: one event per ``AUDIT_CHUNK`` patients, each patient a subject."""
    for start in range(0, len(patient_uuids), AUDIT_CHUNK):
        chunk = patient_uuids[start : start + AUDIT_CHUNK]
        record_event(
            actor=actor,
            action=Action.IDENTITY_PROBE,
            patient_uuids=chunk,
            detail={"channel": str(channel), "outcome": str(outcome), "count": len(chunk), **(detail or {})},
        )


def channel_label(event: AuditEvent) -> str:
    """How a probe came about, for the access log ("" for any other event)."""
    if event.action != Action.IDENTITY_PROBE or not isinstance(event.detail, dict):
        return ""
    label = CHANNEL_LABELS.get(str(event.detail.get("channel", "")))
    return str(label) if label is not None else ""


def audit_search(*, actor: User, number: str, shown: Collection[uuid.UUID]) -> None:
    """A search by ID number: audited against the patient holding it, wherever they are. What the user was
    shown (``shown``, from their visible set only: ``registry.patients.search``) decides the outcome; this
    returns nothing and shows nothing."""
    found = Patient.objects.filter(national_id_index=national_id_index(number)).values_list("uuid", flat=True).first()
    if found is None:
        return
    outcome = Outcome.MATCHED if found in shown else Outcome.NOT_SHOWN
    record_probes(actor=actor, patient_uuids=[found], channel=Channel.SEARCH, outcome=outcome)


# --- the daily allowance -------------------------------------------------------------------------------------

_fallback = local_fallback("identity-probe-fallback")


def _resilient(operation: Callable[[BaseCache], T]) -> T:
    return resilient(operation, shared=cache, fallback=_fallback, what="identity probe limit")


def probe_limit() -> int:
    return max(0, int(settings.IDENTITY_PROBE_LIMIT_PER_DAY))


def _key(user: User) -> str:
    # The account's UUID, not its id or name: nothing personal in the key, and never reused.
    return f"identity-probe:{user.uuid}:{timezone.localdate().isoformat()}"


def probes_left(user: User) -> int:
    spent = _resilient(lambda store: store.get(_key(user), 0))
    return max(0, probe_limit() - int(spent or 0))


def take(user: User, hits: int) -> bool:
    """May the account be told about ``hits`` numbers registered outside its view? Spends them when it may.

    False when today's allowance is spent already — with ``hits == 0`` too, so that a number registered nowhere
    is then refused like one registered elsewhere — or when it does not cover all of them (it is then spent
    completely: the account learns at most that there were more than it had left, once a day).
    """
    if probes_left(user) <= 0:
        return False
    if hits <= 0:
        return True
    after = _resilient(functools.partial(increment, key=_key(user), timeout=KEY_SECONDS, by=hits))
    return after <= probe_limit()


def limit_message() -> str:
    return _(
        "身份证号查重次数已达今日上限（每个账号每天最多核对%(limit)d个在其他辖区登记的身份证号），"
        "本次未核对、未写入；请明天再试，或联系上级精防机构。"
    ) % {"limit": probe_limit()}
