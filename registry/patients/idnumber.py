"""The 18-character national ID number (居民身份证号码, GB 11643): check digit, birth date, sex."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
SHAPE = re.compile(r"^\d{17}[\dX]$")


class IdNumberError(ValueError):
    """Raised with a short machine code: 'shape', 'check_digit', 'birth_date'."""


def normalize(value: str) -> str:
    return value.strip().replace(" ", "").upper()


def check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def birth_date_of(number: str) -> dt.date:
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise IdNumberError("birth_date") from exc


def sex_of(number: str) -> int:
    """1 male, 2 female (GB/T 2261.1), from the parity of the 17th digit."""
    return 1 if int(number[16]) % 2 else 2


def validate(value: str, today: dt.date | None = None) -> str:
    """Return the normalized number, or raise IdNumberError naming what is wrong."""
    number = normalize(value)
    if not SHAPE.match(number):
        raise IdNumberError("shape")
    born = birth_date_of(number)
    if born > (today or timezone.localdate()) or born.year < 1900:
        raise IdNumberError("birth_date")
    if check_digit(number[:17]) != number[17]:
        raise IdNumberError("check_digit")
    return number


def mask(number: str) -> str:
    """3205**********123X: the first four and the last four characters."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
