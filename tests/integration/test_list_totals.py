"""A page's total is counted only so far past the page; reads take no write lock on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import Engine, event

from adapters.ids import UuidV7Generator
from adapters.sqlalchemy import repositories
from adapters.sqlalchemy.audit import SqlAuditLog
from adapters.sqlalchemy.engine import create_engine_for, session_factory
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.audit import AuditFilter, AuditTrail
from application.queries import BookFilter, BookSort, Page, PageRequest
from domain.catalogue import Book
from domain.events import BookLent
from entrypoints.http.responses.pagination import link_header
from tests.databases import empty_tables

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
ids = UuidV7Generator()


def isbn13(body: int) -> str:
    digits = f"978{body:09d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    url: str = request.getfixturevalue(f"migrated_{request.param}_url")
    engine = create_engine_for(url)
    empty_tables(engine)
    yield engine
    engine.dispose()


def _add_books(engine: Engine, count: int) -> None:
    with SqlUnitOfWork(session_factory(engine)) as uow:
        for n in range(count):
            uow.books.add(
                Book.create(id=f"b{n:02d}", isbn=isbn13(n), title=f"Book {n:02d}", now=NOW)
            )
        uow.commit()


def _search(engine: Engine, page: PageRequest, query: BookFilter | None = None) -> Page[Book]:
    with SqlUnitOfWork(session_factory(engine)) as uow:
        return uow.books.search(query or BookFilter(), page)


def test_a_long_list_reports_a_lower_bound_past_the_page(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In any order but by title (whose pages are counted by blocks, test_title_blocks)."""
    monkeypatch.setattr(repositories, "PAGES_COUNTED_AHEAD", 2)  # four items past a page of 2
    _add_books(engine, 10)
    by_age = BookFilter(sort=BookSort.CREATED)  # all added at NOW: in id order, as by title

    first = _search(engine, PageRequest(page=1, per_page=2), by_age)
    second = _search(engine, PageRequest(page=2, per_page=2), by_age)
    near_end = _search(engine, PageRequest(page=4, per_page=2), by_age)
    last = _search(engine, PageRequest(page=5, per_page=2), by_age)
    beyond = _search(engine, PageRequest(page=7, per_page=2), by_age)
    filtered = _search(engine, PageRequest(page=1, per_page=2), BookFilter(q="book 0"))

    assert [b.title for b in first.items] == ["Book 00", "Book 01"]
    assert (first.total, first.total_exact, first.has_next) == (6, False, True)
    assert (second.total, second.total_exact, second.has_next) == (8, False, True)
    # From as far in as the count reaches past a page (four items), a page is not counted
    # ahead: the items to its end and one more while another page follows; exact on the last
    # page, and counted past the end.
    assert [b.title for b in near_end.items] == ["Book 06", "Book 07"]
    assert (near_end.total, near_end.total_exact, near_end.has_next) == (9, False, True)
    assert [b.title for b in last.items] == ["Book 08", "Book 09"]
    assert (last.total, last.total_exact, last.has_next) == (10, True, False)
    assert (beyond.items, beyond.total, beyond.total_exact) == ([], 10, True)
    # Ten books hold "book" and a word beginning with "0" (00 to 09): more than the page and
    # four more, a lower bound as for any list (read from the word index in title order).
    assert (filtered.total, filtered.total_exact) == (6, False)
    assert [b.title for b in filtered.items] == ["Book 00", "Book 01"]


def test_a_short_list_is_counted_exactly(engine: Engine) -> None:
    _add_books(engine, 3)

    page = _search(engine, PageRequest(page=1, per_page=2))

    assert (page.total, page.total_exact, page.has_next) == (3, True, True)


def test_a_page_with_no_row_is_counted_apart(engine: Engine) -> None:
    """A page's count comes with its rows: a page with none is counted on its own, or is
    nothing to count when it starts at the beginning."""
    empty = _search(engine, PageRequest(page=1, per_page=2))
    _add_books(engine, 3)
    past = _search(engine, PageRequest(page=3, per_page=2))
    none_on_shelf = _search(engine, PageRequest(page=1, per_page=2), BookFilter(available=True))

    assert (empty.items, empty.total, empty.total_exact) == ([], 0, True)
    assert (past.items, past.total, past.total_exact, past.has_next) == ([], 3, True, False)
    assert (none_on_shelf.items, none_on_shelf.total, none_on_shelf.total_exact) == ([], 0, True)


def test_a_search_on_sqlite_does_not_wait_for_a_writer(migrated_sqlite_url: str) -> None:
    engine = create_engine_for(migrated_sqlite_url)
    empty_tables(engine)
    _add_books(engine, 2)
    try:
        with engine.connect() as writer:
            writer.exec_driver_sql("SELECT 1")  # holds BEGIN IMMEDIATE: the write lock
            # A search taking the write lock too would wait out the busy timeout, then fail
            # with "database is locked".
            found = _search(engine, PageRequest())
            writer.rollback()
    finally:
        engine.dispose()

    assert [b.title for b in found.items] == ["Book 00", "Book 01"]


def _links(page: Page[int], url: str = "/api/v1/books?page=2&per_page=2") -> str:
    with Flask(__name__).test_request_context(url):
        return link_header(page)


def test_links_of_a_bounded_total_name_no_last_page() -> None:
    bounded = Page(items=[3, 4], total=1002, page=2, per_page=2, total_exact=False)
    exact = Page(items=[3, 4], total=5, page=2, per_page=2)

    assert 'rel="last"' not in _links(bounded)
    assert '</api/v1/books?per_page=2&page=3>; rel="next"' in _links(bounded)
    assert 'page=1>; rel="prev"' in _links(bounded)
    assert '</api/v1/books?per_page=2&page=3>; rel="last"' in _links(exact)


def test_a_search_is_paged_and_counted_from_the_word_index(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SqlUnitOfWork(session_factory(engine)) as uow:
        for n in range(12):
            title = f"Book {n:02d} {'lighthouse' if n % 4 else 'orchard'}"
            uow.books.add(Book.create(id=f"b{n:02d}", isbn=isbn13(n), title=title, now=NOW))
        uow.commit()
    monkeypatch.setattr(repositories, "PAGES_COUNTED_AHEAD", 2)  # four items past a page of 2
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def pages(query: BookFilter) -> list[tuple[list[str], int, bool, int]]:
        found = []
        for n in (1, 2, 5, 6):
            statements.clear()
            p = _search(engine, PageRequest(page=n, per_page=2), query)
            sent = len([s for s in statements if "book_words" in s])
            found.append(([b.title for b in p.items], p.total, p.total_exact, sent))
        return found

    by_title = pages(BookFilter(q="lighthouse"))
    by_year = pages(BookFilter(q="LIGHT", sort=BookSort.YEAR))

    # Nine matches, counted four past each page: a bound until the count reaches the last.
    # By title, the stored words the query stands for, then the page with its count, read
    # from the index in order (past the end, a count of its own as well).
    assert by_title == [
        (["Book 01 lighthouse", "Book 02 lighthouse"], 6, False, 2),
        (["Book 03 lighthouse", "Book 05 lighthouse"], 8, False, 2),
        (["Book 11 lighthouse"], 9, True, 2),
        ([], 9, True, 3),
    ]
    # Without a year, every book sorts last, in id order: the same pages, the matches sorted.
    assert [page[:3] for page in by_year] == [page[:3] for page in by_title]


def test_the_audit_trail_is_counted_as_the_other_lists_are(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repositories, "PAGES_COUNTED_AHEAD", 1)  # two items past a page of 2
    with SqlUnitOfWork(session_factory(engine), records_for_events=AuditTrail(ids)) as uow:
        for n in range(7):
            uow.emit(BookLent(NOW, loan_id=f"l{n}", copy_id="c1", member_id="m1"))
        uow.commit()
    log = SqlAuditLog(engine)

    pages = [log.list(AuditFilter(), PageRequest(page=n, per_page=2)) for n in (1, 2, 4, 5)]

    assert [[r.entity_id for r in p.items] for p in pages] == [
        ["l6", "l5"],
        ["l4", "l3"],
        ["l0"],
        [],
    ]
    assert [(p.total, p.total_exact, p.has_next) for p in pages] == [
        (4, False, True),  # counted two past the page
        (5, False, True),  # from a page's reach in: to the page's end, and one more
        (7, True, False),  # the last page
        (7, True, False),  # past the end: counted
    ]
