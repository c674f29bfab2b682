"""A maintained list of common antipsychotics and mood stabilisers for the medication rows.

The form offers these names (generic names as written on Chinese prescriptions); free text stays allowed for
anything not listed, so a missing drug never blocks a follow-up. ``long_acting`` marks what is taken every few
weeks rather than daily (the depot injections, and penfluridol, a once-weekly oral tablet): those rows use the
"every N weeks × mg" dosing shape. Keep the list to drugs the community programme actually dispenses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Drug:
    """``refuse_above_mg``: about twice the labelled maximum — per day for daily drugs, per dose for long-acting
    ones. A figure above it is a unit slip (g for mg) or an extra zero, never a prescription."""

    name: str
    english: str
    refuse_above_mg: int
    long_acting: bool = False
    mood_stabiliser: bool = False


DRUGS: tuple[Drug, ...] = (
    Drug("利培酮", "risperidone", 32),
    Drug("奥氮平", "olanzapine", 40),
    Drug("喹硫平", "quetiapine", 1600),
    Drug("阿立哌唑", "aripiprazole", 60),
    Drug("氯氮平", "clozapine", 1800),
    Drug("氨磺必利", "amisulpride", 2400),
    Drug("齐拉西酮", "ziprasidone", 320),
    Drug("帕利哌酮", "paliperidone", 24),
    Drug("鲁拉西酮", "lurasidone", 320),
    Drug("布南色林", "blonanserin", 48),
    Drug("氟哌啶醇", "haloperidol", 100),
    Drug("奋乃静", "perphenazine", 128),
    Drug("舒必利", "sulpiride", 3200),
    Drug("氯丙嗪", "chlorpromazine", 1200),
    Drug("五氟利多", "penfluridol", 240, long_acting=True),  # oral, once a week
    Drug("棕榈酸帕利哌酮注射液", "paliperidone palmitate injection", 1000, long_acting=True),
    Drug("利培酮微球注射液", "risperidone long-acting injection", 100, long_acting=True),
    Drug("阿立哌唑长效注射液", "aripiprazole long-acting injection", 1000, long_acting=True),
    Drug("癸酸氟哌啶醇注射液", "haloperidol decanoate injection", 600, long_acting=True),
    Drug("氟奋乃静癸酸酯注射液", "fluphenazine decanoate injection", 200, long_acting=True),
    Drug("碳酸锂", "lithium carbonate", 3000, mood_stabiliser=True),
    Drug("丙戊酸钠", "sodium valproate", 4000, mood_stabiliser=True),
    Drug("丙戊酸镁", "magnesium valproate", 4000, mood_stabiliser=True),
    Drug("拉莫三嗪", "lamotrigine", 800, mood_stabiliser=True),
    Drug("卡马西平", "carbamazepine", 2400, mood_stabiliser=True),
    Drug("奥卡西平", "oxcarbazepine", 4800, mood_stabiliser=True),
)
DRUG_NAMES: tuple[str, ...] = tuple(d.name for d in DRUGS)
_BY_NAME = {d.name: d for d in DRUGS}


def find_drug(name: str) -> Drug | None:
    """The listed drug of that name (surrounding spaces ignored), or None for free text."""
    return _BY_NAME.get(name.strip())


def default_shape(name: str) -> str:
    """The dosing shape a row for this drug usually takes: every N weeks for long-acting drugs, else a schedule."""
    drug = find_drug(name)
    return "depot" if drug is not None and drug.long_acting else "schedule"


# Drugs not on the list (free text): a day's total above 6 g by mouth, or a single injection above 1 g, is a slip.
UNLISTED_DAILY_MG = 6000
UNLISTED_PER_INJECTION_MG = 1000


def dose_ceiling_problem(name: str, shape: str, doses: Mapping[str, object]) -> str:
    """The message for a dose beyond any prescription of this drug (a unit slip), or "" — for a row whose dosing
    is otherwise valid (``dose_problems``). One rule for the web form and the workbook import."""
    drug = find_drug(name)
    mg = _total_mg(shape, doses)
    if mg is None:
        return ""
    ceiling = drug.refuse_above_mg if drug else (UNLISTED_PER_INJECTION_MG if shape == "depot" else UNLISTED_DAILY_MG)
    if mg <= ceiling:
        return ""
    per = _("每次") if shape == "depot" else _("每日")
    return _("剂量过大：%(drug)s%(per)s超过%(limit)s mg，请核对单位（mg）。") % {
        "drug": name.strip(),
        "per": per,
        "limit": ceiling,
    }


def _total_mg(shape: str, doses: Mapping[str, object]) -> Decimal | None:
    def number(key: str) -> Decimal:
        value = doses.get(key)
        return Decimal(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else Decimal(0)

    if shape == "schedule":
        return number("morning_mg") + number("noon_mg") + number("evening_mg")
    if shape == "frequency":
        return number("times_per_day") * number("mg_per_dose")
    if shape == "depot":
        return number("depot_mg")
    return None
