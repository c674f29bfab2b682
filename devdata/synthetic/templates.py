"""Follow-up templates: the clinical part of a follow-up, drawn once into a pool and shared by many rows.

A follow-up's date, patient, schedule and keys vary per row; its clinical answers (risk, symptoms, insight,
social functioning, adherence, ...) are drawn from a pool of a few hundred assessments generated at start-up.
Each assessment is classified by the real rule (``rules.suggest_classification``) and filed under that class,
so a patient's trajectory of classes picks answers that justify the class the doctor recorded. The pool keeps
the row cost to a few dictionary-free operations, which is what makes a province-sized history affordable.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from devdata.synthetic.writer import cells
from followup import codes
from followup.visits import rules

# Per-row columns of a follow-up, in the order the history builder fills them.
DYNAMIC_COLUMNS = (
    "id",
    "uuid",
    "submission_key",
    "patient_id",
    "date",
    "suggested_next_date",
    "next_date",
    "lost_reason",
    "death_date",
    "death_cause",
    "death_subcause",
    "doctor_id",
    "created_at",
)
# Shared columns, filled by a template.
FIXED_COLUMNS = (
    "mode",
    "contacts",
    "outcome",
    "risk_level",
    "symptoms",
    "symptom_other",
    "obvious_psychotic_symptoms",
    "insight",
    "sleep",
    "diet",
    *codes.SOCIAL_NAMES,
    *codes.DANGER_NAMES,
    "self_harm_level_confirmed",
    "locking",
    "hospitalisation",
    "last_discharge_date",
    "lab",
    "lab_text",
    "adherence",
    "adverse_reaction",
    "adverse_reaction_text",
    "adverse_reaction_severe",
    "severe_physical_illness",
    "treatment_effect",
    "referral",
    "referral_reason",
    "referral_institution",
    "referral_department",
    "rehabilitation",
    "rehabilitation_other",
    "family_support",
    "suggested_classification",
    "classification",
    "next_date_reason",
)
COLUMNS = DYNAMIC_COLUMNS + FIXED_COLUMNS  # of a rendered follow-up line
POOL_PER_CLASS = 128
RISK_WEIGHTS = (70, 14, 8, 5, 2.5, 0.5)  # risk levels 0-5 at a reached follow-up


@dataclass(frozen=True)
class Template:
    values: tuple[object, ...]  # in the order of FIXED_COLUMNS
    classification: int | None
    risk_level: int | None
    complete: bool
    text: str = field(init=False)  # the values as COPY text, rendered once for every row that uses them

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", cells(self.values))


def _js(values: list[int]) -> str:
    return json.dumps(values)


def _reached(rng: random.Random) -> tuple[Template, int]:
    risk = rng.choices(range(6), weights=RISK_WEIGHTS)[0]
    in_hospital = rng.random() < 0.02
    poor = rng.random() < 0.15
    symptoms = sorted(rng.sample(range(1, 12), rng.choice((1, 2)))) if risk or poor else []
    psychotic = risk >= 3 and rng.random() < 0.4
    insight = 3 if risk >= 3 and rng.random() < 0.5 else rng.choices((1, 2), weights=(75, 25))[0]
    social = [3 if poor and rng.random() < 0.5 else rng.choice((1, 1, 2)) for _ in range(5)]
    work = rng.choice((social[2], 9))
    self_harm = 1 if risk == 4 and rng.random() < 0.3 else 0
    severe_reaction = rng.random() < 0.01
    risk_level = None if in_hospital and rng.random() < 0.5 else risk
    suggestion = rules.suggest_classification(
        rules.Assessment(
            risk_level=risk_level,
            symptoms=symptoms,
            obvious_psychotic_symptoms=psychotic,
            insight=insight,
            social=[*social[:2], work, *social[3:]],
            severe_adverse_reaction=severe_reaction,
        )
    )
    klass = suggestion.classification
    values = (
        rng.choices((1, 2, 3), weights=(35, 45, 20))[0],
        _js([1, 2] if rng.random() < 0.6 else [2]),
        codes.Outcome.REACHED.value,
        risk_level,
        _js(symptoms),
        "",
        psychotic,
        insight,
        rng.choice((1, 1, 2, 3)),
        rng.choice((1, 1, 2)),
        social[0],
        social[1],
        work,
        social[3],
        social[4],
        1 if risk >= 2 and rng.random() < 0.3 else 0,
        1 if risk >= 3 and rng.random() < 0.2 else 0,
        0,
        0,
        self_harm,
        0,
        False,
        1 if risk < 3 or rng.random() < 0.9 else 2,
        1 if in_hospital else rng.choices((0, 2), weights=(92, 8))[0],
        None,
        1,
        "",
        rng.choices((1, 2, 3, 4), weights=(65, 22, 10, 3))[0],
        2 if severe_reaction else 1,
        "锥体外系反应" if severe_reaction else "",
        severe_reaction,
        False,
        rng.choice((2, 3)) if klass != rules.UNSTABLE else rng.choice((3, 4)),
        2 if klass == rules.UNSTABLE and rng.random() < 0.3 else 1,
        "病情不稳定" if klass == rules.UNSTABLE else "",
        "",
        "",
        _js(sorted(rng.sample(range(1, 5), rng.choice((1, 2))))),
        "",
        rng.random() < 0.7,
        klass,
        klass,
        "",
    )
    # Hospitalisation 2 needs a discharge date; a template has none, so it says "not in hospital" instead.
    if values[23] == 2:
        values = (*values[:23], 0, *values[24:])
    complete = risk_level is not None or in_hospital
    return Template(values, klass, risk_level, complete), klass


def _attempt(outcome: str, mode: int) -> Template:
    values = (
        mode,
        _js([]),
        outcome,
        None,
        _js([]),
        "",
        False,
        *(None,) * 8,
        0,
        0,
        0,
        0,
        0,
        0,
        False,
        None,
        None,
        None,
        None,
        "",
        None,
        None,
        "",
        False,
        False,
        None,
        None,
        "",
        "",
        "",
        _js([]),
        "",
        False,
        None,
        None,
        "",
    )
    return Template(values, None, None, False)


@dataclass(frozen=True)
class Pools:
    """Reached templates by class (1 unstable, 2 basically stable, 3 stable) and the attempt templates."""

    reached: dict[int, tuple[Template, ...]]
    not_reached: tuple[Template, ...]
    lost: Template
    dead: Template


def build_pools(seed: int) -> Pools:
    rng = random.Random(f"templates:{seed}")
    reached: dict[int, list[Template]] = {1: [], 2: [], 3: []}
    while min(len(v) for v in reached.values()) < POOL_PER_CLASS:
        template, klass = _reached(rng)
        if len(reached[klass]) < POOL_PER_CLASS:
            reached[klass].append(template)
    return Pools(
        reached={k: tuple(v) for k, v in reached.items()},
        not_reached=(_attempt(codes.Outcome.NOT_REACHED, 3), _attempt(codes.Outcome.NOT_REACHED, 2)),
        lost=_attempt(codes.Outcome.LOST, 2),
        dead=_attempt(codes.Outcome.DEAD, 2),
    )


assert len(FIXED_COLUMNS) == len(_attempt("NOT_REACHED", 3).values)  # noqa: S101  (column lists agree)
