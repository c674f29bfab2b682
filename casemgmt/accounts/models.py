"""Staff accounts, their role, and their memberships in areas.

The role decides what a user may do; memberships decide where. Patient visibility itself is decided in one
place only: ``registry.models.PatientQuerySet.visible_to``.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from casemgmt.areas.models import Area


class Role(models.TextChoices):
    DOCTOR = "doctor", _("精防医生")
    AREA_STAFF = "area_staff", _("县/市/省精防管理人员")
    CASE_MEMBER = "case_member", _("个案管理团队成员")
    ADMIN = "admin", _("系统管理员")


class User(AbstractUser):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    # Set when an administrator issues a temporary password; every page but the password change refuses
    # the account until it has chosen its own (casemgmt.accounts.enforce.ForcePasswordChangeMiddleware).
    must_change_password = models.BooleanField(_("下次登录须修改密码"), default=False)

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_doctor(self) -> bool:
        return self.role == Role.DOCTOR

    @property
    def is_area_staff(self) -> bool:
        return self.role == Role.AREA_STAFF

    @property
    def is_case_member(self) -> bool:
        return self.role == Role.CASE_MEMBER

    @property
    def is_system_admin(self) -> bool:
        return self.role == Role.ADMIN

    def jurisdiction_prefixes(self) -> list[str]:
        """Code prefixes of the areas this user's memberships cover (cached per instance)."""
        cached: list[str] | None = getattr(self, "_prefix_cache", None)
        if cached is None:
            if self.role not in (Role.DOCTOR, Role.AREA_STAFF) or not self.is_active:
                cached = []
            else:
                cached = [m.area.prefix for m in self.memberships.select_related("area")]
            self._prefix_cache = cached
        return cached


class AreaMembership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="memberships")
    since = models.DateField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "area"], name="one_membership_per_user_area")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.area_id}"


class ChangeKind(models.TextChoices):
    CREATE = "create", _("新建账号")
    UPDATE = "update", _("修改角色或辖区")
    REACTIVATE = "reactivate", _("启用账号")
    PASSWORD = "password", _("重置密码")


class ChangeState(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


class AccountChangeRequest(models.Model):
    """An account change that gives access (a new account, a role, an added area, reactivation, a new
    password) as requested by one person; it takes effect only when a second, authorised person approves it
    (``casemgmt.accounts.manage.approvals``). A new account is made at approval (``account`` is empty until
    then); the proposed areas are stored as codes and checked against the role's rules again at approval."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("变更类型"), max_length=20, choices=ChangeKind.choices)
    state = models.CharField(_("状态"), max_length=20, choices=ChangeState.choices, default=ChangeState.PENDING)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    account = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="change_requests")
    username = models.CharField(_("用户名"), max_length=150)
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, blank=True)
    area_codes = models.JSONField(_("辖区"), default=list, blank=True)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=200, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(state="pending", account__isnull=False),
                name="one_pending_change_per_account",
            ),
            models.UniqueConstraint(
                Lower("username"),
                condition=models.Q(state="pending", kind="create"),
                name="one_pending_creation_per_username",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.username} ({self.state})"


class ApiToken(models.Model):
    """A bearer token of the machine API (``casemgmt.api``), held by one account and acting with its visibility.

    Only a SHA-256 digest of the token is stored; the token itself is shown once, when it is created. ``prefix``
    (the token's public start) finds the row; the digest is compared in constant time.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("用途"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("有效期至"))
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix} ({self.name})"
