"""A maintained list of common antipsychotics and mood stabilisers for the medication rows.

The form offers these names (generic names as written on Chinese prescriptions); free text stays allowed for
anything not listed, so a missing drug never blocks a follow-up. ``long_acting`` marks what is taken every few
weeks rather than daily (the depot injections, and penfluridol, a once-weekly oral tablet): those rows use the
"every N weeks × mg" dosing shape. Keep the list to drugs the community programme actually dispenses.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Drug:
    name: str
    english: str
    long_acting: bool = False
    mood_stabiliser: bool = False


DRUGS: tuple[Drug, ...] = (
    Drug("利培酮", "risperidone"),
    Drug("奥氮平", "olanzapine"),
    Drug("喹硫平", "quetiapine"),
    Drug("阿立哌唑", "aripiprazole"),
    Drug("氯氮平", "clozapine"),
    Drug("氨磺必利", "amisulpride"),
    Drug("齐拉西酮", "ziprasidone"),
    Drug("帕利哌酮", "paliperidone"),
    Drug("鲁拉西酮", "lurasidone"),
    Drug("布南色林", "blonanserin"),
    Drug("氟哌啶醇", "haloperidol"),
    Drug("奋乃静", "perphenazine"),
    Drug("舒必利", "sulpiride"),
    Drug("氯丙嗪", "chlorpromazine"),
    Drug("五氟利多", "penfluridol", long_acting=True),  # oral, once a week
    Drug("棕榈酸帕利哌酮注射液", "paliperidone palmitate injection", long_acting=True),
    Drug("利培酮微球注射液", "risperidone long-acting injection", long_acting=True),
    Drug("阿立哌唑长效注射液", "aripiprazole long-acting injection", long_acting=True),
    Drug("癸酸氟哌啶醇注射液", "haloperidol decanoate injection", long_acting=True),
    Drug("氟奋乃静癸酸酯注射液", "fluphenazine decanoate injection", long_acting=True),
    Drug("碳酸锂", "lithium carbonate", mood_stabiliser=True),
    Drug("丙戊酸钠", "sodium valproate", mood_stabiliser=True),
    Drug("丙戊酸镁", "magnesium valproate", mood_stabiliser=True),
    Drug("拉莫三嗪", "lamotrigine", mood_stabiliser=True),
    Drug("卡马西平", "carbamazepine", mood_stabiliser=True),
    Drug("奥卡西平", "oxcarbazepine", mood_stabiliser=True),
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
