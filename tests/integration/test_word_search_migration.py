"""Migration 0012w: the books stored before it are found by word after it; it can be undone."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, insert, inspect, text

from adapters.sqlalchemy import mappers, migrate
from adapters.sqlalchemy.engine import create_engine_for, session_factory
from adapters.sqlalchemy.models import BookRow
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.queries import BookFilter, PageRequest
from tests.contract.builders import book
from tests.databases import stray_words

BEFORE = "0011s_search_walk"
# Word search's indexes before this migration, per dialect.
OLD_INDEXES = {"ix_books_title_key_trgm", "ix_books_authors_key_trgm"}


def test_books_from_before_are_indexed_and_found_by_word(empty_database_url: str) -> None:
    url = empty_database_url
    migrate.upgrade(url, BEFORE)
    books = [
        book("Lighthouse Keeping", authors=("Ada Winter", "Bo Ek")),
        book("The Orchard", authors=("Ursula K. Le Guin",)),
        *(book(f"Volume {n}") for n in range(30)),
    ]
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(cast(Table, BookRow.__table__)),
                [mappers.book_values(each) for each in books],
            )

        migrate.upgrade(url)

        with engine.connect() as connection:
            assert stray_words(connection) == 0
            rows = connection.execute(text("SELECT count(*) FROM book_words")).scalar_one()
            assert rows > len(books)
        with SqlUnitOfWork(session_factory(engine)) as uow:
            found = uow.books.search(BookFilter(q="light win"), PageRequest())
            by_author = uow.books.search(BookFilter(author="le gu"), PageRequest())
        assert [b.title for b in found.items] == ["Lighthouse Keeping"]
        assert [b.title for b in by_author.items] == ["The Orchard"]
        assert not OLD_INDEXES & {i["name"] for i in inspect(engine).get_indexes("books")}

        migrate.downgrade(url, BEFORE)

        tables = set(inspect(engine).get_table_names())
        assert "book_words" not in tables
        if engine.dialect.name == "sqlite":
            assert "books_search" in tables  # brought back, and filled from the books
            with engine.connect() as connection:
                matched = connection.execute(
                    text("SELECT count(*) FROM books_search WHERE books_search MATCH 'ghthou'")
                ).scalar_one()
            assert matched == 1
        else:
            assert {i["name"] for i in inspect(engine).get_indexes("books")} >= OLD_INDEXES
    finally:
        engine.dispose()
