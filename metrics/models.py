"""Models of the indicator reports: targets (data, not code; domain.md §11)."""

from __future__ import annotations

from decimal import Decimal

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
