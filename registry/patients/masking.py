"""Masked forms of identity for county-level line lists (domain.md §12)."""

from __future__ import annotations

from registry.patients.idnumber import mask as mask_national_id

__all__ = ["mask_name", "mask_national_id", "mask_phone"]


def mask_name(name: str) -> str:
    """张*三 for three characters, 张* for two, 欧**华 for four; always hides all but the first and last."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    return "*" * max(len(phone) - 4, 0) + phone[-4:] if phone else ""
