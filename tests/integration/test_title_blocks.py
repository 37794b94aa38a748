"""Pages by number in title order start from counted blocks: exact after any write."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from adapters.sqlalchemy import title_blocks
from adapters.sqlalchemy.engine import create_engine_for, session_factory
from adapters.sqlalchemy.models import BookTitleBlockRow
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.ports import BookAddition
from application.queries import BookFilter, BookSort, Page, PageRequest
from domain.catalogue import Book
from tests.databases import empty_tables
from tests.integration.test_list_totals import isbn13

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
WORDS = ["atlas", "Birch", "cedar", "delta", "Ember", "fjord", "grove", "harbour", "Ísland"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    # Blocks of four books: a few dozen books make many blocks, and writes soon put them out
    # of shape (past eight books, or empty).
    monkeypatch.setattr(title_blocks, "BLOCK", 4)
    url: str = request.getfixturevalue(f"migrated_{request.param}_url")
    engine = create_engine_for(url)
    empty_tables(engine)
    yield engine
    engine.dispose()


def _title(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 2)))


def _add(engine: Engine, rng: random.Random, count: int, start: int) -> None:
    with SqlUnitOfWork(session_factory(engine)) as uow:
        for n in range(start, start + count):
            book = Book.create(id=f"b{n:03d}", isbn=isbn13(n), title=_title(rng), now=NOW)
            uow.books.add(book)
        uow.commit()


def _change(engine: Engine, rng: random.Random) -> None:
    """Retitle one book and remove another, at random."""
    with SqlUnitOfWork(session_factory(engine)) as uow:
        books = uow.books.search(BookFilter(), PageRequest(page=1, per_page=100)).items
        retitled, removed = (uow.books.get(book.id) for book in rng.sample(books, 2))
        assert retitled is not None
        assert removed is not None
        retitled.revise(title=_title(rng), now=NOW)
        uow.books.remove(removed)
        uow.commit()


def _page(engine: Engine, n: int, sort: BookSort) -> Page[Book]:
    with SqlUnitOfWork(session_factory(engine)) as uow:
        return uow.books.search(BookFilter(sort=sort), PageRequest(page=n, per_page=4))


def _assert_every_page_is_exact(engine: Engine) -> None:
    """Each page by number in either direction is the slice of the books sorted in Python,
    with the catalogue's exact size as its total."""
    with SqlUnitOfWork(session_factory(engine)) as uow:
        books = uow.books.search(BookFilter(), PageRequest(page=1, per_page=100)).items
    in_order = [b.id for b in sorted(books, key=lambda b: (b.title.casefold(), b.id))]
    for sort, order in ((BookSort.TITLE, in_order), (BookSort.TITLE_DESC, in_order[::-1])):
        for n in range(1, len(order) // 4 + 3):
            page = _page(engine, n, sort)
            assert [b.id for b in page.items] == order[(n - 1) * 4 : n * 4], (sort, n)
            assert (page.total, page.total_exact) == (len(order), True)
            assert page.has_next == (n * 4 < len(order))


def _blocks(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(BookTitleBlockRow.books).order_by(
                BookTitleBlockRow.first_title_key, BookTitleBlockRow.first_book_id
            )
        )
        return list(rows.scalars())


def test_pages_stay_exact_through_writes_and_redraws(engine: Engine) -> None:
    rng = random.Random(7)
    _add(engine, rng, 30, start=0)
    _assert_every_page_is_exact(engine)  # every book in the first block: a walk from it
    assert title_blocks.TitleBlocks(engine).keep_shape() > 1
    assert all(4 <= books < 8 for books in _blocks(engine))
    _assert_every_page_is_exact(engine)
    for round_ in range(6):
        _add(engine, rng, 5, start=100 + 10 * round_)
        _change(engine, rng)
        _change(engine, rng)
        _assert_every_page_is_exact(engine)  # counts kept by the triggers
    assert sum(_blocks(engine)) == 30 + 6 * (5 - 2)
    assert title_blocks.TitleBlocks(engine).keep_shape() > 0  # some had grown or emptied
    first, *others = _blocks(engine)
    assert 0 <= first <= 8
    assert all(1 <= books <= 8 for books in others)
    assert title_blocks.TitleBlocks(engine).keep_shape() == 0  # in shape: nothing to do
    _assert_every_page_is_exact(engine)


def test_a_bulk_load_leaves_the_blocks_in_shape(engine: Engine) -> None:
    rng = random.Random(11)
    additions = [
        BookAddition(
            book=Book.create(id=f"b{n:03d}", isbn=isbn13(n), title=_title(rng), now=NOW),
        )
        for n in range(25)
    ]
    with SqlUnitOfWork(session_factory(engine)) as uow:
        uow.bulk.add_books(additions)
        uow.commit()

    assert all(4 <= books < 8 for books in _blocks(engine))
    assert sum(_blocks(engine)) == 25
    _assert_every_page_is_exact(engine)


@pytest.mark.postgres
def test_a_bulk_load_leaves_the_blocks_to_the_job_while_another_writer_is_about(
    migrated_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting for a writer of books could deadlock with one waiting for the load's blocks."""
    monkeypatch.setattr(title_blocks, "BLOCK", 4)
    engine = create_engine_for(migrated_postgres_url)
    empty_tables(engine)
    rng = random.Random(5)
    additions = [
        BookAddition(
            book=Book.create(id=f"b{n:03d}", isbn=isbn13(n), title=_title(rng), now=NOW),
        )
        for n in range(10)
    ]
    try:
        with engine.connect() as other_writer:
            other_writer.exec_driver_sql("LOCK TABLE books IN ROW EXCLUSIVE MODE")
            with SqlUnitOfWork(session_factory(engine)) as uow:
                uow.bulk.add_books(additions)
                uow.commit()
            other_writer.rollback()
        assert _blocks(engine) == [10]  # all in the first block, left for the job
        _assert_every_page_is_exact(engine)
        title_blocks.TitleBlocks(engine).keep_shape()
        assert _blocks(engine) == [5, 5]
        _assert_every_page_is_exact(engine)
    finally:
        engine.dispose()


def _at_once(writers: list[Callable[[], None]]) -> list[BaseException]:
    """Run ``writers`` each in a thread of its own, started together; what they raised."""
    start = threading.Barrier(len(writers))
    failures: list[BaseException] = []

    def run(write: Callable[[], None]) -> None:
        try:
            start.wait()
            write()
        except BaseException as failure:  # reported by the test, with its traceback
            failures.append(failure)

    threads = [threading.Thread(target=run, args=(write,)) for write in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def _one_at_a_time(engine: Engine, seed: int, count: int, start: int) -> Callable[[], None]:
    """A writer that adds ``count`` books, each in a transaction of its own (as the API
    does)."""

    def write() -> None:
        rng = random.Random(seed)
        for n in range(start, start + count):
            _add(engine, rng, 1, start=n)

    return write


def _bulk(engine: Engine, seed: int, count: int, start: int) -> Callable[[], None]:
    """A writer that loads ``count`` books in one batch (as an import does)."""

    def write() -> None:
        rng = random.Random(seed)
        books = [
            Book.create(id=f"b{n:03d}", isbn=isbn13(n), title=_title(rng), now=NOW)
            for n in range(start, start + count)
        ]
        with SqlUnitOfWork(session_factory(engine)) as uow:
            uow.bulk.add_books([BookAddition(book=book) for book in books])
            uow.commit()

    return write


def test_books_added_at_once_by_many_writers_are_all_counted(engine: Engine) -> None:
    """Counts add up (``books + n``): a writer into a block waits for the one before it, then
    adds to what that one left; loads lock the blocks they change in one order, so two never
    wait for each other."""
    _add(engine, random.Random(3), 12, start=0)
    title_blocks.TitleBlocks(engine).keep_shape()

    failures = _at_once(
        [_one_at_a_time(engine, n, 4, start=100 + 10 * n) for n in range(4)]
        + [_bulk(engine, 10 + n, 20, start=200 + 100 * n) for n in range(3)]
    )

    assert failures == []
    assert sum(_blocks(engine)) == 12 + 4 * 4 + 3 * 20
    _assert_every_page_is_exact(engine)
