"""Filters, sorting and paging for the list use cases."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from math import ceil
from typing import Any, Generic, TypeVar, cast

from domain.catalogue import Book
from domain.errors import InvalidValue
from domain.holds import Hold, HoldStatus
from domain.loans import Loan, LoanState
from domain.members import Member, MemberStatus, Role

T = TypeVar("T")
U = TypeVar("U")

MAX_PER_PAGE = 100

# A value of a sort key: what a cursor remembers of the last item of the page before.
CursorValue = str | int | datetime | None


@dataclass(frozen=True, slots=True)
class Cursor:
    """A place in a sorted list, just after the item whose sort key was ``key`` (its id last).

    Paging by cursor (keyset paging) asks for "the items after this key", which an index on the
    sort order answers by seeking, at the same cost on page 2 and on page 50,000; an offset
    makes the database walk past every item before the page. ``order`` names the list and sort
    order the key belongs to, so a cursor is never applied to another one; ``page`` is the
    number of the page the cursor starts (the page before it, plus one), so a page reached by
    cursor still says where it is.

    Cursors travel as opaque text (``encode`` / ``decode``). They are not secret and need no
    signature: a forged one can only start a page somewhere else in the same list.
    """

    order: str
    key: tuple[CursorValue, ...]
    page: int

    def encode(self) -> str:
        values = [{"at": v.isoformat()} if isinstance(v, datetime) else v for v in self.key]
        text = json.dumps([self.order, values, self.page], separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor ``encode`` wrote; ``InvalidValue`` (field ``after``) for anything else."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            order, values, page = json.loads(raw)
            key = tuple(_cursor_value(value) for value in values)
        except (binascii.Error, UnicodeDecodeError, TypeError, ValueError):
            raise InvalidValue("after", "the cursor is not one this API made") from None
        if not isinstance(order, str) or type(page) is not int or page < 2:
            raise InvalidValue("after", "the cursor is not one this API made")
        return cls(order, key, page)

    def key_for(self, order: str, *kinds: type | tuple[type, ...]) -> tuple[CursorValue, ...]:
        """The key, checked to belong to ``order`` and to hold one value of each of ``kinds``
        (``None`` allowed where ``type(None)`` is among them)."""
        if self.order != order or len(self.key) != len(kinds):
            raise InvalidValue("after", "the cursor belongs to another list or sort order")
        for value, kind in zip(self.key, kinds, strict=True):
            # bool is an int to isinstance, never a sort key here.
            if isinstance(value, bool) or not isinstance(value, kind):
                raise InvalidValue("after", "the cursor belongs to another list or sort order")
        return self.key


def _cursor_value(value: Any) -> CursorValue:
    if isinstance(value, dict) and set(value) == {"at"} and isinstance(value["at"], str):
        moment = datetime.fromisoformat(value["at"])
        if moment.tzinfo is None:
            raise ValueError("a cursor's time is in UTC")
        return moment
    if value is None or (isinstance(value, str) and "\x00" not in value):
        return value
    if type(value) is int and -(2**63) <= value < 2**63:  # what every database binds
        return value
    raise ValueError("not a sort key value")


def follows(
    key: tuple[CursorValue, ...],
    after: tuple[CursorValue, ...],
    *,
    descending: bool,
    nulls_last: bool = False,
) -> bool:
    """Whether an item whose sort key is ``key`` comes after ``after`` in a list sorted by
    ``(value, id)`` (both ascending or both descending; with ``nulls_last``, items without a
    value come last in either direction, by id). The rule every adapter's keyset follows."""
    (value, item_id), (mark, mark_id) = key, after
    later_id = item_id < mark_id if descending else item_id > mark_id  # type: ignore[operator]
    if nulls_last and (value is None or mark is None):
        if mark is None:
            return value is None and later_id
        return value is None
    if value == mark:
        return later_id
    return value < mark if descending else value > mark  # type: ignore[operator]


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A page by number, or (``after``) the page that starts at a cursor; ``page`` is then the
    cursor's page number, which places it (for the total and the links) but is not an offset
    that any adapter walks."""

    page: int = 1
    per_page: int = 20
    after: Cursor | None = None

    def __post_init__(self) -> None:
        if self.page < 1:
            raise InvalidValue("page", "page starts at 1")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidValue("per_page", f"per_page must be between 1 and {MAX_PER_PAGE}")

    @classmethod
    def starting_at(cls, cursor: Cursor, per_page: int) -> PageRequest:
        return cls(page=cursor.page, per_page=per_page, after=cursor)

    @property
    def offset(self) -> int:
        """Items before this page (for a cursor, as far as its page number tells)."""
        return (self.page - 1) * self.per_page

    @property
    def skip(self) -> int:
        """Items to skip to reach the page: none after a cursor, the offset otherwise."""
        return 0 if self.after is not None else self.offset


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list. ``total`` is the number of matching items when ``total_exact``;
    otherwise a lower bound (at least that many match), which an adapter reports when counting
    every match would cost more than the page itself. A bound always reaches past this page
    when more items follow it, so ``has_next`` holds either way."""

    items: Sequence[T]
    total: int
    page: int
    per_page: int
    total_exact: bool = True
    # Where the next page starts, for lists that page by cursor too (``None`` on the last page).
    next_cursor: Cursor | None = None

    @property
    def pages(self) -> int:
        """The number of pages (when ``total_exact``; else the pages known to exist)."""
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total

    def with_items(self, items: Sequence[U]) -> Page[U]:
        """This page with its items replaced one for one (by their read models, say)."""
        page: Page[Any] = replace(cast("Page[Any]", self), items=items)
        return page


class ListOrder(Generic[T]):
    """The one sort order of a list that pages by cursor too: newest or oldest first by a
    moment (``at``, the items' creation or queueing time), then by id; or by id alone (``at``
    ``None``: ids made by the application grow with time). Every adapter sorts that list so,
    with an index on it, and a cursor carries the last item's key under this order's ``name``,
    so that a cursor of another list is refused rather than applied."""

    __slots__ = ("_at", "descending", "name")

    def __init__(
        self, name: str, *, descending: bool, at: Callable[[T], datetime] | None = None
    ) -> None:
        self.name, self.descending, self._at = name, descending, at

    def key(self, item: T) -> tuple[CursorValue, ...]:
        item_id: str = getattr(item, "id")  # noqa: B009 (every listed item has one)
        return (item_id,) if self._at is None else (self._at(item), item_id)

    def after(self, page: PageRequest) -> tuple[CursorValue, ...] | None:
        """The key the page starts after, checked to be of this list; ``None`` by number."""
        if page.after is None:
            return None
        kinds: tuple[type, ...] = (str,) if self._at is None else (datetime, str)
        return page.after.key_for(self.name, *kinds)

    def follows(self, item: T, after: tuple[CursorValue, ...]) -> bool:
        """Whether ``item`` comes after the key ``after`` in this order (the in-memory
        adapters' keyset; SQL says the same with ``adapters.sqlalchemy``'s ``keyset``)."""
        key = self.key(item)
        if self._at is None:
            return key < after if self.descending else key > after
        return follows(key, after, descending=self.descending)

    def cursor_after(self, page: Page[T]) -> Cursor | None:
        """The cursor of the page after ``page``, if there is one."""
        if not page.has_next or not page.items:
            return None
        return Cursor(self.name, self.key(page.items[-1]), page.page + 1)

    def paged(self, page: Page[T]) -> Page[T]:
        """``page`` with the cursor of the page after it."""
        return replace(page, next_cursor=self.cursor_after(page))


# The lists of the library's records, each in its one order (with an index on it in SQL).
MEMBER_ORDER: ListOrder[Member] = ListOrder(
    "members:created_at", descending=False, at=lambda member: member.created_at
)
LOAN_ORDER: ListOrder[Loan] = ListOrder(
    "loans:-loaned_at", descending=True, at=lambda loan: loan.loaned_at
)
HOLD_ORDER: ListOrder[Hold] = ListOrder(
    "holds:queued_at", descending=False, at=lambda hold: hold.queue_key[0]
)


class BookSort(StrEnum):
    TITLE = "title"
    TITLE_DESC = "-title"
    YEAR = "year"
    YEAR_DESC = "-year"
    CREATED = "created_at"
    CREATED_DESC = "-created_at"

    @property
    def field(self) -> str:
        return self.value.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")

    @property
    def nulls_last(self) -> bool:
        """Books without a year come last in either direction."""
        return self.field == "year"

    @property
    def order(self) -> str:
        """The name cursors of this order carry."""
        return f"books:{self.value}"

    def key(self, book: Book) -> tuple[CursorValue, str]:
        """``book``'s place in this order: the sort value (titles compare case-folded, by code
        point), then the id that breaks ties."""
        value: CursorValue = {
            "title": book.title.casefold(),
            "year": book.year,
            "created_at": book.created_at,
        }[self.field]
        return value, book.id

    def after(self, page: PageRequest) -> tuple[CursorValue, str] | None:
        """The key the page starts after, checked to be of this order; ``None`` by number."""
        if page.after is None:
            return None
        kinds: tuple[type, ...] = {
            "title": (str,),
            "year": (int, type(None)),
            "created_at": (datetime,),
        }[self.field]
        value, book_id = page.after.key_for(self.order, kinds, str)
        return value, str(book_id)

    def cursor_after(self, page: Page[Book]) -> Cursor | None:
        """The cursor of the page after ``page``, if there is one."""
        if not page.has_next or not page.items:
            return None
        return Cursor(self.order, self.key(page.items[-1]), page.page + 1)


# A word, for search: a run of letters and digits (any script); anything else separates words.
_WORD = re.compile(r"[^\W_]+")


def search_words(text: str) -> list[str]:
    """The words of ``text`` as book search compares them: case-folded, in order.

    The one definition both sides of a search use: the words stored for a book's title and
    authors, and the words of a query."""
    return _WORD.findall(text.casefold())


def name_phrases(name: str) -> list[str]:
    """What an ``author`` filter can match in one author's ``name``: its words from each word
    to the end, joined by single spaces ("ursula k le guin", "k le guin", "le guin", "guin")."""
    words = search_words(name)
    return [" ".join(words[start:]) for start in range(len(words))]


def matches_book(book: Book, words: Sequence[str], author: str | None) -> bool:
    """Whether ``book`` matches a search (``BookFilter.words`` and ``BookFilter.author_phrase``).

    Each of ``words`` must begin a word of the title or of an author; ``author`` must begin one
    of an author's ``name_phrases``: its words are consecutive words of that name, each whole
    but the last, which may begin one. A database answers the same question from an index of
    those words and phrases."""
    if words:
        known = {w for text in (book.title, *book.authors) for w in search_words(text)}
        if not all(any(w.startswith(word) for w in known) for word in words):
            return False
    if author is None:
        return True
    return bool(author) and any(
        phrase.startswith(author) for name in book.authors for phrase in name_phrases(name)
    )


@dataclass(frozen=True, slots=True)
class BookFilter:
    """``q``: each of its words begins a word of the title or of an author; ``author``: its
    words begin consecutive words of one author's name (see ``matches_book``)."""

    q: str | None = None
    author: str | None = None
    isbn: str | None = None
    available: bool | None = None
    sort: BookSort = BookSort.TITLE

    @property
    def words(self) -> list[str]:
        """The distinct words of ``q``, longest first (a longer word is usually rarer); none
        when ``q`` has no letter or digit, which then filters nothing, as a blank ``q``."""
        found = search_words(self.q) if self.q else []
        return sorted(set(found), key=lambda word: (-len(word), word))

    @property
    def author_phrase(self) -> str | None:
        """``author``'s words joined by single spaces; ``""`` (which no name matches) when it
        has no letter or digit; ``None`` without ``author``."""
        return " ".join(search_words(self.author)) if self.author else None


@dataclass(frozen=True, slots=True)
class LoanFilter:
    member_id: str | None = None
    book_id: str | None = None
    copy_id: str | None = None
    barcode: str | None = None  # the copy by its barcode (the use case resolves it)
    state: LoanState | None = None


@dataclass(frozen=True, slots=True)
class HoldFilter:
    member_id: str | None = None
    book_id: str | None = None
    status: HoldStatus | None = None


@dataclass(frozen=True, slots=True)
class MemberFilter:
    """``q`` matches name or email; ``card_number`` (normalised) one card exactly."""

    q: str | None = None
    card_number: str | None = None
    role: Role | None = None
    status: MemberStatus | None = None
