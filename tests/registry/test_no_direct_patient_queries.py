"""The one visibility rule, enforced: no view module may query patients except through ``visible_to``.

A view that reaches ``Patient.objects`` (or the model's default or base manager) bypasses the jurisdiction
and grant rule; the anchor project that wrote its rule several times got one copy inverted and leaked every
patient. Views go through ``registry.access`` instead. This scan is cheap insurance against a regression.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("registry", "followup", "metrics", "casemgmt")
FORBIDDEN = ("Patient.objects", "Patient._default_manager", "Patient._base_manager")


def view_modules() -> list[Path]:
    """Every views.py and every module of a views/ package, anywhere under the apps."""
    found: set[Path] = set()
    for app in APPS:
        base = ROOT / app
        found.update(base.rglob("views.py"))
        for package in base.rglob("views"):
            if package.is_dir():
                found.update(package.rglob("*.py"))
    return sorted(p for p in found if ".venv" not in p.parts and "migrations" not in p.parts)


def violations(source: str) -> list[str]:
    return [
        f"line {number}: {line.strip()}"
        for number, line in enumerate(source.splitlines(), start=1)
        if any(pattern in line for pattern in FORBIDDEN)
    ]


def test_the_scan_covers_the_registry_views() -> None:
    assert ROOT / "registry" / "views.py" in view_modules()


def test_the_detector_recognises_direct_queries() -> None:
    assert violations("p = Patient.objects.get(uuid=u)")
    assert violations("qs = Patient._default_manager.all()")
    assert not violations("qs = visible_patients(request.user)")


@pytest.mark.parametrize("module", view_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_view_queries_patients_directly(module: Path) -> None:
    found = violations(module.read_text(encoding="utf-8"))
    assert not found, (
        f"{module.relative_to(ROOT)} queries patients directly; use registry.access.get_patient_for_user or "
        f"visible_patients instead: {found}"
    )
