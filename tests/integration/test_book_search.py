"""Book search by words is answered from the word index in title order, and the index follows
every change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import Engine, text

from adapters.sqlalchemy import repositories, search
from adapters.sqlalchemy.engine import create_engine_for, session_factory
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.queries import BookFilter, BookSort, Page, PageRequest, matches_book
from domain.catalogue import Book
from domain.values import UNSET
from entrypoints.http.responses.pagination import link_header
from tests.databases import empty_tables, stray_words

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
ISBNS = ["9780131103627", "9780262033848", "9780201633610"]


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
    assert _titles(engine, "light kee") == ["Lighthouse Keeping"]  # word starts, every word
    assert _titles(engine, "ghthou") == []  # not inside a word
    with engine.connect() as connection:
        assert stray_words(connection) == 0


def test_quotes_and_operators_in_words_are_plain_text(engine: Engine) -> None:
    _add(engine, 0, 'The "AND" OR NOT* Book')

    assert _titles(engine, '"and" or not*') == ['The "AND" OR NOT* Book']
    assert _titles(engine, "near(") == []


def test_the_query_plan_reads_a_word_in_title_order(engine: Engine) -> None:
    """A word's books come from the word index already in title order: the page is the
    index's first entries, with no sort of the matches (which would read all of them)."""
    _add(engine, 0, "Lighthouse Keeping")
    with engine.begin() as connection:
        connection.execute(
            text(
                "WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers"
                " WHERE n < 30000) INSERT INTO book_words (kind, word, title_key, book_id)"
                " SELECT 'w', 'lighthouse', 'title ' || n, 'g' || n FROM numbers"
            )
        )
        # PostgreSQL's planner weighs the index against a scan by its statistics. SQLite is left
        # without any, as the application leaves it: statistics would outlive this test in the
        # database the module's other tests share, and change their plans.
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE book_words"))
    page = (
        "SELECT title_key, book_id FROM book_words WHERE kind = 'w' AND word = 'lighthouse'"
        " ORDER BY title_key, book_id LIMIT 21"
    )
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            plan = " ".join(
                str(row) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {page}"))
            )
            assert "USING PRIMARY KEY (kind=? AND word=?)" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
        else:
            plan = " ".join(str(row) for row in connection.execute(text(f"EXPLAIN {page}")))
            assert "Index Only Scan using pk_book_words" in plan, plan
            assert "Sort" not in plan, plan


def test_author_names_are_found_from_the_start_of_a_word_of_one_author(engine: Engine) -> None:
    _add(engine, 0, "Dune", ("Frank Herbert",))
    _add(engine, 1, "Foundation", ("Isaac Asimov", "Ann Herbertson"))

    def by_author(name: str) -> list[str]:
        with _uow(engine) as uow:
            found = uow.books.search(BookFilter(author=name), PageRequest())
        return [book.title for book in found.items]

    assert by_author("HERBERT") == ["Dune", "Foundation"]
    assert by_author("frank herb") == ["Dune"]
    assert by_author("ov") == []  # inside a word
    assert by_author("a") == ["Foundation"]  # one letter: the start of "asimov" and "ann"
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


QUERIES = [
    BookFilter(q="alpha beta"),
    BookFilter(q="beta alpha", sort=BookSort.TITLE_DESC),
    BookFilter(q="alpha", sort=BookSort.YEAR_DESC),
    BookFilter(q="gam", sort=BookSort.CREATED),
    BookFilter(q="alpha", available=False),
    BookFilter(q="a b"),
    BookFilter(q="alpha", author="writer 1"),
]


@pytest.mark.parametrize(("driver_count", "walk"), [(0, 1), (0, 3), (0, 1000), (500, 1000)])
def test_every_way_to_a_page_gives_the_same_pages(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, driver_count: int, walk: int
) -> None:
    """Rare words read whole, common ones walked in order (found early, or not, and then
    intersected and sorted): the pages are the same, and a total is exact or a bound that
    reaches past the page."""
    books = []
    with _uow(engine) as uow:
        for n in range(24):
            words = ["Alpha" if n % 2 else "Gamma", "Beta" if n % 3 == 0 else "Delta"]
            book = Book.create(
                id=f"b{n:02d}",
                isbn=isbn13(n),
                title=f"{' '.join(words)} {n}",
                authors=(f"Writer {n % 4}",),
                now=NOW + timedelta(hours=n),
            )
            book.year = 1900 + (n * 7) % 30
            uow.books.add(book)
            books.append(book)
        uow.commit()
    monkeypatch.setattr(search, "DRIVER_COUNT", driver_count)
    monkeypatch.setattr(search, "WALK_BUDGET", walk)

    for query in QUERIES:
        expected = sorted(
            (b for b in books if matches_book(b, query.words, query.author_phrase)),
            key=query.sort.key,
            reverse=query.sort.descending,
        )
        with _uow(engine) as uow:
            pages = [uow.books.search(query, PageRequest(n, 3)) for n in (1, 2, 3, 4, 5)]
        found = [b.id for p in pages for b in p.items]
        assert found == [b.id for b in expected], query
        for number, p in enumerate(pages, start=1):
            end = min(number * 3, len(expected))
            if p.total_exact:
                assert p.total == len(expected), query
            else:
                assert end < p.total <= len(expected), query


LEAP_QUERIES = [
    BookFilter(q="alpha beta"),
    BookFilter(q="beta alpha", sort=BookSort.TITLE_DESC),
    BookFilter(q="alph delta"),  # ``alph`` stands for ``alpha`` and ``alphabet``
    BookFilter(q="alpha delta writer"),
    BookFilter(q="alpha beta", available=False),
    BookFilter(q="gamma delta", author="writer 2"),
    BookFilter(q="omega beta"),  # no book holds both
    BookFilter(q="alpha delta", isbn=isbn13(112)),
    BookFilter(q="alpha delta", available=True),  # every book has no copy on the shelf
]


def _leap_catalogue(engine: Engine) -> list[Book]:
    """Books whose title words are each common and meet in runs and stretches apart, as
    words of real titles do: the titles sort by their first word, then their second."""
    books = []
    with _uow(engine) as uow:
        for n in range(60):
            first = ("Alpha", "Gamma", "Omega", "Alphabet")[n % 4 if n < 40 else n % 2]
            second = "Beta" if (n // 5) % 3 == 0 else "Delta"
            if first == "Omega":
                second = "Delta"
            book = Book.create(
                id=f"b{n:02d}",
                isbn=isbn13(100 + n),
                title=f"{first} {second} {n:02d}",
                authors=(f"Writer {n % 3}",),
                now=NOW + timedelta(hours=n),
            )
            uow.books.add(book)
            books.append(book)
        # Two words of one prefix in one title: listed once.
        both = Book.create(
            id="b60", isbn=isbn13(160), title="Alphabet Alpha Delta 60", authors=(), now=NOW
        )
        uow.books.add(both)
        books.append(both)
        uow.commit()
    return books


@pytest.mark.parametrize(
    ("budget", "span", "pages_ahead"),
    [(1000, 4, 250), (1000, 4, 1), (1000, 1, 1), (2, 4, 250), (1, 1, 2)],
)
def test_leapfrogged_pages_are_the_matches_in_order_with_their_totals(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, budget: int, span: int, pages_ahead: int
) -> None:
    """Every word common (so PostgreSQL leapfrogs the lists), with budgets and slices cut
    short or not, and counts that reach little or far: the pages by number and by cursor are
    the matches in order, and each total is exact or a bound reaching past the page."""
    books = _leap_catalogue(engine)
    monkeypatch.setattr(search, "DRIVER_COUNT", 0)
    monkeypatch.setattr(search, "LEAP_BUDGET", budget)
    monkeypatch.setattr(search, "LEAP_SPAN", span)
    monkeypatch.setattr(repositories, "PAGES_COUNTED_AHEAD", pages_ahead)
    ahead = pages_ahead * 4
    for query in LEAP_QUERIES:
        expected = [
            b.id
            for b in sorted(
                (b for b in books if matches_book(b, query.words, query.author_phrase)),
                key=query.sort.key,
                reverse=query.sort.descending,
            )
            if query.available is None or not query.available  # no copies: none on the shelf
            if query.isbn is None or b.isbn == query.isbn
        ]
        with _uow(engine) as uow:
            numbered = [uow.books.search(query, PageRequest(n, 4)) for n in range(1, 8)]
        assert [b.id for p in numbered for b in p.items] == expected, query
        for number, page in enumerate(numbered, start=1):
            end = min(number * 4, len(expected))
            reach = min(len(expected), (number - 1) * 4 + 4 + ahead)
            if page.total_exact:
                assert page.total == len(expected), query
            else:
                assert end < page.total <= reach, query
            if engine.dialect.name == "postgresql":  # leapfrogged; SQLite walks, then sorts
                # Exact whenever the lists were read whole and the count reached its end (a
                # page by number that starts as far in as the count reaches is not counted).
                deep = (number - 1) * 4 >= ahead
                assert page.total_exact or len(expected) > reach or span == 1 or deep, query
            links = _links(page)
            assert ('rel="next"' in links) == (end < len(expected)), query
            assert ('rel="last"' in links) == page.total_exact, query
        walked, page = [], numbered[0]
        while True:
            walked += [b.id for b in page.items]
            cursor = query.sort.cursor_after(page)
            if cursor is None:
                break
            with _uow(engine) as uow:
                page = uow.books.search(query, PageRequest.starting_at(cursor, 4))
            assert not page.total_exact
            assert len(walked) + len(page.items) <= page.total <= len(expected), query
        assert walked == expected, query


@pytest.fixture
def postgres_engine(migrated_postgres_url: str) -> Iterator[Engine]:
    engine = create_engine_for(migrated_postgres_url)
    empty_tables(engine)
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_a_leapfrogged_count_is_exact_within_its_reach_and_a_bound_beyond(
    postgres_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = postgres_engine
    books = _leap_catalogue(engine)
    query = BookFilter(q="alpha beta")  # ``alpha`` begins ``alphabet`` too
    matching = sorted((b for b in books if matches_book(b, query.words, None)), key=query.sort.key)
    monkeypatch.setattr(search, "DRIVER_COUNT", 0)

    def unused(*_: object) -> Page[Book]:
        raise AssertionError("the leapfrog settles every page here")

    monkeypatch.setattr(repositories.SqlBookRepository, "_page_of_intersection", unused)

    def pages(*numbers: int) -> list[Page[Book]]:
        with _uow(engine) as uow:
            return [uow.books.search(query, PageRequest(n, 2)) for n in numbers]

    (whole,) = pages(1)
    monkeypatch.setattr(repositories, "PAGES_COUNTED_AHEAD", 2)  # four items past a page of 2
    found = pages(1, 2, 3, 4, 5)

    assert len(matching) == 10
    assert (whole.total, whole.total_exact) == (10, True)
    assert [(p.total, p.total_exact) for p in found] == [
        (6, False),  # the page's 2 and 4 past it
        (8, False),  # counted from the start: 2 + 2 + 4
        (7, False),  # from 4 in, a page by number is counted to its end and one more
        (9, False),
        (10, True),  # the last page
    ]
    assert [b.id for p in found for b in p.items] == [b.id for b in matching]


def _links(page: Page[Book]) -> str:
    with Flask(__name__).test_request_context(f"/api/v1/books?page={page.page}"):
        return link_header(page)


@pytest.mark.postgres
def test_word_pages_are_prepared_on_the_server_and_answer_as_before(
    migrated_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search whose plan is the same for any words (ordered reads of the word index, merged
    or leapfrogged) is prepared by psycopg after its fifth run on a connection: later runs
    answer as the first. A search with a book filter is planned for its own values each time."""
    monkeypatch.setattr(search, "DRIVER_COUNT", 0)  # every word common: two are leapfrogged
    engine = create_engine_for(migrated_postgres_url)
    empty_tables(engine)
    try:
        _add(engine, 0, "Lighthouse Keeping", ("Ada Winters",))
        _add(engine, 1, "Orchard Road", ("Ada Winterson",))
        _add(engine, 2, "Winter Harbour", ("Bo Lund",))
        searches = [
            (BookFilter(author="ada winter"), 1),  # a prefix of two stored phrases
            (BookFilter(q="ada winter"), 20),
            (BookFilter(q="winter", available=False), 20),  # no book has a copy
        ]
        answers = []
        for _ in range(8):  # more runs than psycopg's threshold for preparing (5)
            with _uow(engine).reading() as uow:
                for query, per_page in searches:
                    found = uow.books.search(query, PageRequest(per_page=per_page))
                    answers.append(([b.title for b in found.items], found.total))
                connection = uow.session.connection()
                backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        assert (
            answers
            == [
                (["Lighthouse Keeping"], 2),
                (["Lighthouse Keeping", "Orchard Road"], 2),
                (["Lighthouse Keeping", "Orchard Road", "Winter Harbour"], 3),
            ]
            * 8
        )
        with _uow(engine).reading() as uow:
            connection = uow.session.connection()
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() == backend
            prepared = list(
                connection.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars()
            )
        words = [statement for statement in prepared if "book_words" in statement]
        assert any("WITH RECURSIVE vocabulary" in statement for statement in words)
        assert any("count(*) OVER ()" in statement for statement in words)
        assert any("WITH RECURSIVE leap" in statement for statement in words)
        assert not [statement for statement in words if "available_copies <" in statement]
    finally:
        empty_tables(engine)
        engine.dispose()
