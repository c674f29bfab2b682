"""The one visibility rule, enforced: no view or panel module may query patients except through ``visible_to``.

The modules are found by their role (a views/panel/overview name or package anywhere under the apps), not by a
hand list, so a new ``*_views.py``, ``panel.py`` or ``overview/`` module is covered the day it appears.

A view that reaches ``Patient.objects`` (or the model's default or base manager) bypasses the jurisdiction and grant
rule; the anchor project that wrote its rule several times got one copy inverted and leaked every patient. Views go
through ``registry.access.visibility`` instead. This scan is cheap insurance against a regression.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("registry", "followup", "metrics", "casemgmt")
FORBIDDEN = ("Patient.objects", "Patient._default_manager", "Patient._base_manager")

# A module has a view or panel role when its name or the name of a package it lives in says so: views.py,
# case_views.py, a views/ package, panel.py, panels.py, transfer_panel.py, anything in an overview/ package, and
# the machine API's endpoint modules (api.py, api_urls.py, the casemgmt/api/ package).
ROLE_NAMES = frozenset({"views", "panel", "panels", "overview", "api"})
ROLE_SUFFIXES = tuple(f"_{name}" for name in ROLE_NAMES)
SKIPPED_DIRS = frozenset({"migrations", ".venv", "__pycache__"})


def has_view_role(relative: Path) -> bool:
    """Whether a module (a path relative to the project root) serves pages, judged by its name and packages."""
    names = [*relative.parts[:-1], relative.stem]
    return any(name in ROLE_NAMES or name.endswith(ROLE_SUFFIXES) for name in names)


def view_modules() -> list[Path]:
    """Every module with a view or panel role, anywhere under the apps (found by name, not listed by hand)."""
    found = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if not SKIPPED_DIRS.intersection(relative.parts) and has_view_role(relative):
                found.append(path)
    return sorted(found)


KNOWN_VIEW_MODULES = (
    "registry/patients/views.py",
    "registry/patients/panels.py",
    "registry/transfers/views.py",
    "registry/transfers/panel.py",
    "followup/visits/views.py",
    "followup/visits/panel.py",
    "followup/cases/views.py",
    "followup/cases/panel.py",
    "followup/emergencies/views.py",
    "followup/emergencies/panel.py",
    "followup/overview/views.py",
    "followup/workbook/views.py",
    "metrics/reports/views.py",
)


MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})


def _patient_names(tree: ast.AST) -> set[str]:
    """``Patient`` and any alias it was imported under (``from registry.models import Patient as P``)."""
    names = {"Patient"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names if alias.name == "Patient")
    return names


def _is_patient(node: ast.expr, names: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Attribute):  # registry.models.Patient
        return node.attr == "Patient"
    if isinstance(node, ast.Call):  # apps.get_model("registry", "Patient") / get_model("registry.Patient")
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        strings = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        return called == "get_model" and any(s == "Patient" or s.endswith(".Patient") for s in strings)
    return False


def violations(source: str) -> list[str]:
    """Direct manager access to Patient, found in the syntax tree (aliases, line breaks) and in the text."""
    found = {
        number: line.strip()
        for number, line in enumerate(source.splitlines(), start=1)
        if any(pattern in line for pattern in FORBIDDEN)
    }
    tree = ast.parse(source)
    names = _patient_names(tree)
    lines = source.splitlines()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in MANAGERS and _is_patient(node.value, names):
            found.setdefault(node.lineno, lines[node.lineno - 1].strip())
    return [f"line {number}: {line}" for number, line in sorted(found.items())]


@pytest.mark.parametrize("known", KNOWN_VIEW_MODULES)
def test_the_scan_finds_the_known_view_and_panel_modules(known: str) -> None:
    assert ROOT / known in view_modules()


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("registry/patients/views.py", True),
        ("followup/case_views.py", True),
        ("registry/transfer_views.py", True),
        ("followup/views/__init__.py", True),
        ("followup/views/lists.py", True),
        ("followup/cases/panel.py", True),
        ("registry/patients/panels.py", True),
        ("followup/emergency_panel.py", True),
        ("followup/overview/__init__.py", True),
        ("followup/overview/rows.py", True),
        ("followup/overview.py", True),
        ("followup/cases/services.py", False),
        ("registry/models/patients.py", False),
        ("followup/visits/queries.py", False),
        ("metrics/reports/preview_rows.py", False),
    ],
)
def test_the_role_is_judged_by_name_and_package(relative: str, expected: bool) -> None:
    assert has_view_role(Path(relative)) is expected


def test_the_scan_skips_migrations() -> None:
    assert not any("migrations" in path.parts for path in view_modules())


@pytest.mark.parametrize(
    "source",
    [
        "p = Patient.objects.get(uuid=u)",
        "qs = Patient._default_manager.all()",
        "qs = Patient._base_manager.all()",
        "from registry.models import Patient as P\nqs = P.objects.all()",
        "from registry import models\nqs = models.Patient.objects.all()",
        "qs = (\n    Patient\n    .objects.all()\n)",
        "qs = apps.get_model('registry', 'Patient').objects.all()",
        "qs = apps.get_model('registry.Patient')._default_manager.all()",
    ],
)
def test_the_detector_recognises_direct_queries(source: str) -> None:
    assert violations(source)


@pytest.mark.parametrize(
    "source",
    [
        "qs = visible_patients(request.user)",
        "patient = get_patient_for_user(request, uuid)",
        "qs = FollowUp.objects.filter(patient=patient)",
        "from registry.models import Patient\nfields = Patient._meta.get_fields()",
    ],
)
def test_the_detector_leaves_legitimate_code_alone(source: str) -> None:
    assert not violations(source)


@pytest.mark.parametrize("module", view_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_view_queries_patients_directly(module: Path) -> None:
    found = violations(module.read_text(encoding="utf-8"))
    assert not found, (
        f"{module.relative_to(ROOT)} queries patients directly; use registry.access.visibility.get_patient_for_user or "
        f"visible_patients instead: {found}"
    )
