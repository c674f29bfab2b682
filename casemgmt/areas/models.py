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
