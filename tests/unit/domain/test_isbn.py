"""ISBN-13 validation, and ISBN-10 conversion."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidIsbn, InvalidValue
from domain.isbn import normalise_isbn

DIGITS = "0123456789"


def isbn10_check(body: str) -> str:
    value = (11 - sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11) % 11
    return "X" if value == 10 else str(value)


def isbn13_check(body: str) -> str:
    return str((10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9780306406157", "9780306406157"),
        ("978-0-306-40615-7", "9780306406157"),
        ("978 0 306 40615 7", "9780306406157"),
        ("  978-0306406157  ", "9780306406157"),
        ("9791090636071", "9791090636071"),
        ("979-10-90636-07-1", "9791090636071"),
        ("0306406152", "9780306406157"),
        ("0-306-40615-2", "9780306406157"),
        ("1-56619-909-3", "9781566199094"),
        ("080442957X", "9780804429573"),
        ("080442957x", "9780804429573"),
        ("0-8044-2957-X", "9780804429573"),
    ],
)
def test_valid_isbns_normalise_to_isbn13_digits(raw: str, expected: str) -> None:
    assert normalise_isbn(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "9780306406158",  # ISBN-13 check digit off by one
        "9780306406150",
        "0306406153",  # ISBN-10 check digit off by one
        "0306406150",
        "0804429579",  # should be X
        "030640615X",  # X where a digit belongs
    ],
)
def test_wrong_check_digit_is_refused(raw: str) -> None:
    with pytest.raises(InvalidIsbn, match="check digit"):
        normalise_isbn(raw)


@pytest.mark.parametrize(
    "raw",
    ["", "978", "978030640615", "97803064061577", "030640615", "03064061522", "---", "   "],
)
def test_wrong_length_is_refused(raw: str) -> None:
    with pytest.raises(InvalidIsbn, match="neither an ISBN-10 nor an ISBN-13"):
        normalise_isbn(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "978030640615X",  # X is never part of an ISBN-13
        "97803064O6157",  # letter O for zero
        "978.0306406157",  # dots are no separator: 14 characters, but also not digits
        "X306406152",  # X only as the ISBN-10 check digit
        "03064A6152",
        "0306406152\n",
    ],
)
def test_wrong_characters_are_refused(raw: str) -> None:
    with pytest.raises(InvalidIsbn):
        normalise_isbn(raw)


@pytest.mark.parametrize("prefix", ["977", "980", "000", "123"])
def test_isbn13_must_start_with_978_or_979(prefix: str) -> None:
    body = prefix + "030640615"
    raw = body + isbn13_check(body)
    with pytest.raises(InvalidIsbn, match="978 or 979"):
        normalise_isbn(raw)


def test_the_error_has_a_stable_code_and_names_the_field() -> None:
    with pytest.raises(InvalidIsbn) as refused:
        normalise_isbn("nonsense")
    assert refused.value.code == "INVALID_ISBN"
    assert refused.value.details == {"field": "isbn"}
    assert isinstance(refused.value, InvalidValue)


@pytest.mark.parametrize(
    "raw",
    [
        "978\u0660\u0663\u0660\u0666\u0664\u0660\u0666\u0661\u06657",  # Arabic-Indic digits
        "\u0660\u0663\u0660\u0666\u0664\u0660\u0666\u0661\u06652",
        "978\uff10\uff13\uff10\uff16\uff14\uff10\uff16\uff11\uff157",  # fullwidth digits
    ],
)
def test_non_ascii_digits_are_refused(raw: str) -> None:
    # Stored ISBNs are the 13 ASCII digits: anything else would dodge the uniqueness check.
    with pytest.raises(InvalidIsbn):
        normalise_isbn(raw)


@pytest.mark.parametrize("raw", ["97803064061\u00b27", "\u00b2306406152", "0306406\u00b952"])
def test_digit_like_symbols_are_refused_with_a_domain_error(raw: str) -> None:
    # "²".isdigit() is true, yet int("²") fails: that must not escape as a bare ValueError.
    with pytest.raises(InvalidIsbn):
        normalise_isbn(raw)


nine_digits = st.text(alphabet=DIGITS, min_size=9, max_size=9)


@given(nine_digits)
def test_isbn10_normalises_to_the_matching_isbn13(body: str) -> None:
    isbn10 = body + isbn10_check(body)
    isbn13 = "978" + body + isbn13_check("978" + body)
    assert normalise_isbn(isbn10) == isbn13
    assert normalise_isbn(isbn13) == isbn13
    hyphenated = f"{isbn13[:3]}-{isbn13[3]}-{isbn13[4:7]}-{isbn13[7:12]}-{isbn13[12]}"
    assert normalise_isbn(hyphenated) == isbn13


@given(nine_digits, st.integers(0, 9), st.integers(1, 9))
def test_changing_any_one_digit_of_an_isbn10_is_detected(
    body: str, position: int, shift: int
) -> None:
    isbn10 = body + isbn10_check(body)
    if position == 9 and isbn10[9] == "X":
        changed = isbn10[:9] + str(shift)
    else:
        digit = (int(isbn10[position]) + shift) % 10
        changed = isbn10[:position] + str(digit) + isbn10[position + 1 :]
    with pytest.raises(InvalidIsbn):
        normalise_isbn(changed)


@given(
    st.sampled_from(["978", "979"]),
    nine_digits,
    st.integers(0, 12),
    st.integers(1, 9),
)
def test_changing_any_one_digit_of_an_isbn13_is_detected(
    prefix: str, body: str, position: int, shift: int
) -> None:
    isbn13 = prefix + body + isbn13_check(prefix + body)
    assert normalise_isbn(isbn13) == isbn13
    digit = (int(isbn13[position]) + shift) % 10
    changed = isbn13[:position] + str(digit) + isbn13[position + 1 :]
    with pytest.raises(InvalidIsbn):
        normalise_isbn(changed)


@given(st.text(max_size=20))
def test_anything_accepted_is_thirteen_ascii_digits(raw: str) -> None:
    try:
        normalised = normalise_isbn(raw)
    except InvalidIsbn:
        return
    assert len(normalised) == 13
    assert all(c in DIGITS for c in normalised)
    assert normalised[:3] in {"978", "979"}
    assert normalised[12] == isbn13_check(normalised[:12])
    assert normalise_isbn(normalised) == normalised
