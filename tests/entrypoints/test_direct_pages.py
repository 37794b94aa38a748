"""Pages written straight from domain objects (``entrypoints/schemas/direct.py``): byte for byte
what their response models write, and an error, never a guess, for anything else."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError

from domain.catalogue import Book
from entrypoints.schemas.books import BOOK_PAGE, BookOut, BookPage, CopyOut
from entrypoints.schemas.direct import DirectPage

text = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
# Hypothesis takes naive bounds and attaches the zone to what it draws.
moments = st.datetimes(
    min_value=datetime(1970, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
books = st.builds(
    Book,
    id=text,
    isbn=st.from_regex(r"97[89][0-9]{10}", fullmatch=True),
    title=text,
    authors=st.lists(text, max_size=4).map(tuple),
    publisher=st.none() | text,
    year=st.none() | st.integers(0, 2100),
    subjects=st.lists(text, max_size=4).map(tuple),
    created_at=moments,
    updated_at=moments,
    item_type=text,
    version=st.integers(1, 10**9),
)


def _paging(total: int, cursor: str | None) -> dict[str, Any]:
    return {"page": 2, "per_page": 20, "total": total, "total_exact": True, "next_cursor": cursor}


@given(
    items=st.lists(books, max_size=5),
    total=st.integers(0, 10**6),
    cursor=st.none() | text,
)
def test_a_page_of_books_is_what_its_model_writes(
    items: list[Book], total: int, cursor: str | None
) -> None:
    paging = _paging(total, cursor)
    expected = BookPage.model_construct(
        items=[BookOut.of(book) for book in items], **paging
    ).model_dump_json()

    assert BOOK_PAGE.to_json({"items": items, **paging}) == expected.encode()


def test_an_item_of_another_kind_is_an_error() -> None:
    with pytest.raises(PydanticSerializationError):
        BOOK_PAGE.to_json({"items": [{"id": "a dict, not a book"}], **_paging(1, None)})


def test_a_model_needs_every_field_on_the_domain_object() -> None:
    class CopyPage(BaseModel):
        items: list[CopyOut]

    with pytest.raises(TypeError, match="barcode"):
        DirectPage(CopyPage, CopyOut, Book)


def test_the_page_model_must_list_the_item_model() -> None:
    with pytest.raises(TypeError, match="not a list of CopyOut"):
        DirectPage(BookPage, CopyOut, Book)
