"""ISBN-13 validation, with ISBN-10 accepted and converted."""

from __future__ import annotations

import re

from domain.errors import InvalidIsbn

_SEPARATORS = str.maketrans("", "", " -")
# str.isdigit() accepts any Unicode digit (fullwidth, Arabic-Indic, superscripts); ISBNs are ASCII.
_ISBN13 = re.compile(r"[0-9]{13}")
_ISBN10 = re.compile(r"[0-9]{9}[0-9X]")


def normalise_isbn(raw: str) -> str:
    """Return the ISBN-13 digits for ``raw`` (ISBN-10 or ISBN-13, hyphens and spaces allowed).

    Raises ``InvalidIsbn`` when the length, the characters or the check digit are wrong.
    """
    candidate = raw.translate(_SEPARATORS).upper()
    if len(candidate) == 13:
        if not _ISBN13.fullmatch(candidate):
            raise InvalidIsbn(f"ISBN-13 {raw!r} may contain digits only")
        if _isbn13_check_digit(candidate[:12]) != candidate[12]:
            raise InvalidIsbn(f"ISBN-13 {raw!r} has a wrong check digit")
        if not candidate.startswith(("978", "979")):
            raise InvalidIsbn(f"ISBN-13 {raw!r} must start with 978 or 979")
        return candidate
    if len(candidate) == 10:
        body, check = candidate[:9], candidate[9]
        if not _ISBN10.fullmatch(candidate):
            raise InvalidIsbn(f"ISBN-10 {raw!r} may contain digits and a final X only")
        if _isbn10_check_digit(body) != check:
            raise InvalidIsbn(f"ISBN-10 {raw!r} has a wrong check digit")
        converted = "978" + body
        return converted + _isbn13_check_digit(converted)
    raise InvalidIsbn(f"{raw!r} is neither an ISBN-10 nor an ISBN-13")


def _isbn13_check_digit(first_twelve: str) -> str:
    # Weights 1, 3, 1, 3, ... over ASCII digits (checked before this is called): the sums of
    # the code points, less the code point of "0" (48) once per weight unit (6 * 1 + 6 * 3).
    codes = first_twelve.encode("ascii")
    total = sum(codes[0::2]) + 3 * sum(codes[1::2]) - 48 * 24
    return str((10 - total % 10) % 10)


def _isbn10_check_digit(first_nine: str) -> str:
    total = sum(int(d) * (10 - i) for i, d in enumerate(first_nine))
    value = (11 - total % 11) % 11
    return "X" if value == 10 else str(value)
