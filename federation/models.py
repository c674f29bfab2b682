"""What each side keeps: the national instance the provinces' documents, a province its publications."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FederatedDocument(models.Model):
    """One area's indicator document for one period, as a province published it (aggregates only)."""

    province = models.CharField(_("省份代码"), max_length=2)
    area_code = models.CharField(_("区划代码"), max_length=12)
    level = models.PositiveSmallIntegerField(_("级别"))
    period_key = models.CharField(_("统计期"), max_length=12)
    options_key = models.CharField(_("统计口径"), max_length=200)
    document = models.JSONField(_("指标文档"))
    digest = models.CharField(max_length=64)
    computed_at = models.DateTimeField(_("计算时间"))
    received_at = models.DateTimeField(_("接收时间"), auto_now=True)

    class Meta:
        verbose_name = _("省级上报指标文档")
        verbose_name_plural = _("省级上报指标文档")
        constraints = [
            models.UniqueConstraint(
                fields=["area_code", "period_key", "options_key"], name="one_federated_document_per_slot"
            )
        ]
        indexes = [models.Index(fields=["period_key", "options_key", "level"], name="federated_by_period_level")]

    def __str__(self) -> str:
        return f"{self.area_code} {self.period_key}"


class Publication(models.Model):
    """One batch a province instance sent (or tried to send) to the national instance."""

    class State(models.TextChoices):
        SENT = "sent", _("已上报")
        FAILED = "failed", _("失败")

    period_key = models.CharField(_("统计期"), max_length=12)
    options_key = models.CharField(_("统计口径"), max_length=200)
    digest = models.CharField(max_length=64)
    documents = models.PositiveIntegerField(_("文档数"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices)
    answer = models.JSONField(_("国家平台答复"), default=dict)
    attempted_at = models.DateTimeField(_("上报时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("指标上报记录")
        verbose_name_plural = _("指标上报记录")
        indexes = [models.Index(fields=["period_key", "options_key", "-attempted_at"], name="publication_latest")]

    def __str__(self) -> str:
        return f"{self.period_key} {self.state}"
