"""A list's one order (``ListOrder``): its keyset says what follows a cursor, and its cursors
are refused by any other list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.queries import Cursor, ListOrder, Page, PageRequest
from domain.errors import InvalidValue

T0 = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    id: str
    at: datetime


OLDEST_FIRST: ListOrder[Item] = ListOrder("items:at", descending=False, at=lambda i: i.at)
NEWEST_FIRST: ListOrder[Item] = ListOrder("items:-at", descending=True, at=lambda i: i.at)
BY_ID_NEWEST: ListOrder[Item] = ListOrder("items:-id", descending=True)

items = st.lists(
    st.builds(
        Item,
        id=st.text(alphabet="0123456789abcdef", min_size=4, max_size=4),
        at=st.integers(0, 5).map(lambda n: T0 + timedelta(minutes=n)),  # many ties
    ),
    min_size=1,
    max_size=30,
    unique_by=lambda i: i.id,
)


@given(items)
def test_what_follows_a_cursor_is_the_rest_of_the_sorted_list(found: list[Item]) -> None:
    sorts = {
        OLDEST_FIRST: sorted(found, key=lambda i: (i.at, i.id)),
        NEWEST_FIRST: sorted(found, key=lambda i: (i.at, i.id), reverse=True),
        BY_ID_NEWEST: sorted(found, key=lambda i: i.id, reverse=True),
    }
    for order, listed in sorts.items():
        for place, mark in enumerate(listed):
            after = order.key(mark)
            assert [i for i in listed if order.follows(i, after)] == listed[place + 1 :]


def test_a_page_gets_the_cursor_of_the_next_only_while_one_follows() -> None:
    first, second = Item("a", T0), Item("b", T0)
    more = Page(items=[first, second], total=3, page=1, per_page=2)
    last = Page(items=[first, second], total=2, page=1, per_page=2)

    cursor = OLDEST_FIRST.cursor_after(more)

    assert cursor == Cursor("items:at", (T0, "b"), 2)
    assert OLDEST_FIRST.paged(last).next_cursor is None
    assert OLDEST_FIRST.after(PageRequest.starting_at(Cursor.decode(cursor.encode()), 2)) == (
        T0,
        "b",
    )


@pytest.mark.parametrize(
    "cursor",
    [
        Cursor("items:-at", (T0, "b"), 2),  # another list's
        Cursor("items:at", ("b",), 2),  # a key of another shape
        Cursor("items:at", ("2030-01-01", "b"), 2),  # a time that is not one
    ],
)
def test_a_cursor_of_another_list_or_shape_is_refused(cursor: Cursor) -> None:
    with pytest.raises(InvalidValue) as refused:
        OLDEST_FIRST.after(PageRequest.starting_at(cursor, 2))

    assert refused.value.field == "after"
