"""Library card numbers: what a member's card says, and how new cards are numbered.

A card number is what the desk scans to name a member, so it is stored in one normal form:
upper case letters and digits only. People and scanners add spaces and hyphens ("2 0001
0000 0013", "lib-0042"); those are dropped, so the same card typed either way is the same card.

New cards are numbered in the library's format: a fixed prefix, then a serial of fixed width,
then a check digit (Luhn, mod 10, over the serial) that catches a mistyped digit or two swapped
neighbours before the lookup does. Numbers given at registration (cards printed by a previous
system) are taken as printed: only normalised and bounds-checked, never re-checked for a digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import InvalidValue

MIN_CARD_NUMBER = 4
MAX_CARD_NUMBER = 32
_SEPARATORS = re.compile(r"[\s-]+")
_CARD_NUMBER = re.compile(rf"^[A-Z0-9]{{{MIN_CARD_NUMBER},{MAX_CARD_NUMBER}}}$")

MAX_PREFIX = 8
MIN_SERIAL_DIGITS = 6  # fewer leaves so few free numbers that drawing one keeps colliding
MAX_SERIAL_DIGITS = 15
_FORMAT = re.compile(r"^(?P<prefix>[A-Za-z0-9]*)\{(?P<digits>\d{1,2})\}$")
DEFAULT_CARD_NUMBER_FORMAT = "2{12}"  # the classic 14-digit library card: 2, 12 digits, check


def normalise_card_number(card_number: str) -> str:
    """The stored form: separators dropped, upper case; refused when empty, too long or not
    made of letters and digits."""
    cleaned = _SEPARATORS.sub("", card_number).upper()
    if not _CARD_NUMBER.match(cleaned):
        raise InvalidValue(
            "card_number",
            f"card number must be {MIN_CARD_NUMBER}-{MAX_CARD_NUMBER} letters or digits "
            f"(spaces and hyphens are ignored), not {card_number!r}",
        )
    return cleaned


def luhn_digit(digits: str) -> str:
    """The Luhn check digit for ``digits``: appended, the whole passes the mod-10 test."""
    total = 0
    # From the right, every other digit (starting with the last) is doubled: once the check
    # digit is appended, those are exactly the digits in the even places the test doubles.
    for place, char in enumerate(reversed(digits)):
        value = int(char)
        if place % 2 == 0:
            value *= 2
            value = value - 9 if value > 9 else value
        total += value
    return str((10 - total % 10) % 10)


@dataclass(frozen=True, slots=True)
class CardNumberFormat:
    """``prefix`` + a serial of ``digits`` digits + a Luhn check digit over the serial."""

    prefix: str = "2"
    digits: int = 12

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z0-9]*", self.prefix) or len(self.prefix) > MAX_PREFIX:
            raise InvalidValue(
                "card_number_format", f"the prefix is 0-{MAX_PREFIX} letters or digits"
            )
        if not MIN_SERIAL_DIGITS <= self.digits <= MAX_SERIAL_DIGITS:
            raise InvalidValue(
                "card_number_format",
                f"the serial is {MIN_SERIAL_DIGITS}-{MAX_SERIAL_DIGITS} digits",
            )

    @classmethod
    def parse(cls, text: str) -> CardNumberFormat:
        """``PREFIX{N}``: e.g. ``2{12}`` (the default) or ``LIB{8}``."""
        match = _FORMAT.match(text.strip())
        if match is None:
            raise InvalidValue(
                "card_number_format",
                f"card number format is PREFIX{{DIGITS}}, e.g. {DEFAULT_CARD_NUMBER_FORMAT}; "
                f"not {text!r}",
            )
        return cls(prefix=match["prefix"].upper(), digits=int(match["digits"]))

    @property
    def serials(self) -> int:
        """How many serials there are: a serial is drawn from ``range(serials)``."""
        return int(10**self.digits)

    def number(self, serial: int) -> str:
        """The card number of ``serial`` (0 <= serial < ``serials``)."""
        if not 0 <= serial < self.serials:
            raise InvalidValue("card_number", f"serial {serial} does not fit {self.digits} digits")
        body = f"{serial:0{self.digits}d}"
        return f"{self.prefix}{body}{luhn_digit(body)}"

    def __str__(self) -> str:
        return f"{self.prefix}{{{self.digits}}}"
