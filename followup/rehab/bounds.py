"""The single-field bounds of the annual health check, defined once for the web form and the service.

Imports nothing of the app: the form (``followup.rehab.forms``) and the writer (``followup.rehab.services``) both
read these, so a weight or a blood pressure is refused with the same Chinese message wherever it arrives.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.utils.translation import gettext as _

WEIGHT_KG = (Decimal("1"), Decimal("500"))
SYSTOLIC = (50, 300)  # mmHg
DIASTOLIC = (20, 200)
BLOOD_PRESSURE = re.compile(r"^\s*(\d{2,3})\s*/\s*(\d{2,3})\s*$")


def weight_problem(weight: Decimal) -> str:
    """The message for a weight outside the plausible range, or ""."""
    low, high = WEIGHT_KG
    if not weight.is_finite() or not low <= weight <= high:
        return _("体重须在%(low)s至%(high)s kg之间。") % {"low": low, "high": high}
    return ""


def blood_pressure_problem(text: str) -> str:
    """The message for a blood pressure that is not "收缩压/舒张压" in mmHg within plausible ranges, or ""."""
    if not text.strip():
        return ""
    match = BLOOD_PRESSURE.match(text)
    if match is None:
        return _("血压请按“收缩压/舒张压”填写，如 120/80（mmHg）。")
    systolic, diastolic = int(match.group(1)), int(match.group(2))
    if not (SYSTOLIC[0] <= systolic <= SYSTOLIC[1] and DIASTOLIC[0] <= diastolic <= DIASTOLIC[1]):
        return _("血压数值不在合理范围（收缩压%(s0)s–%(s1)s、舒张压%(d0)s–%(d1)s mmHg），请核对。") % {
            "s0": SYSTOLIC[0],
            "s1": SYSTOLIC[1],
            "d0": DIASTOLIC[0],
            "d1": DIASTOLIC[1],
        }
    if diastolic >= systolic:
        return _("舒张压应低于收缩压，请核对。")
    return ""
