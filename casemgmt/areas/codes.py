"""Pure functions over 12-digit statistical division codes (统计用区划代码), domain.md §3.

digits 1-2 province | 3-4 city | 5-6 county | 7-9 township | 10-12 village
"""

from __future__ import annotations

import re

PROVINCE, CITY, COUNTY, TOWNSHIP, VILLAGE = 1, 2, 3, 4, 5
LEVEL_DIGITS = {PROVINCE: 2, CITY: 4, COUNTY: 6, TOWNSHIP: 9, VILLAGE: 12}
# [0-9], not \d (which takes full-width and other Unicode digits), and \Z, not $ (which allows a trailing newline).
CODE_PATTERN = re.compile(r"\A[0-9]{12}\Z")


class AreaCodeError(ValueError):
    pass


def is_valid_code(code: str) -> bool:
    return bool(CODE_PATTERN.match(code)) and code[:2] != "00"


def level_of(code: str) -> int:
    """The level a code denotes, read from its trailing zero segments."""
    if not is_valid_code(code):
        raise AreaCodeError(code)
    for level in (PROVINCE, CITY, COUNTY, TOWNSHIP):
        if set(code[LEVEL_DIGITS[level] :]) == {"0"}:
            return level
    return VILLAGE


def significant_prefix(code: str) -> str:
    """The prefix every descendant's code starts with (``320508000000`` -> ``320508``)."""
    return code[: LEVEL_DIGITS[level_of(code)]]


def code_from_prefix(prefix: str) -> str:
    """Expand a significant prefix of 2, 4, 6, 9 or 12 digits to the full code."""
    if not re.fullmatch(r"[0-9]+", prefix) or len(prefix) not in LEVEL_DIGITS.values():
        raise AreaCodeError(prefix)
    code = prefix.ljust(12, "0")
    if not is_valid_code(code):
        raise AreaCodeError(prefix)
    return code


def parent_code(code: str) -> str | None:
    level = level_of(code)
    if level == PROVINCE:
        return None
    # A zero segment above (a county directly under a province) simply yields the next ancestor up.
    return code[: LEVEL_DIGITS[level - 1]].ljust(12, "0")


def ancestor_codes(code: str) -> list[str]:
    """Ancestors from the nearest upwards: 320508019044 -> [320508019000, 320508000000, 320500000000, 320000000000]."""
    result: list[str] = []
    current = parent_code(code)
    while current is not None:
        result.append(current)
        current = parent_code(current)
    return result


def is_within(code: str, area_code: str) -> bool:
    """Whether *code* lies in the subtree of *area_code* (itself included)."""
    return code.startswith(significant_prefix(area_code))
