"""Joining translated items for display in the active language.

Chinese separates list items with 、 and clauses with ；, English with a comma and a semicolon. The separators
go through the translation catalogue so that an English page never shows Chinese punctuation.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import pgettext


def enumeration(items: Iterable[object]) -> str:
    """Items of one list: 甲、乙、丙 / a, b, c."""
    return pgettext("list item separator", "、").join(str(item) for item in items)


def clauses(items: Iterable[object]) -> str:
    """Independent statements: 甲；乙 / a; b."""
    return pgettext("clause separator", "；").join(str(item) for item in items)
