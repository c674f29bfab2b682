"""The jurisdiction tree (domain.md §3): five levels keyed by 12-digit codes, with yearly populations."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from casemgmt.areas import codes


class AreaLevel(models.IntegerChoices):
    PROVINCE = codes.PROVINCE, _("省")
    CITY = codes.CITY, _("市")
    COUNTY = codes.COUNTY, _("县/区")
    TOWNSHIP = codes.TOWNSHIP, _("乡镇/街道")
    VILLAGE = codes.VILLAGE, _("村/社区")


class Area(models.Model):
    """One area. The code is the primary key: it is public, stable and never reused for another place."""

    code = models.CharField(_("区划代码"), max_length=12, primary_key=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("级别"), choices=AreaLevel.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上级")
    )
    # Set by an area change (区划变更, ``casemgmt.areas.changes``): from this day the area holds no record and takes
    # no new one; its code stays, for the reports of earlier periods, and is never given to another place.
    retired_on = models.DateField(_("撤销日期"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        indexes = [models.Index(fields=["level", "code"], name="area_level_code")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def prefix(self) -> str:
        return codes.significant_prefix(self.code)

    @property
    def is_village(self) -> bool:
        return self.level == AreaLevel.VILLAGE

    @property
    def is_retired(self) -> bool:
        return self.retired_on is not None


class AreaPopulation(models.Model):
    """Resident population (常住人口, all ages) of an area in a year: the denominator of 报告患病率."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="populations")
    year = models.PositiveSmallIntegerField(_("年份"))
    population = models.PositiveIntegerField(_("常住人口"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["area", "year"], name="one_population_per_area_year")]
        ordering = ["area_id", "year"]

    def __str__(self) -> str:
        return f"{self.area_id} {self.year}: {self.population}"


class AreaChangeKind(models.TextChoices):
    MERGE = "MERGE", _("合并")
    SPLIT = "SPLIT", _("拆分")
    RENAME = "RENAME", _("更名")
    RECODE = "RECODE", _("变更代码")


class AreaChange(models.Model):
    """One step of an area change (区划变更) from a predecessor to a successor on an effective date.

    A merge has one row per merged area, a split one row per successor, a recode one row; a rename is a row whose
    successor is the predecessor itself (its ``old_name`` is the name history). Rows are written only by
    ``casemgmt.areas.changes``; ``receives_patients`` marks the row along which the predecessor's records moved.
    """

    kind = models.CharField(_("变更类型"), max_length=10, choices=AreaChangeKind.choices)
    predecessor = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="changes_out", verbose_name=_("原区划")
    )
    successor = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="changes_in", verbose_name=_("新区划"))
    effective_date = models.DateField(_("生效日期"))
    old_name = models.CharField(_("原名称"), max_length=100)
    new_name = models.CharField(_("新名称"), max_length=100)
    successor_created = models.BooleanField(_("新设区划"), default=False)  # the successor's code first appeared here
    receives_patients = models.BooleanField(_("承接患者"), default=False)
    patients_moved = models.PositiveIntegerField(_("迁移患者数"), default=0)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["effective_date", "id"]
        verbose_name = _("区划变更")
        verbose_name_plural = _("区划变更")
        constraints = [
            models.UniqueConstraint(
                fields=["predecessor", "successor", "effective_date"], name="one_area_change_per_pair_and_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.predecessor_id} -> {self.successor_id} on {self.effective_date}"
