"""Filters, sorting and paging for the list use cases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from math import ceil
from typing import Any, Generic, TypeVar, cast

from domain.errors import InvalidValue
from domain.holds import HoldStatus
from domain.loans import LoanState
from domain.members import MemberStatus, Role

T = TypeVar("T")
U = TypeVar("U")

MAX_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int = 1
    per_page: int = 20

    def __post_init__(self) -> None:
        if self.page < 1:
            raise InvalidValue("page", "page starts at 1")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidValue("per_page", f"per_page must be between 1 and {MAX_PER_PAGE}")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


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


@dataclass(frozen=True, slots=True)
class BookFilter:
    """``q`` matches every word against title and authors; ``author`` one author's name."""

    q: str | None = None
    author: str | None = None
    isbn: str | None = None
    available: bool | None = None
    sort: BookSort = BookSort.TITLE

    @property
    def words(self) -> list[str]:
        return self.q.casefold().split() if self.q else []


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
