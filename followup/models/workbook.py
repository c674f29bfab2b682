"""One run of the workbook import from the upload page: who, which file (stored under var/), progress, report.

The Celery task receives the job's id only; the file's path lives here and the file is deleted when the job
ends. The report holds locations and plain messages, never identity (see ``cells``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = ["WorkbookImport"]


class WorkbookImport(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        CHECKING = "checking", _("正在检查")
        LOADING = "loading", _("正在写入")
        DONE = "done", _("已完成")
        REJECTED = "rejected", _("发现问题，未写入")
        FAILED = "failed", _("失败")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    file_name = models.CharField(_("文件名"), max_length=200)
    file_path = models.CharField(max_length=300, blank=True, default="")
    dry_run = models.BooleanField(_("仅检查（试运行）"), default=False)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    rows_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    report = models.JSONField(_("结果"), default=dict, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("登记表导入")
        verbose_name_plural = _("登记表导入")
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="workbook_import_progress_pct")]

    def __str__(self) -> str:
        return f"Workbook import {self.uuid} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.CHECKING, self.Status.LOADING)
