"""The append-only access and change log (domain.md §12).

An event records who, when, what action, on which patients (UUIDs only) and why. It never holds identity:
search terms, names and ID numbers are not written here. Rows cannot be updated or deleted through the ORM,
and on PostgreSQL a trigger refuses UPDATE and DELETE as well.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    LIST = "list", _("浏览列表")
    SEARCH = "search", _("检索")
    VIEW = "view", _("查看档案")
    OPEN_WITH_REASON = "open_with_reason", _("说明理由后查看")
    CREATE = "create", _("新建")
    UPDATE = "update", _("修改")
    STATUS_CHANGE = "status_change", _("状态变更")
    CLOSURE_REQUEST = "closure_request", _("申请注销")
    CLOSURE_DECISION = "closure_decision", _("注销审核")
    DUPLICATE_REFUSED = "duplicate_refused", _("重复建档被拒")
    EXPORT = "export", _("导出")
    PRINT = "print", _("打印")
    VIEW_ACCESS_LOG = "view_access_log", _("查看访问记录")
    ACCOUNT_CREATE = "account_create", _("新建账号")
    ACCOUNT_UPDATE = "account_update", _("修改账号")
    ACCOUNT_DEACTIVATE = "account_deactivate", _("停用账号")
    ACCOUNT_REACTIVATE = "account_reactivate", _("启用账号")
    PASSWORD_RESET = "password_reset", _("重置密码")
    PASSWORD_CHANGE = "password_change", _("修改密码")
    POPULATION_CHANGE = "population_change", _("修改人口数")
    LOGIN = "login", _("登录成功")
    LOGOUT = "logout", _("退出登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOCKOUT = "lockout", _("登录被锁定")
    LOCK_LIFTED = "lock_lifted", _("解除登录锁定")
    OTP_ENROLL = "otp_enroll", _("绑定动态口令")
    OTP_FAILED = "otp_failed", _("动态口令错误")
    OTP_RECOVERY_USED = "otp_recovery_used", _("使用恢复码登录")
    OTP_RESET = "otp_reset", _("重置动态口令")
    ACCOUNT_CHANGE_REQUEST = "account_change_request", _("申请账号变更")
    ACCOUNT_CHANGE_APPROVE = "account_change_approve", _("批准账号变更")
    ACCOUNT_CHANGE_REJECT = "account_change_reject", _("驳回账号变更")
    BREAK_GLASS = "break_glass", _("紧急调阅")
    BREAK_GLASS_REVIEW = "break_glass_review", _("紧急调阅审核")
    IDENTITY_PROBE = "identity_probe", _("身份证号查重")


class AppendOnlyError(RuntimeError):
    pass


class AuditEvent(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=30, choices=Action.choices)
    purpose = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_id} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be deleted")


class AuditSubject(models.Model):
    """One patient an event concerns, so "who opened this patient" is an indexed lookup."""

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="subjects")
    patient_uuid = models.UUIDField(db_index=True)

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.patient_uuid}"

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit subjects cannot be deleted")
