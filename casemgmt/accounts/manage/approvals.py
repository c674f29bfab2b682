"""Separation of duties (issue 14 §3): an account change that gives access waits for a second person.

What needs approval: a new account; a role change; an added area; reactivating an account; a new temporary
password (whoever knows it can sign in as the account). What takes effect at once: changes that only remove
access (deactivating, removing an area) and a new display name.

Who approves is the setting ``ACCOUNT_APPROVER_RULE``:

- ``"county_officer"`` (the default): a doctor (township) account is approved by area staff whose memberships
  cover all of the account's areas (the proposed ones, or the current ones for a reactivation or a password);
  every other account by a second administrator.
- ``"second_admin"``: every change is approved by a second administrator.

Never by the requester, and never by the account the change is about. Only the approver sees a temporary
password: a new account is made, and a reset password generated, at approval — the requester cannot sign in as
the account it asked for. Every request, approval and rejection is in the append-only audit (usernames and area
codes; never a password).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core import checks
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.manage import services
from casemgmt.accounts.management.provisioning import ProvisioningError
from casemgmt.accounts.models import AccountChangeRequest, ChangeKind, ChangeState, Role, User
from casemgmt.areas.models import Area
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event

COUNTY_OFFICER = "county_officer"
SECOND_ADMIN = "second_admin"
RULES = (COUNTY_OFFICER, SECOND_ADMIN)


class ChangeRefused(Exception):
    """A request that cannot be made now; the message is for the administrator, in Chinese."""


@dataclass(frozen=True)
class Approval:
    account: User
    password: str | None  # a temporary password, shown once to the approver (a new account, a reset)


def approver_rule() -> str:
    return str(getattr(settings, "ACCOUNT_APPROVER_RULE", COUNTY_OFFICER))


def approver_rule_problems() -> list[str]:
    rule = getattr(settings, "ACCOUNT_APPROVER_RULE", COUNTY_OFFICER)
    if rule not in RULES:
        return [f"ACCOUNT_APPROVER_RULE must be one of {', '.join(RULES)}, not {rule!r}"]
    return []


@checks.register(checks.Tags.security)
def check_approver_rule(**kwargs: object) -> list[checks.CheckMessage]:
    return [checks.Error(problem, id="accounts.E001") for problem in approver_rule_problems()]


# --- what needs approval ---------------------------------------------------------------------------------------


def gives_access(account: User, role: str, areas: Sequence[Area]) -> bool:
    """Whether bringing *account* to this role and these areas adds anything: another role, or a new area."""
    return role != account.role or bool({area.code for area in areas} - set(services.area_codes(account)))


def pending_for(account: User) -> AccountChangeRequest | None:
    return AccountChangeRequest.objects.filter(account=account, state=ChangeState.PENDING).first()


def username_pending(username: str) -> bool:
    return AccountChangeRequest.objects.filter(
        kind=ChangeKind.CREATE, state=ChangeState.PENDING, username__iexact=username
    ).exists()


def _request_detail(change: AccountChangeRequest) -> dict[str, object]:
    detail: dict[str, object] = {"request": str(change.uuid), "kind": change.kind, "username": change.username}
    if change.kind in (ChangeKind.CREATE, ChangeKind.UPDATE):
        detail |= {"role": change.role, "areas": list(change.area_codes)}
    return detail


def request_change(
    *,
    actor: User,
    kind: str,
    account: User | None = None,
    username: str = "",
    role: str = "",
    areas: Sequence[Area] = (),
    display_name: str = "",
) -> AccountChangeRequest:
    """Record a change for a second person to approve (nothing about the account changes yet).

    Raises ChangeRefused for a change about the actor's own account or when one is already waiting.
    """
    if account is not None and account.pk == actor.pk:
        raise ChangeRefused(_("不能为自己的账号申请变更，请由另一位管理员处理。"))
    change = AccountChangeRequest(
        kind=kind,
        requested_by=actor,
        account=account,
        username=account.username if account is not None else username,
        role=role if kind in (ChangeKind.CREATE, ChangeKind.UPDATE) else "",
        area_codes=[area.code for area in areas],
        display_name=display_name,
    )
    try:
        with transaction.atomic():
            change.save()
            detail = _request_detail(change)
            if account is not None:
                detail["before"] = {
                    "role": account.role,
                    "areas": services.area_codes(account),
                    "active": account.is_active,
                }
            record_event(actor=actor, action=Action.ACCOUNT_CHANGE_REQUEST, detail=detail)
    except IntegrityError:  # one waiting request per account (or per new username), also under a race
        if account is None:
            raise ChangeRefused(_("该用户名已被使用。")) from None
        raise ChangeRefused(_("该账号已有待审批的变更，请等审批后再修改。")) from None
    return change


# --- who approves ----------------------------------------------------------------------------------------------


def _subject_role_and_areas(change: AccountChangeRequest) -> tuple[str, list[str]]:
    if change.kind in (ChangeKind.CREATE, ChangeKind.UPDATE) or change.account is None:
        return change.role, [str(code) for code in change.area_codes]
    return change.account.role, services.area_codes(change.account)


def is_township_change(change: AccountChangeRequest) -> bool:
    """Under the default rule, changes to doctor accounts go to the county officer."""
    role, codes = _subject_role_and_areas(change)
    return approver_rule() == COUNTY_OFFICER and role == Role.DOCTOR and bool(codes)


def may_decide(user: User, change: AccountChangeRequest) -> bool:
    if not (user.is_active and change.state == ChangeState.PENDING):
        return False
    if user.pk in (change.requested_by_id, change.account_id):
        return False  # nobody approves their own request, nor a change to their own account
    if change.account is not None and change.account.is_superuser and not user.is_superuser:
        return False  # a superuser's account is managed by superusers only (``access.manageable_accounts``)
    if is_township_change(change):
        _role, codes = _subject_role_and_areas(change)
        prefixes = user.jurisdiction_prefixes()
        return user.is_area_staff and all(any(code.startswith(p) for p in prefixes) for code in codes)
    return user.is_system_admin


def may_approve_anything(user: User) -> bool:
    """Who has an approvals page at all: active administrators and area staff."""
    return bool(user.is_active and (user.is_system_admin or user.is_area_staff))


def _pending() -> QuerySet[AccountChangeRequest]:
    return AccountChangeRequest.objects.filter(state=ChangeState.PENDING).select_related("requested_by", "account")


def decidable_requests(user: User) -> list[AccountChangeRequest]:
    """The waiting requests this user may decide (a short list; each is checked with ``may_decide``)."""
    if not may_approve_anything(user):
        return []
    candidates = _pending().exclude(requested_by=user).exclude(account=user)
    return [change for change in candidates if may_decide(user, change)]


def get_change_request_for_user(
    request: AuthenticatedHttpRequest, request_uuid: uuid.UUID | str, *, write: bool = False
) -> AccountChangeRequest:
    """The request, if the user may decide it (404 otherwise: missing, decided, the user's own and not theirs
    alike). Deciding is the only thing done with a request here, so ``write`` adds no rule."""
    change = _pending().filter(uuid=request_uuid).first()
    if change is None or not may_decide(request.user, change):
        raise Http404
    return change


def areas_of(change: AccountChangeRequest) -> list[Area]:
    codes = [str(code) for code in change.area_codes]
    return list(Area.objects.filter(code__in=codes).order_by("code"))


# --- deciding --------------------------------------------------------------------------------------------------


def _locked(actor: User, change: AccountChangeRequest) -> AccountChangeRequest:
    locked = AccountChangeRequest.objects.select_for_update(of=("self",)).select_related("account").get(pk=change.pk)
    if not may_decide(actor, locked):
        raise Http404  # decided meanwhile
    return locked


def _proposed_areas(change: AccountChangeRequest) -> list[Area]:
    areas = areas_of(change)
    if len(areas) != len(change.area_codes):
        raise ProvisioningError([_("所选辖区不存在，请重新选择。")])
    return areas


@transaction.atomic
def approve(*, actor: User, change: AccountChangeRequest) -> Approval:
    """Apply the change as the approver; raises ProvisioningError (writing nothing) when the role's rules or a
    username taken meanwhile refuse it, so the approver sees why and may reject it."""
    locked = _locked(actor, change)
    password: str | None = None
    if locked.kind == ChangeKind.CREATE:
        if User.objects.filter(username__iexact=locked.username).exists():
            raise ProvisioningError([_("该用户名已被使用。")])
        account, password = services.create_account(
            actor=actor,
            username=locked.username,
            role=locked.role,
            areas=_proposed_areas(locked),
            display_name=locked.display_name,
        )
    elif locked.account is None:  # pragma: no cover - only a creation has no account
        raise Http404
    elif locked.kind == ChangeKind.UPDATE:
        account = services.update_account(
            actor=actor,
            user=locked.account,
            role=locked.role,
            areas=_proposed_areas(locked),
            display_name=locked.display_name or locked.account.display_name,
        )
    elif locked.kind == ChangeKind.REACTIVATE:
        account = services.set_active(actor=actor, user=locked.account, active=True)
    else:
        account = locked.account
        password = services.reset_password(actor=actor, user=account)
    _decide(actor, locked, ChangeState.APPROVED, account=account)
    record_event(actor=actor, action=Action.ACCOUNT_CHANGE_APPROVE, detail=_decision_detail(locked))
    return Approval(account=account, password=password)


@transaction.atomic
def reject(*, actor: User, change: AccountChangeRequest, note: str) -> AccountChangeRequest:
    locked = _locked(actor, change)
    _decide(actor, locked, ChangeState.REJECTED, note=note)
    record_event(actor=actor, action=Action.ACCOUNT_CHANGE_REJECT, detail=_decision_detail(locked))
    return locked


def _decide(
    actor: User, change: AccountChangeRequest, state: str, *, account: User | None = None, note: str = ""
) -> None:
    change.state, change.decided_by, change.decided_at = state, actor, timezone.now()
    change.decision_note = note.strip()
    if account is not None:
        change.account = account
    change.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "account"])


def _decision_detail(change: AccountChangeRequest) -> dict[str, object]:
    return _request_detail(change) | {"requested_by": change.requested_by.username}
