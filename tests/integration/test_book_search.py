"""Book search by words is answered from an index, and the index follows every change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from adapters.sqlalchemy.engine import create_engine_for, session_factory
from adapters.sqlalchemy.models import TITLE_WALK_INDEX
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.queries import BookFilter, BookSort, PageRequest
from domain.catalogue import Book
from domain.values import UNSET
from tests.databases import empty_tables

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
ISBNS = ["9780131103627", "9780262033848", "9780201633610"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    url: str = request.getfixturevalue(f"migrated_{request.param}_url")
    engine = create_engine_for(url)
    empty_tables(engine)
    yield engine
    engine.dispose()


def _uow(engine: Engine) -> SqlUnitOfWork:
    return SqlUnitOfWork(session_factory(engine))


def _add(engine: Engine, number: int, title: str, authors: tuple[str, ...] = ()) -> Book:
    book = Book.create(id=f"b{number}", isbn=ISBNS[number], title=title, authors=authors, now=NOW)
    with _uow(engine) as uow:
        uow.books.add(book)
        uow.commit()
    return book


def _titles(engine: Engine, q: str) -> list[str]:
    with _uow(engine) as uow:
        found = uow.books.search(BookFilter(q=q), PageRequest(per_page=100))
    return [book.title for book in found.items]


def test_search_follows_added_changed_and_removed_books(engine: Engine) -> None:
    _add(engine, 0, "Lighthouse Keeping", ("Ada Winter",))
    book = _add(engine, 1, "Orchard Road")

    assert _titles(engine, "lighthouse") == ["Lighthouse Keeping"]
    assert _titles(engine, "winter") == ["Lighthouse Keeping"]
    with _uow(engine) as uow:
        stored = uow.books.get(book.id)
        assert stored is not None
        stored.revise(now=NOW, title="Lighthouse Road", authors=UNSET)
        uow.commit()
    assert _titles(engine, "lighthouse") == ["Lighthouse Keeping", "Lighthouse Road"]
    assert _titles(engine, "orchard") == []
    with _uow(engine) as uow:
        stored = uow.books.get(book.id)
        assert stored is not None
        uow.books.remove(stored)
        uow.commit()
    assert _titles(engine, "road") == []
    assert _titles(engine, "ghthou kee") == ["Lighthouse Keeping"]  # substrings, every word


def test_quotes_and_operators_in_words_are_plain_text(engine: Engine) -> None:
    _add(engine, 0, 'The "AND" OR NOT* Book')

    assert _titles(engine, '"and" or not*') == ['The "AND" OR NOT* Book']
    assert _titles(engine, "near(") == []


def test_the_query_plan_uses_the_search_index(engine: Engine) -> None:
    _add(engine, 0, "Lighthouse Keeping")
    with _uow(engine) as uow:
        uow.books.search(BookFilter(q="lighthouse"), PageRequest())
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            plan = connection.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT count(*) FROM books WHERE books.rowid IN "
                    "(SELECT rowid FROM books_search WHERE books_search MATCH '\"lighthouse\"')"
                )
            ).all()
        assert any("VIRTUAL TABLE INDEX" in str(row) for row in plan), plan
    else:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO books (id, isbn, title, authors, subjects, title_key, authors_key,"
                    " created_at, updated_at, version) SELECT 'g' || n, lpad(n::text, 13, '0'),"
                    " md5(n::text), '[]', '[]', md5(n::text), md5((n * 7)::text), now(), now(), 1"
                    " FROM generate_series(1, 30000) AS n"
                )
            )
            connection.execute(text("ANALYZE books"))
        with engine.connect() as connection:
            # Asks whether the index can answer the query, not whether it is the cheapest way
            # for a test-sized table. With the table's scan priced out, the title walk's index
            # (it carries both keys) would be read whole instead: it is set aside, in a
            # transaction that is rolled back.
            connection.execute(text("SET enable_seqscan = off"))
            connection.execute(text(f"DROP INDEX {TITLE_WALK_INDEX}"))
            plan = connection.execute(
                text(
                    "EXPLAIN SELECT count(*) FROM books WHERE title_key LIKE '%lighthouse%'"
                    " OR authors_key LIKE '%lighthouse%'"
                )
            ).all()
            connection.rollback()
        assert any("ix_books_title_key_trgm" in str(row) for row in plan), plan
        assert any("ix_books_authors_key_trgm" in str(row) for row in plan), plan


def test_author_names_are_found_as_substrings_of_one_author(engine: Engine) -> None:
    _add(engine, 0, "Dune", ("Frank Herbert",))
    _add(engine, 1, "Foundation", ("Isaac Asimov", "Ann Herbertson"))

    def by_author(name: str) -> list[str]:
        with _uow(engine) as uow:
            found = uow.books.search(BookFilter(author=name), PageRequest())
        return [book.title for book in found.items]

    assert by_author("HERBERT") == ["Dune", "Foundation"]
    assert by_author("frank herb") == ["Dune"]
    assert by_author("ov") == ["Foundation"]  # shorter than a trigram
    assert by_author("asimov ann") == []  # a name never spans two authors


@pytest.mark.parametrize("sort", list(BookSort))
def test_matches_sort_by_every_key_in_both_directions(engine: Engine, sort: BookSort) -> None:
    first = Book.create(id="b0", isbn=ISBNS[0], title="Alpha One", authors=(), now=NOW)
    second = Book.create(
        id="b1", isbn=ISBNS[1], title="Alpha Two", authors=(), now=NOW + timedelta(days=1)
    )
    first.year, second.year = 2001, 2002
    with _uow(engine) as uow:
        uow.books.add(first)
        uow.books.add(second)
        uow.commit()

    with _uow(engine) as uow:
        found = uow.books.search(BookFilter(q="alpha", sort=sort), PageRequest(per_page=10))

    titles = [book.title for book in found.items]
    expected = ["Alpha One", "Alpha Two"]
    assert titles == (expected[::-1] if sort.descending else expected)
