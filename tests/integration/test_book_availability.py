"""The per-book count of copies on the shelf (``books.available_copies``, kept by triggers on
``copies``) stays equal to the copies themselves, is counted for the books already there by the
migration that adds it, and lets the availability filter and ``sort=-year`` read indexes."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, cast

import pytest
from sqlalchemy import Engine, Table, insert, text

from adapters.sqlalchemy import mappers, migrate, repositories
from adapters.sqlalchemy.engine import create_engine_for, session_factory
from adapters.sqlalchemy.models import BookRow, CopyRow
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.queries import BookFilter, BookSort, PageRequest
from domain.catalogue import Copy, CopyStatus
from tests.contract.builders import DAY, T0, book, copy

# What the domain lets each status become, by method.
MOVES: dict[CopyStatus, tuple[Callable[[Copy, Any], None], ...]] = {
    CopyStatus.AVAILABLE: (Copy.lend, Copy.set_aside, Copy.mark_lost, Copy.withdraw),
    CopyStatus.ON_LOAN: (Copy.take_back,),
    CopyStatus.ON_HOLD_SHELF: (Copy.lend, Copy.release, Copy.mark_lost, Copy.withdraw),
    CopyStatus.LOST: (Copy.mark_found, Copy.withdraw),
    CopyStatus.WITHDRAWN: (),
}

COUNTED = """
    SELECT books.id, books.available_copies,
           (SELECT count(*) FROM copies
            WHERE copies.book_id = books.id AND copies.status = 'available') AS on_shelf
    FROM books ORDER BY books.id
"""


def _uow(engine: Engine) -> SqlUnitOfWork:
    return SqlUnitOfWork(session_factory(engine))


def _kept_and_real(engine: Engine) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    with engine.connect() as connection:
        rows = connection.execute(text(COUNTED)).all()
    return [(r.id, r.available_copies) for r in rows], [(r.id, r.on_shelf) for r in rows]


def test_the_count_equals_the_copies_on_the_shelf_after_a_mix_of_changes(engine: Engine) -> None:
    rng = random.Random(20261201)
    seen: set[str] = set()
    books = [book(f"Book {n}") for n in range(8)]
    with _uow(engine) as uow:
        for b in books:
            uow.books.add(b)
        # Several copies of each book in one statement.
        for b in books:
            for _ in range(rng.randint(0, 3)):
                uow.copies.add(copy(b))
        uow.commit()

    for step in range(150):
        now = T0 + step * DAY
        with _uow(engine) as uow:
            live = [b for b in books if uow.books.get(b.id) is not None]
            copies = [c for b in live for c in uow.copies.for_book(b.id)]
            # One to three changes per transaction.
            for _ in range(rng.randint(1, 3)):
                roll = rng.random()
                if roll < 0.15 and live:
                    uow.copies.add(copy(rng.choice(live), now=now))
                elif roll < 0.2 and copies:
                    gone = copies.pop(rng.randrange(len(copies)))
                    uow.copies.remove(gone)
                elif roll < 0.22 and len(live) > 3:
                    doomed = live.pop(rng.randrange(len(live)))
                    for c in [c for c in copies if c.book_id == doomed.id]:
                        copies.remove(c)
                        uow.copies.remove(c)
                    uow.books.remove(doomed)
                elif copies:
                    moved = rng.choice(copies)
                    moves = MOVES[moved.status]
                    if moves:
                        rng.choice(moves)(moved, now)
            if rng.random() < 0.9:
                uow.commit()  # else rolled back
        kept, real = _kept_and_real(engine)
        assert kept == real, f"after step {step}"
        seen.update("none" if n == 0 else "several" if n > 1 else "one" for _, n in real)
    assert seen == {"none", "one", "several"}


def _before_0006(values: dict[str, Any]) -> dict[str, Any]:
    """Row values as the schema had them before item types (migration 0006)."""
    return {name: value for name, value in values.items() if name != "item_type"}


def test_the_migration_counts_the_copies_already_there(empty_database_url: str) -> None:
    url = empty_database_url
    migrate.upgrade(url, "0004_book_search")
    shelved, gone, bare = book("Shelved"), book("Gone"), book("Bare")
    copies = [copy(shelved), copy(shelved), copy(gone), copy(shelved)]
    copies[1].lend(T0)
    copies[2].mark_lost(T0)
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(cast(Table, BookRow.__table__)),
                [_before_0006(mappers.book_values(b)) for b in (shelved, gone, bare)],
            )
            connection.execute(
                insert(cast(Table, CopyRow.__table__)),
                [_before_0006(mappers.copy_values(c)) for c in copies],
            )

        migrate.upgrade(url)
        kept, real = _kept_and_real(engine)
        assert kept == real
        assert dict(kept) == {shelved.id: 2, gone.id: 0, bare.id: 0}

        # Down again: the column and the triggers go, and copies can still be written.
        migrate.downgrade(url, "0004_book_search")
        with engine.begin() as connection:
            connection.execute(
                insert(cast(Table, CopyRow.__table__)),
                _before_0006(mappers.copy_values(copy(bare))),
            )
            connection.execute(text("UPDATE copies SET status = 'lost'"))
            connection.execute(text("DELETE FROM copies"))
        with engine.connect() as connection:
            columns = connection.execute(text("SELECT * FROM books")).keys()
        assert "available_copies" not in columns
    finally:
        engine.dispose()


# --- query plans -------------------------------------------------------------------------------

BOOKS, UNAVAILABLE = 30_000, 1_500

# Books with one or two copies each; every twentieth has only a lost one, every tenth no year.
FILL = (
    """
    WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 30000)
    INSERT INTO books (id, isbn, title, authors, subjects, title_key, authors_key, year,
                       created_at, updated_at, version)
    SELECT 'g' || n, 'i' || n, 'Title', '[]', '[]', 't' || (n * 7919 % 30011), '',
           CASE WHEN n % 10 = 0 THEN NULL ELSE 1900 + n % 120 END,
           '2030-01-01 09:00:00.000000', '2030-01-01 09:00:00.000000', 1
    FROM s
    """,
    """
    WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 30000)
    INSERT INTO copies (id, book_id, barcode, status, created_at, updated_at, version)
    SELECT 'c' || n || '-' || k, 'g' || n, 'B' || n || '-' || k,
           CASE WHEN n % 20 = 0 THEN 'lost' ELSE 'available' END,
           '2030-01-01 09:00:00.000000', '2030-01-01 09:00:00.000000', 1
    FROM s CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2) AS copy_numbers
    WHERE k = 1 OR n % 3 = 0
    """,
)


def _fill(engine: Engine) -> None:
    """A catalogue large enough for PostgreSQL's planner to weigh indexes against scans
    (analysed there). SQLite is left without statistics, as the application leaves it."""
    with engine.begin() as connection:
        for statement in FILL:
            connection.execute(text(statement))
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE books"))


def _plan(engine: Engine, sql: str) -> str:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
            return "\n".join(str(row[-1]) for row in rows)
        # Asks whether an index can answer the query, not whether it is the cheapest way for a
        # test-sized table.
        connection.execute(text("SET enable_seqscan = off"))
        return "\n".join(str(row[0]) for row in connection.execute(text(f"EXPLAIN {sql}")))


def _assert_read_in_order_from(engine: Engine, sql: str, index: str) -> None:
    plan = _plan(engine, sql)
    assert index in plan, plan
    assert "Seq Scan" not in plan, plan  # PostgreSQL
    assert "Sort" not in plan, plan  # PostgreSQL: the rows come in index order
    assert "TEMP B-TREE" not in plan, plan  # SQLite: likewise


@pytest.mark.parametrize(
    ("available", "page", "count", "index"),
    [
        (
            True,
            "SELECT id FROM books WHERE available_copies > 0 ORDER BY title_key, id LIMIT 20",
            "SELECT count(*) FROM books WHERE available_copies > 0",
            "ix_books_title_key_id",
        ),
        (
            False,
            "SELECT id FROM books WHERE available_copies < 1 ORDER BY title_key, id LIMIT 20",
            "SELECT count(*) FROM books WHERE available_copies < 1",
            "ix_books_unavailable_title_key_id",
        ),
    ],
)
def test_the_availability_filter_is_answered_from_indexes(
    engine: Engine, available: bool, page: str, count: str, index: str
) -> None:
    _fill(engine)
    with _uow(engine) as uow:
        found = uow.books.search(BookFilter(available=available), PageRequest())
    # Counted no further than ten pages past the page: a longer list reports that reach as a
    # lower bound (both lists here are longer than 220).
    matching = BOOKS - UNAVAILABLE if available else UNAVAILABLE
    reach = PageRequest().per_page + repositories.count_ahead(PageRequest())
    assert (found.total, found.total_exact) == (
        (matching, True) if matching <= reach else (reach, False)
    )
    assert len(found.items) == PageRequest().per_page

    # The conditions the repository writes for the filter: the first page walks an index in
    # the order asked for, and the total is counted from the narrow index on the count.
    _assert_read_in_order_from(engine, page, index)
    counted = _plan(engine, count)
    assert "ix_books_available_copies" in counted, counted
    assert "Seq Scan" not in counted, counted


def test_newest_years_first_without_a_year_last_reads_an_index(engine: Engine) -> None:
    _fill(engine)
    with _uow(engine) as uow:
        found = uow.books.search(BookFilter(sort=BookSort.YEAR_DESC), PageRequest())
    assert [b.year for b in found.items] == [2019] * 20

    postgresql = engine.dialect.name == "postgresql"
    _assert_read_in_order_from(
        engine,
        "SELECT id FROM books ORDER BY year DESC NULLS LAST, id DESC LIMIT 20",
        "ix_books_year_desc_id_desc" if postgresql else "ix_books_year_id",
    )
