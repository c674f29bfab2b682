from __future__ import annotations

import datetime as dt
import random

import pytest

from devdata.identities import synthetic_national_id
from registry.patients import idnumber, masking

VALID = "11010519491231002X"  # the check digit example of GB 11643 (a published test number, not a person)


def test_published_example_validates() -> None:
    assert idnumber.validate(VALID.lower()) == VALID
    assert idnumber.birth_date_of(VALID) == dt.date(1949, 12, 31)
    assert idnumber.sex_of(VALID) == 2


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("11010519491231002", "shape"),
        ("1101051949123100XX", "shape"),
        ("110105194912310021", "check_digit"),
        ("110105194913310023", "birth_date"),
        ("110105299912310024", "birth_date"),
    ],
)
def test_invalid_numbers_name_the_problem(value: str, code: str) -> None:
    with pytest.raises(idnumber.IdNumberError) as error:
        idnumber.validate(value, today=dt.date(2026, 11, 23))
    assert str(error.value) == code


def test_synthetic_numbers_are_valid_and_agree_with_birth_date_and_sex() -> None:
    rng = random.Random(1)
    for sex in (1, 2):
        number = synthetic_national_id(rng, "320508", dt.date(1990, 2, 28), sex)
        assert idnumber.validate(number) == number
        assert idnumber.sex_of(number) == sex
        assert idnumber.birth_date_of(number) == dt.date(1990, 2, 28)


def test_masks() -> None:
    assert idnumber.mask("32050819800517123X") == "3205**********123X"
    assert masking.mask_name("张三丰") == "张*丰"
    assert masking.mask_name("张三") == "张*"
    assert masking.mask_name("欧阳明华") == "欧**华"
    assert masking.mask_phone("13812345678") == "*******5678"
