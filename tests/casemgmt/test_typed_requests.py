"""Guards for issue 12, point 4: views behind ``login_required`` take an ``AuthenticatedHttpRequest``, and no
``user``/``actor``/``request`` parameter of the application code is typed ``Any``. Static checks (no database)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("casemgmt", "registry", "followup", "metrics", "devdata")
TYPED_NAMES = {"user", "actor", "request"}


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _decorator_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, ast.Attribute):
            names.add(target.attr)
    return names


def _where(path: Path, function: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    return f"{path.relative_to(ROOT)}:{function.lineno} {function.name}"


def test_login_required_views_take_an_authenticated_request() -> None:
    wrong = []
    for path, tree in _modules():
        for function in _functions(tree):
            if "login_required" not in _decorator_names(function) or not function.args.args:
                continue
            annotation = function.args.args[0].annotation
            if annotation is None or ast.unparse(annotation) != "AuthenticatedHttpRequest":
                wrong.append(_where(path, function))
    assert not wrong, "login_required views must take request: AuthenticatedHttpRequest:\n" + "\n".join(wrong)


def test_no_user_actor_or_request_parameter_is_typed_any() -> None:
    wrong = []
    for path, tree in _modules():
        for function in _functions(tree):
            arguments = function.args
            for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
                annotation = argument.annotation
                if argument.arg in TYPED_NAMES and annotation is not None and "Any" in ast.unparse(annotation):
                    wrong.append(f"{_where(path, function)}({argument.arg})")
    assert not wrong, "type these parameters (User, AuthenticatedHttpRequest):\n" + "\n".join(wrong)
