"""Preload the national targets of domain.md §11 with their sources."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import migrations

PILOT_2020 = "全国社会心理服务体系建设试点2020年重点工作任务（国家卫生健康委，2020）"
PLAN_2018 = "全国社会心理服务体系建设试点工作方案（国卫疾控发〔2018〕44号），目标至2021年底"

# (indicator, first year, last year, value, unit, source)
NATIONAL = (
    ("reported_prevalence", 2020, None, "4.5", "‰", PILOT_2020),
    ("regular_management_rate", 2020, None, "80", "%", PILOT_2020),
    ("medication_rate", 2018, 2021, "80", "%", PLAN_2018),
    ("regular_medication_rate", 2020, None, "60", "%", PILOT_2020),
    ("schizophrenia_medication_rate", 2020, None, "80", "%", PILOT_2020),
    ("rehabilitation_rate", 2018, 2021, "60", "%", PLAN_2018),
    ("rehabilitation_rate", 2020, None, "50", "%", PILOT_2020),
    ("family_support_rate", 2018, 2021, "50", "%", PLAN_2018),
)


def load(apps: Any, schema_editor: Any) -> None:
    Target = apps.get_model("metrics", "Target")
    for indicator, first, last, value, unit, source in NATIONAL:
        Target.objects.update_or_create(
            indicator=indicator,
            area_code="",
            first_year=first,
            defaults={"last_year": last, "value": Decimal(value), "unit": unit, "source": source},
        )


def unload(apps: Any, schema_editor: Any) -> None:
    Target = apps.get_model("metrics", "Target")
    for indicator, first, *_rest in NATIONAL:
        Target.objects.filter(indicator=indicator, area_code="", first_year=first).delete()


class Migration(migrations.Migration):
    dependencies = [("metrics", "0001_targets")]
    operations = [migrations.RunPython(load, unload)]
