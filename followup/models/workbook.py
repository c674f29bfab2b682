"""One run of the workbook import from the upload page: who, which file (stored under var/), progress, report.

The Celery task receives the job's id only; the file's path lives here and the file is deleted when the job
ends. The report holds locations and plain messages, never identity (see ``cells``). The fields and behaviour
every background job shares, and the cleanup of jobs whose worker died, come from ``casemgmt.jobs``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from casemgmt import jobs

__all__ = ["WorkbookExport", "WorkbookImport"]


class WorkbookImport(jobs.BackgroundJob):
    class Status(models.TextChoices):
        PENDING = jobs.PENDING, _("排队中")
        CHECKING = "checking", _("正在检查")
        LOADING = "loading", _("正在写入")
        DONE = jobs.DONE, _("已完成")
        REJECTED = "rejected", _("发现问题，未写入")
        FAILED = jobs.FAILED, _("失败")

    OPEN_STATUSES: ClassVar[tuple[str, ...]] = (Status.PENDING, Status.CHECKING, Status.LOADING)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    file_name = models.CharField(_("文件名"), max_length=200)
    dry_run = models.BooleanField(_("仅检查（试运行）"), default=False)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
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

    def failure_changes(self, message: str, now: dt.datetime) -> dict[str, object]:
        """The job page shows ``report["error"]``; a failed job has ended, so it gets its end time."""
        return {"report": {"error": message}, "finished_at": now}

    def discard_file(self) -> None:
        """A single CSV upload waits in a folder of its own, which goes with it."""
        from followup.workbook.jobs import discard

        if self.file_path:
            discard(Path(self.file_path))


class WorkbookExport(jobs.BackgroundJob):
    """One export of an area's registry as a registry workbook, asked for on a web page (``followup.workbook.
    export_jobs``): the area, whether the file carries identity (decided when it was asked for, by the rules of
    ``registry.access``), progress, and the built file under var/. Addressed by UUID; its owner's alone."""

    class Status(models.TextChoices):
        PENDING = jobs.PENDING, _("排队中")
        RUNNING = "running", _("生成中")
        DONE = jobs.DONE, _("已完成")
        FAILED = jobs.FAILED, _("失败")

    OPEN_STATUSES: ClassVar[tuple[str, ...]] = (Status.PENDING, Status.RUNNING)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    area_code = models.CharField(_("地区编码"), max_length=12)
    identity = models.BooleanField(_("含身份信息"), default=False)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    patients = models.PositiveIntegerField(_("患者数"), default=0)
    failure_message = models.CharField(_("失败原因"), max_length=200, blank=True, default="")
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("登记表导出")
        verbose_name_plural = _("登记表导出")
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="workbook_export_progress_pct"),
            models.UniqueConstraint(
                fields=["requested_by", "area_code"],
                condition=Q(status__in=["pending", "running"]),
                name="workbook_export_one_open_job",
            ),
        ]

    def __str__(self) -> str:
        return f"Workbook export {self.uuid} ({self.status})"

    def failure_changes(self, message: str, now: dt.datetime) -> dict[str, object]:
        return {"failure_message": message[:200], "finished_at": now}
