"""``within()``: the one way area-code prefixes become a filter, and the scan that keeps it the one way.

An area filter built from an empty ``Q()`` matches every row when no prefix is added to it; a peer system leaked
every patient through exactly that shape. ``within()`` starts from "matches nothing" instead, and the scan below
fails on any ``Q()`` built from nothing in the application code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db.models import Q

from casemgmt.areas.models import Area
from casemgmt.areas.scope import within
from registry.models import Patient
from tests.base import World

ROOT = Path(__file__).resolve().parents[2]
APPS = ("casemgmt", "registry", "followup", "metrics")

NOTHING = Q(pk__in=[])


@pytest.mark.parametrize(
    ("prefixes", "field", "expected"),
    [
        ([], "village__code", NOTHING),
        ((), "code", NOTHING),
        (iter([]), "code", NOTHING),
        (["320508001"], "village__code", NOTHING | Q(village__code__startswith="320508001")),
        (
            ["320508001", "320508002"],
            "area__code",
            NOTHING | Q(area__code__startswith="320508001") | Q(area__code__startswith="320508002"),
        ),
        ((p for p in ["3205"]), "code", NOTHING | Q(code__startswith="3205")),
    ],
)
def test_within_builds_an_or_of_prefixes_over_nothing(prefixes: object, field: str, expected: Q) -> None:
    assert within(prefixes, field) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("prefixes", "expected"),
    [
        ([], set()),
        (["320508001"], {"a"}),
        (["320508002"], {"b"}),
        (["320508001", "320508002"], {"a", "b"}),
        (["320508"], {"a", "b"}),
        (["110000"], set()),
    ],
)
def test_within_against_patients(world: World, prefixes: list[str], expected: set[str]) -> None:
    names = {world.patient_a.pk: "a", world.patient_b.pk: "b"}
    found = Patient.objects.filter(within(prefixes, "village__code")).values_list("pk", flat=True)
    assert {names[pk] for pk in found} == expected


@pytest.mark.parametrize(
    ("prefixes", "expected"),
    [
        ([], set()),
        (["320508001"], {"320508001000", "320508001001", "320508001002"}),
        (["320508002", "999"], {"320508002000", "320508002001"}),
    ],
)
def test_within_against_areas(world: World, prefixes: list[str], expected: set[str]) -> None:
    assert set(Area.objects.filter(within(prefixes, "code")).values_list("code", flat=True)) == expected


def test_no_prefixes_never_widens_an_or(world: World) -> None:
    """ORed with another rule, an empty ``within`` adds nothing (an empty ``Q()`` would add everything)."""
    rule = Q(pk=world.patient_a.pk) | within([], "village__code")
    assert list(Patient.objects.filter(rule).values_list("pk", flat=True)) == [world.patient_a.pk]


# --- the scan --------------------------------------------------------------------------------------------------


def application_modules() -> list[Path]:
    found: set[Path] = set()
    for app in APPS:
        found.update(p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)
    return sorted(found)


def empty_q_calls(source: str) -> list[str]:
    """Lines that call ``Q()`` (or ``models.Q()``) with no arguments."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or node.args or node.keywords:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name == "Q":
            found.append(f"line {node.lineno}: {lines[node.lineno - 1].strip()}")
    return found


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("rule = Q()", 1),
        ("from django.db import models\nrule = models.Q()", 1),
        ("rule = Q()\nfor p in prefixes:\n    rule |= Q(code__startswith=p)", 1),
        ("rule = Q(pk__in=[])", 0),
        ("rule = Q(pk=1) | Q(code='x')", 0),
        ("rule = within(prefixes, 'code')", 0),
        ("rule = Q(*conditions)", 0),
        ("rule = Q(**filters)", 0),
    ],
)
def test_the_detector_finds_empty_q(source: str, expected: int) -> None:
    assert len(empty_q_calls(source)) == expected


def test_the_scan_covers_the_apps() -> None:
    modules = application_modules()
    for known in (
        ROOT / "registry" / "models" / "patients.py",
        ROOT / "followup" / "cases" / "services.py",
        ROOT / "followup" / "emergencies" / "forms.py",
        ROOT / "metrics" / "reports" / "views.py",
        ROOT / "casemgmt" / "areas" / "scope.py",
    ):
        assert known in modules
    assert not any("migrations" in p.parts for p in modules)


@pytest.mark.parametrize("module", application_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_builds_q_from_nothing(module: Path) -> None:
    found = empty_q_calls(module.read_text(encoding="utf-8"))
    assert not found, (
        f"{module.relative_to(ROOT)} builds Q() from nothing (it matches every row); "
        f"use casemgmt.areas.scope.within for area filters: {found}"
    )
