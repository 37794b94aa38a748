"""The words pages use for refusals and amounts."""

from __future__ import annotations

import pytest

from domain import errors
from domain.errors import CopyNotAvailable, DomainError, InvalidValue, LoanLimitReached
from entrypoints.web.formatting import amount, parse_amount
from entrypoints.web.wording import WORDS, describe


def _codes(cls: type[DomainError]) -> set[str]:
    found = {cls.code}
    for sub in cls.__subclasses__():
        found |= _codes(sub)
    return found


def test_every_worded_code_is_a_code_the_domain_raises() -> None:
    assert set(WORDS) <= _codes(errors.DomainError)


def test_a_refusal_is_said_in_words_and_falls_back_to_a_sentence() -> None:
    assert describe(LoanLimitReached("member has 5 open loans")) == (
        "This member already has as many items out as they may."
    )
    on_loan = CopyNotAvailable("copy C-1 is on_loan", status="on_loan")
    assert describe(on_loan) == "This item is already on loan; check it in first."
    assert describe(InvalidValue("amount", "enter an amount such as 2.50")) == (
        "Enter an amount such as 2.50."
    )


@pytest.mark.parametrize(
    ("typed", "cents"), [("2.50", 250), ("2,5", 250), ("12", 1200), (" 0.05 ", 5)]
)
def test_amounts_typed_at_the_desk_are_read_in_cents(typed: str, cents: int) -> None:
    assert parse_amount(typed) == cents
    assert parse_amount(amount(cents)) == cents


@pytest.mark.parametrize("typed", ["", "0", "0.00", "-1", "1.234", "two", "1e3", "12345678"])
def test_anything_else_is_refused(typed: str) -> None:
    with pytest.raises(InvalidValue):
        parse_amount(typed)


def test_amounts_are_written_with_two_decimals() -> None:
    assert amount(1250) == "12.50"
    assert amount(5) == "0.05"
    assert amount(-75) == "-0.75"
