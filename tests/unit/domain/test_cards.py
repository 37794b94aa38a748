"""Card numbers: one normal form, and new numbers that carry a Luhn check digit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.cards import CardNumberFormat, luhn_digit, normalise_card_number
from domain.errors import InvalidValue


def luhn_valid(number: str) -> bool:
    """The mod-10 test as card readers run it: double every second digit from the right."""
    total = 0
    for place, char in enumerate(reversed(number)):
        value = int(char) * (2 if place % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def test_the_check_digit_of_the_textbook_example() -> None:
    assert luhn_digit("7992739871") == "3"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("2 0000 0000 0001 8", "20000000000018"),
        ("lib-0042", "LIB0042"),
        ("  abcd  ", "ABCD"),
    ],
)
def test_separators_and_case_do_not_matter(typed: str, stored: str) -> None:
    assert normalise_card_number(typed) == stored


@pytest.mark.parametrize("bad", ["", "   ", "ABC", "A" * 33, "ab/cd", "caf\u00e9123", "12_34"])
def test_malformed_card_numbers_are_refused(bad: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        normalise_card_number(bad)
    assert refused.value.field == "card_number"


@given(serial=st.integers(min_value=0, max_value=10**12 - 1))
def test_every_new_number_passes_the_check_and_is_in_the_format(serial: int) -> None:
    number = CardNumberFormat().number(serial)
    assert len(number) == 14
    assert number.startswith("2")
    assert luhn_valid(number[1:])
    assert normalise_card_number(number) == number


@given(serial=st.integers(min_value=0, max_value=10**6 - 1), place=st.integers(0, 5))
def test_a_mistyped_digit_fails_the_check(serial: int, place: int) -> None:
    number = CardNumberFormat(prefix="", digits=6).number(serial)
    wrong = str((int(number[place]) + 1) % 10)
    assert not luhn_valid(number[:place] + wrong + number[place + 1 :])


def test_the_format_is_parsed_from_the_setting() -> None:
    parsed = CardNumberFormat.parse(" lib{8} ")
    assert parsed == CardNumberFormat(prefix="LIB", digits=8)
    assert str(parsed) == "LIB{8}"
    assert parsed.serials == 10**8
    assert parsed.number(42) == "LIB00000042" + luhn_digit("00000042")


@pytest.mark.parametrize("bad", ["LIB", "{5}", "LIB{16}", "TOOLONGPREFIX{8}", "L-B{8}", "2{x}"])
def test_malformed_formats_are_refused(bad: str) -> None:
    with pytest.raises(InvalidValue):
        CardNumberFormat.parse(bad)


def test_a_serial_must_fit_the_format() -> None:
    with pytest.raises(InvalidValue):
        CardNumberFormat(prefix="", digits=6).number(10**6)
