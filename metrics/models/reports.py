"""Models of the indicator reports: targets (data, not code; domain.md §11)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


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


class PdfExport(models.Model):
    """One printed report: who asked, for what, the job's progress, and the code that verifies the file."""

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    area_code = models.CharField(_("地区编码"), max_length=12)
    period = models.CharField(_("统计期"), max_length=16)
    options = models.JSONField(_("口径选项"), default=dict)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    code = models.CharField(_("验证码"), max_length=12, blank=True, default="")
    file_path = models.CharField(_("文件路径"), max_length=300, blank=True, default="")

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
