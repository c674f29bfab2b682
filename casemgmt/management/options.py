"""Typed reads of a management command's parsed options.

``BaseCommand.handle`` receives argparse's values untyped; each command's ``add_arguments`` declares what an option
holds (``type=int``, ``action="store_true"``, ``nargs="+"``, a default of None …), and these helpers name that type
at the point of use. They only tell the type checker; no value is converted or checked. Imports nothing of ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

Options = Mapping[str, object]


def integer(options: Options, name: str) -> int:
    """An option parsed with ``type=int`` that has a default or is required."""
    return cast(int, options[name])


def number(options: Options, name: str) -> float:
    """An option parsed with ``type=float`` that has a default or is required."""
    return cast(float, options[name])


def optional_integer(options: Options, name: str) -> int | None:
    """An option parsed with ``type=int`` and no default (None when not given)."""
    return cast("int | None", options[name])


def integers(options: Options, name: str) -> list[int] | None:
    """An option parsed with ``type=int, nargs="+"`` and no default (None when not given)."""
    return cast("list[int] | None", options[name])


def text(options: Options, name: str) -> str:
    """A string option that is required or has a string default."""
    return cast(str, options[name])


def optional_text(options: Options, name: str) -> str | None:
    """A string option with no default (None when not given)."""
    return cast("str | None", options[name])


def texts(options: Options, name: str) -> list[str]:
    """A string option with ``action="extend"`` (or ``nargs``) and a list default."""
    return cast("list[str]", options[name])


def flag(options: Options, name: str) -> bool:
    """An ``action="store_true"`` option."""
    return cast(bool, options[name])
