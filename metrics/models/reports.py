"""Models of the indicator reports: targets (data, not code; domain.md §11)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from casemgmt import jobs


class Target(models.Model):
    """A target for one indicator, national (blank area) or set by an area, valid for a range of years."""

    PERCENT = "%"
    PER_MILLE = "‰"
    UNITS = ((PERCENT, "%"), (PER_MILLE, "‰"))

    indicator = models.CharField(_("指标"), max_length=64)
    area_code = models.CharField(_("地区编码"), max_length=12, blank=True, default="")
    first_year = models.PositiveSmallIntegerField(_("起始年份"))
    last_year = models.PositiveSmallIntegerField(_("截止年份"), null=True, blank=True)
    value = models.DecimalField(_("目标值"), max_digits=7, decimal_places=2)
    unit = models.CharField(_("单位"), max_length=2, choices=UNITS, default=PERCENT)
    source = models.TextField(_("来源"))

    class Meta:
        verbose_name = _("指标目标")
        verbose_name_plural = _("指标目标")
        constraints = [
            models.CheckConstraint(
                condition=Q(last_year__isnull=True) | Q(last_year__gte=models.F("first_year")),
                name="metrics_target_year_range",
            ),
            models.CheckConstraint(condition=Q(value__gte=Decimal("0")), name="metrics_target_value_nonneg"),
            models.UniqueConstraint(
                fields=["indicator", "area_code", "first_year"], name="metrics_target_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} ≥{self.value}{self.unit}"


class PdfExport(jobs.BackgroundJob):
    """One printed report: who asked, for what, the job's progress, and the code that verifies the file.

    The fields and behaviour every background job shares (``requested_by``, ``requested_at``, ``progress``,
    ``file_path``, the cleanup of jobs whose worker died) come from ``casemgmt.jobs``. A failed export keeps the
    reason its page shows (the worker died, the task could not be queued); empty when the build itself failed.
    """

    class Status(models.TextChoices):
        PENDING = jobs.PENDING, _("排队中")
        RUNNING = "running", _("生成中")
        DONE = jobs.DONE, _("已完成")
        FAILED = jobs.FAILED, _("失败")

    OPEN_STATUSES: ClassVar[tuple[str, ...]] = (Status.PENDING, Status.RUNNING)

    area_code = models.CharField(_("地区编码"), max_length=12)
    period = models.CharField(_("统计期"), max_length=16)
    options = models.JSONField(_("口径选项"), default=dict)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    code = models.CharField(_("验证码"), max_length=12, blank=True, default="")
    failure_message = models.CharField(_("失败原因"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("PDF报告")
        verbose_name_plural = _("PDF报告")
        constraints = [
            models.UniqueConstraint(
                fields=["requested_by", "area_code", "period", "options"],
                condition=Q(status__in=["pending", "running"]),
                name="metrics_pdfexport_one_open_job",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="metrics_pdfexport_progress_pct"),
        ]

    def __str__(self) -> str:
        return f"{self.area_code} {self.period} {self.status}"

    def failure_changes(self, message: str, now: dt.datetime) -> dict[str, object]:
        return {"failure_message": message[:200]}
