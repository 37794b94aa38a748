"""Book search by words, answered in the list's order from a word index, on both dialects.

The meaning is ``application.queries.matches_book``: each word of ``q`` begins a word of the
title or of an author; ``author``'s words begin consecutive words of one author's name (each
whole but the last). Words are split and folded by ``application.queries.search_words``, the
same rule for the stored words and the query's, so every adapter gives the same answers.

The index is the table ``book_words`` (``BookWordRow``, migration ``0012w_word_search``): a row
per book and distinct word of its title and authors (``kind`` ``w``), and per book and phrase of
an author's name from each word to the end (``kind`` ``a``). Each row carries the book's
``title_key``, and the primary key is ``(kind, word, title_key, book_id)``: the books holding
one word come out of it in title order, so a page reads its first entries and stops, however
large the catalogue. A query word is a prefix: it is expanded to the stored words that begin
with it (``expand``, up to ``VOCABULARY_CAP`` of them, found by a skip scan of the same index),
and their ordered lists are merged (``UNION ALL`` of ordered subqueries under one
``ORDER BY ... LIMIT``: a Merge Append on PostgreSQL, which stops early). With several words,
one drives (the one with fewest books, each counted as far as ``DRIVER_COUNT`` by the same
statement that expands them all) and the others are tested on each candidate book from the
index on ``(book_id, kind, word)``.

Where reading in order could run long, it is bounded: a common driving word with book filters
to test is read for ``WALK_BUDGET`` entries, and so is the sort order of a search by year or
creation time (or by title for a prefix of too many words); a page those do not fill is found
by intersecting each word's entries (``matching_in_title_order``, ``matching_ids``) and
sorting the matches, as a rare word's always are in those orders. Several common words by
title are leapfrogged on PostgreSQL (``leap_page``): each list is sought to the place another
has its next book, so the books between, which one of them lacks, are skipped at the cost of
a seek; from the first match, slices of the lists are semi-joined (at most ``LEAP_BUDGET``
steps and ``LEAP_SPAN`` slices, the intersection beyond). SQLite, without ``LATERAL``, walks.

The rows are written with the book by the repository and the bulk loader (``word_rows``),
never by triggers: only Python's split is the query's split.

On PostgreSQL the statements whose plan is the same for any words are prepared on the server
(``engine.PREPARED``): the terms' expansion and counts, a page of a term's merged
lists (its books tested for the others), and leapfrogged lists, when no book filter joins in.
Planning a merge of a prefix's eleven lists took longer than running it (0.8 ms of 1.5). The
others are planned for each search's values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Table,
    Text,
    TextClause,
    TextualSelect,
    UnaryExpression,
    and_,
    bindparam,
    column,
    exists,
    func,
    intersect,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from adapters.sqlalchemy.built_once import BUILT_ONCE
from adapters.sqlalchemy.engine import PREPARED
from adapters.sqlalchemy.mappers import BOOK_FIELDS
from adapters.sqlalchemy.models import YEAR_DESC_INDEX, BookRow, BookWordRow
from application.queries import name_phrases, search_words

WORDS: Table = cast(Table, BookWordRow.__table__)
WORD_COLUMNS = ("kind", "word", "title_key", "book_id")
# What a row is for: a word of the title or authors (``q``), or an author's name phrase.
TITLE_OR_AUTHOR = "w"
AUTHOR_NAME = "a"
# Stored words a query word may stand for and still be read in order (one ordered scan each).
# A shorter prefix than that (``q=t``) is found by walking the title order instead.
VOCABULARY_CAP = 32
# Books counted per word, when a search has several, to choose the one that drives. A word
# held by no more books than that is "rare": its books are few enough to read them all.
DRIVER_COUNT = 500
# Entries of a common driving word read in order, each tested for the other words or the book
# filters, before its matches are found by intersecting the words' books and sorted instead:
# words that are each common may rarely meet (or meet only far down the order).
WALK_BUDGET = 1000
# Several common words whose walk came short: steps of the leapfrog to their first match (a
# seek of each list per step), and the slices of their lists semi-joined from there, as a
# multiple of the matches the page and its count want.
LEAP_BUDGET = 1000
LEAP_SPAN = 4

# Indexes the models create on PostgreSQL only (``ddl_if``).
POSTGRESQL_ONLY_INDEXES = frozenset({YEAR_DESC_INDEX})


def schema_filters(dialect: str) -> dict[str, Callable[..., bool]]:
    """Alembic ``include_object`` for comparing ``dialect``'s schema with the models: some
    indexes exist on PostgreSQL only."""

    def include_object(
        obj: object,  # noqa: ARG001
        name: str | None,
        type_: str,
        reflected: bool,  # noqa: ARG001
        compare_to: object,  # noqa: ARG001
    ) -> bool:
        return not (
            type_ == "index" and name in POSTGRESQL_ONLY_INDEXES and dialect != "postgresql"
        )

    return {"include_object": include_object}


def word_rows(
    book_id: str, title_key: str, authors: Sequence[str]
) -> list[tuple[str, str, str, str]]:
    """The ``book_words`` rows of one book, in ``WORD_COLUMNS`` order."""
    words = {word for text_ in (title_key, *authors) for word in search_words(text_)}
    phrases = {phrase for name in authors for phrase in name_phrases(name)}
    return [(TITLE_OR_AUTHOR, word, title_key, book_id) for word in sorted(words)] + [
        (AUTHOR_NAME, phrase, title_key, book_id) for phrase in sorted(phrases)
    ]


def _after(prefix: str) -> str:
    """The least string greater than every string that begins with ``prefix`` (code point
    order, which is the column's collation: ``C`` on PostgreSQL, binary on SQLite)."""
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # surrogates are not characters a database stores
        last = 0xE000
    return prefix[:-1] + chr(last)


@dataclass(frozen=True, slots=True)
class Term:
    """One thing a search requires of a book: a stored word of ``kind`` beginning with
    ``prefix`` (not empty)."""

    kind: str
    prefix: str

    def in_range(self, table: Any = WORDS) -> list[ColumnElement[bool]]:
        return [
            table.c.kind == self.kind,
            table.c.word >= self.prefix,
            table.c.word < _after(self.prefix),
        ]

    def held_by(self, book_id: Any) -> ColumnElement[bool]:
        """The book ``book_id`` (a column) has a word in range: one probe of the index on
        ``(book_id, kind, word)``."""
        other = WORDS.alias("held")
        return exists().where(other.c.book_id == book_id, *self.in_range(other))


def terms_of(words: Sequence[str], author: str | None) -> list[Term]:
    terms = [Term(TITLE_OR_AUTHOR, word) for word in words]
    if author:
        terms.append(Term(AUTHOR_NAME, author))
    return terms


def _vocabulary_of(j: int) -> str:
    """The stored words in term ``j``'s range, in order, one index probe each: a skip scan, so
    that a word held by a million books costs what a rare one does."""
    return (
        f"vocabulary_{j}(word) AS ("  # noqa: S608
        f" SELECT (SELECT min(word) FROM book_words"
        f"  WHERE kind = :kind_{j} AND word >= :prefix_{j} AND word < :bound_{j})"
        " UNION ALL"
        f" SELECT (SELECT min(b.word) FROM book_words b"
        f"  WHERE b.kind = :kind_{j} AND b.word > v.word AND b.word < :bound_{j})"
        f" FROM vocabulary_{j} v WHERE v.word IS NOT NULL)"
    )


@cache
def _expansion(terms: int, *, words: int, counts: int | None) -> TextClause:
    """Rows ``(term, word, NULL)``: each term's stored words, no more than ``words``; and,
    unless ``counts`` is ``None``, ``(term, NULL, books)``: the rows in its range, no more than
    ``counts``.

    The limits are written in, not bound: PostgreSQL then costs the prepared statement's generic
    plan as it costs a plan for the words at hand, and keeps it. With bound limits it took the
    generic plan for a costlier one and planned every search afresh (0.2 ms of the 0.55 this
    statement took for two common words at a million books)."""
    parts = [
        f"SELECT {j} AS term, word, CAST(NULL AS INTEGER) AS books FROM"  # noqa: S608
        f" (SELECT word FROM vocabulary_{j} WHERE word IS NOT NULL LIMIT {words}) AS words_{j}"
        for j in range(terms)
    ]
    if counts is not None:
        parts += [
            f"SELECT {j}, CAST(NULL AS TEXT), (SELECT count(*) FROM (SELECT book_id"  # noqa: S608
            f" FROM book_words WHERE kind = :kind_{j} AND word >= :prefix_{j}"
            f" AND word < :bound_{j} LIMIT {counts}) AS held_{j})"
            for j in range(terms)
        ]
    vocabularies = ", ".join(_vocabulary_of(j) for j in range(terms))
    statement = f"WITH RECURSIVE {vocabularies} {' UNION ALL '.join(parts)}"
    return text(statement).execution_options(**PREPARED)


def expand(
    session: Session, terms: Sequence[Term], *, counted: bool
) -> list[tuple[list[str] | None, int]]:
    """For each term, the stored words it stands for (``None`` when they are more than
    ``VOCABULARY_CAP``) and, when ``counted`` (else 0), the rows in its range counted from the
    index no further than ``DRIVER_COUNT + 1``: one statement for every term of a search."""
    values: dict[str, Any] = {}
    for j, term in enumerate(terms):
        values.update(
            {f"kind_{j}": term.kind, f"prefix_{j}": term.prefix, f"bound_{j}": _after(term.prefix)}
        )
    words: list[list[str]] = [[] for _ in terms]
    counts = [0 for _ in terms]
    statement = _expansion(
        len(terms), words=VOCABULARY_CAP + 1, counts=DRIVER_COUNT + 1 if counted else None
    )
    found = session.connection().execute(statement, values, execution_options=BUILT_ONCE)
    for term, word, books in found:
        if word is not None:
            words[term].append(word)
        else:
            counts[term] = int(books)
    return [
        (found if len(found) <= VOCABULARY_CAP else None, count)
        for found, count in zip(words, counts, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class PageShape:
    """What a page read from the word index looks like, values aside: the statement for a shape
    is built once (``word_page``) and run with the values as parameters, since building and
    keying a merge of many ordered scans costs more than the database takes to run it.

    ``words``: how many stored words the driving term stands for (``word_<i>``); ``others``:
    the kinds of the other terms (``other_<j>``, ``other_<j>_bound``); ``isbn`` (``isbn``) and
    ``available``: the book filters; ``after``: from a cursor (``after_key``, ``after_id``).
    Always: ``limit`` (matches read, the page's end and the count's reach), ``skip`` and
    ``rows`` (the page's place among them)."""

    words: int
    kind: str
    others: tuple[str, ...]
    isbn: bool
    available: bool | None
    after: bool
    descending: bool
    # Whether each word's list is read no further than ``walk`` entries (``WALK_BUDGET``).
    walks: bool


def _same_plan_for_any_words(shape: PageShape | LeapShape) -> bool:
    """Whether ``shape``'s statements are planned the same for any words, and so are prepared
    (``PREPARED``): ordered reads and seeks of the primary key, merged, each entry's other terms
    looked up by its book, and the page's books by their key. The server may then keep the plan
    rather than plan every search anew, which for a prefix of many words costs more than running
    it. Book filters join ``books`` on, where the values may change the plan."""
    return not shape.isbn and shape.available is None


def _in_order(title_key: Any, book_id: Any, *, descending: bool) -> list[UnaryExpression[Any]]:
    if descending:
        return [title_key.desc(), book_id.desc()]
    return [title_key.asc(), book_id.asc()]


@cache
def word_page(shape: PageShape) -> tuple[Select[Any], Select[Any]]:
    """The page of books (the columns a book is made of, ``BOOK_FIELDS``, and ``found``: the
    matches read, as far as ``limit``) and the count of the matches alone (for a page past the
    last), for ``shape``.

    Each stored word's books come from the primary key in title order (from the cursor, if
    any), tested for the other terms and the book filters; several words are merged under one
    ``ORDER BY ... LIMIT``, where a book holding two of them is listed twice, side by side,
    and once after ``DISTINCT``."""
    words = WORDS

    def held(n: int, kind: str) -> Callable[[Any], ColumnElement[bool]]:
        def test(book_id: Any) -> ColumnElement[bool]:
            other = words.alias(f"held_{n}")
            return exists().where(
                other.c.book_id == book_id,
                other.c.kind == kind,
                other.c.word >= bindparam(f"other_{n}"),
                other.c.word < bindparam(f"other_{n}_bound"),
            )

        return test

    tests = [held(n, kind) for n, kind in enumerate(shape.others)]
    cursor: list[ColumnElement[bool]] = []
    if shape.after:
        key: Any = bindparam("after_key")
        book_id: Any = bindparam("after_id")
        if shape.descending:
            cursor += [
                words.c.title_key <= key,
                or_(words.c.title_key < key, words.c.book_id < book_id),
            ]
        else:
            cursor += [
                words.c.title_key >= key,
                or_(words.c.title_key > key, words.c.book_id > book_id),
            ]
    books_tests: list[ColumnElement[bool]] = []
    if shape.isbn:
        books_tests.append(BookRow.isbn == bindparam("isbn"))
    if shape.available is not None:
        on_shelf = BookRow.available_copies
        books_tests.append(on_shelf > 0 if shape.available else on_shelf < 1)
    limit = bindparam("limit", type_=Integer)

    def of_word(n: int) -> Select[Any]:
        statement = select(words.c.title_key, words.c.book_id).where(
            words.c.kind == shape.kind, words.c.word == bindparam(f"word_{n}"), *cursor
        )
        order = _in_order(words.c.title_key, words.c.book_id, descending=shape.descending)
        if shape.walks:
            # The walk's own LIMIT: PostgreSQL reads the list and hands entries on as it goes,
            # so the outer LIMIT still stops it early.
            walk = statement.order_by(*order).limit(bindparam("walk", type_=Integer)).subquery()
            statement = select(walk.c.title_key, walk.c.book_id)
            order = _in_order(walk.c.title_key, walk.c.book_id, descending=shape.descending)
            found = walk.c.book_id
        else:
            found = words.c.book_id
        statement = statement.where(*(test(found) for test in tests))
        if books_tests:
            statement = statement.join(BookRow, BookRow.id == found).where(and_(*books_tests))
        return statement.order_by(*order).limit(limit)

    matches: Any
    if shape.words == 1:
        matches = of_word(0).subquery("matches")
    else:
        each = [of_word(n).subquery(f"word_{n}") for n in range(shape.words)]
        merged = union_all(*(select(part.c.title_key, part.c.book_id) for part in each))
        rows = merged.subquery("merged")
        matches = (
            select(rows.c.title_key, rows.c.book_id)
            .distinct()
            .order_by(*_in_order(rows.c.title_key, rows.c.book_id, descending=shape.descending))
            .limit(limit)
            .subquery("matches")
        )
    ranked = (
        select(matches.c.title_key, matches.c.book_id, func.count().over().label("found"))
        .order_by(*_in_order(matches.c.title_key, matches.c.book_id, descending=shape.descending))
        .offset(bindparam("skip", type_=Integer))
        .limit(bindparam("rows", type_=Integer))
        .subquery("ranked")
    )
    books = cast(Table, BookRow.__table__)
    in_order = _in_order(ranked.c.title_key, ranked.c.book_id, descending=shape.descending)
    page = (
        select(*(books.c[name] for name in BOOK_FIELDS), ranked.c.found)
        .join(ranked, books.c.id == ranked.c.book_id)
        .order_by(*in_order)
    )
    count = select(func.count().label("found")).select_from(matches)
    if not _same_plan_for_any_words(shape):
        return page, count
    return page.execution_options(**PREPARED), count.execution_options(**PREPARED)


def word_page_values(
    shape_words: Sequence[str], others: Sequence[Term], isbn: str | None
) -> dict[str, Any]:
    """The parameters of a ``word_page`` statement but the cursor and the limits."""
    values: dict[str, Any] = {f"word_{n}": word for n, word in enumerate(shape_words)}
    for n, term in enumerate(others):
        values[f"other_{n}"], values[f"other_{n}_bound"] = term.prefix, _after(term.prefix)
    if isbn is not None:
        values["isbn"] = isbn
    return values


def matching_ids(terms: Sequence[Term]) -> Select[Any] | CompoundSelect[Any]:
    """The ids of the books holding every term: each term's books from its range of the index,
    intersected (a set operation, not a probe per book)."""
    each = [select(WORDS.c.book_id).where(*term.in_range()) for term in terms]
    if len(each) == 1:
        return each[0]
    return intersect(*each)


def matching_in_title_order(terms: Sequence[Term]) -> CompoundSelect[Any] | Select[Any]:
    """``(title_key, book_id)`` of the books holding every term, from the index alone: each
    term's entries intersected, so sorting them by title needs no book row."""
    each = [select(WORDS.c.title_key, WORDS.c.book_id).where(*term.in_range()) for term in terms]
    return each[0].distinct() if len(each) == 1 else intersect(*each)


@dataclass(frozen=True, slots=True)
class LeapShape:
    """What a page found by leapfrogging the terms' lists looks like, values aside (see
    ``leap_page``): ``words``, per term (the driver first), how many stored words it stands
    for (``t<j>_<n>``, of kind ``kind_<j>``); the book filters and the cursor as in
    ``PageShape``."""

    words: tuple[int, ...]
    isbn: bool
    available: bool | None
    after: bool
    descending: bool


# The statements below are put together from the shape alone (the parts' names, orders and
# operators); every value is a bound parameter.


def _lists(shape: LeapShape, term: int, where: str, limit: str, *, distinct: bool) -> str:
    """``term``'s books where ``where`` holds, in the page's order, no more than ``limit``: a
    range of the primary key per stored word, merged."""
    order = "DESC" if shape.descending else "ASC"
    in_order = f"ORDER BY title_key {order}, book_id {order} LIMIT {limit}"
    parts = [
        f"(SELECT title_key, book_id FROM book_words WHERE kind = :kind_{term}"  # noqa: S608
        f" AND word = :t{term}_{n}{where} {in_order})"
        for n in range(shape.words[term])
    ]
    if len(parts) == 1:
        return parts[0]
    unique = "DISTINCT " if distinct else ""
    merged = " UNION ALL ".join(parts)
    return f"(SELECT {unique}title_key, book_id FROM ({merged}) AS each_word {in_order})"  # noqa: S608


def _from(place: tuple[str, str], op: str) -> str:
    return f" AND (title_key, book_id) {op} ({place[0]}, {place[1]})"


def _leapfrog(shape: LeapShape) -> str:
    """The recursive query ``leap`` (and ``first``, its match): see ``leap_page``."""
    at, beyond = ("<=", "<") if shape.descending else (">=", ">")
    others = range(1, len(shape.words))
    cursor = _from((":after_key", ":after_id"), beyond) if shape.after else ""
    start = _lists(shape, 0, cursor, "1", distinct=False)
    here = _from(("c.title_key", "c.book_id"), at)
    tested = "".join(
        f" CROSS JOIN LATERAL {_lists(shape, j, here, '1', distinct=False)} AS t{j}" for j in others
    )
    same = [f"(t{j}.title_key, t{j}.book_id) = (c.title_key, c.book_id)" for j in others]
    # Where the driver seeks next: the place of the first list that lacks its book (the
    # places between lack it too, so no book there matches).
    target = [
        "CASE "
        + " ".join(
            f"WHEN NOT {test} THEN t{j}.{column}" for j, test in zip(others, same, strict=True)
        )
        + " END"
        for column in ("title_key", "book_id")
    ]
    columns = f"c.title_key, c.book_id, {target[0]}, {target[1]}, {' AND '.join(same)}"
    seek = _lists(shape, 0, _from(("h.target_key", "h.target_id"), at), "1", distinct=False)
    return (
        "WITH RECURSIVE leap(title_key, book_id, target_key, target_id, hit, steps) AS ("  # noqa: S608
        f" SELECT {columns}, 1 FROM {start} AS c{tested}"
        " UNION ALL"
        f" SELECT {columns}, h.steps + 1 FROM leap h CROSS JOIN LATERAL {seek} AS c{tested}"
        " WHERE NOT h.hit AND h.steps < :budget"
        "), first AS (SELECT title_key, book_id FROM leap WHERE hit)"
    )


# Shapes kept built: a query's words (each standing for up to ``VOCABULARY_CAP`` stored words)
# make more shapes than any catalogue's searches use, so the least recently used go.
LEAP_SHAPES_KEPT = 256


@lru_cache(maxsize=LEAP_SHAPES_KEPT)
def leap_page(shape: LeapShape) -> tuple[TextualSelect, TextClause]:
    """PostgreSQL: the page of a search by title for several terms whose books are each many
    but may rarely be the same, and a statement telling whether their lists were read whole.

    The first match from the start (or the cursor) is found by leapfrogging: the driving
    term's book is sought in each other term's lists; where one has none at that place, the
    driver seeks to the place that one has instead, skipping at once the books between, which
    it lacks (a recursive query of a seek per list and step, at most ``:budget`` steps, with
    ``steps`` and ``first_key``, ``first_id`` the match, null when none came by then or none
    is left). From the first match, the lists, each no further than ``:span`` entries, are
    semi-joined in title order and tested for the book filters: ``found`` counts the matches
    as far as ``:limit``; ``skip`` and ``rows`` place the page among them. Slices so cut hold
    every match up to where the first of them to end does: a prefix of the matches, all of
    them if no slice was cut (the second statement, from ``:first_key``, ``:first_id``)."""
    terms = range(len(shape.words))
    at = "<=" if shape.descending else ">="
    order = "DESC" if shape.descending else "ASC"
    first = ("(SELECT title_key FROM first)", "(SELECT book_id FROM first)")
    slices = [_lists(shape, j, _from(first, at), ":span", distinct=True) for j in terms]
    # A slice holds a book once, so the driver's entries that every other slice holds are the
    # matches: a semi-join reads each slice once, where a join kept the inner one to read again.
    conditions = [
        f"(s0.title_key, s0.book_id) IN (SELECT title_key, book_id FROM {slices[j]} AS s{j})"  # noqa: S608
        for j in terms[1:]
    ]
    joined = f"{slices[0]} AS s0"
    if shape.isbn:
        conditions.append("b.isbn = :isbn")
    if shape.available is not None:
        on_shelf = "b.available_copies > 0" if shape.available else "b.available_copies < 1"
        conditions.append(on_shelf)
    if shape.isbn or shape.available is not None:
        joined += " JOIN books b ON b.id = s0.book_id"
    matches = (
        f"SELECT s0.title_key, s0.book_id FROM {joined} WHERE {' AND '.join(conditions)}"  # noqa: S608
        f" ORDER BY s0.title_key {order}, s0.book_id {order} LIMIT :limit"
    )
    # Counted by an aggregate of their own rather than a window over the page's: a window
    # keeps every match it counts before it gives the page's first.
    ranked = (
        f"SELECT m.title_key, m.book_id, (SELECT count(*) FROM ({matches}) AS c) AS found"  # noqa: S608
        f" FROM ({matches}) AS m"
        f" ORDER BY m.title_key {order}, m.book_id {order} OFFSET :skip LIMIT :rows"
    )
    books = cast(Table, BookRow.__table__)
    names = BOOK_FIELDS
    page = text(
        f"{_leapfrog(shape)} SELECT {', '.join(f'p.{name}' for name in names)}, p.found,"  # noqa: S608
        " status.steps, status.first_key, status.first_id FROM"
        " (SELECT (SELECT max(steps) FROM leap) AS steps,"
        " (SELECT title_key FROM first) AS first_key, (SELECT book_id FROM first) AS first_id)"
        f" AS status LEFT JOIN (SELECT {', '.join(f'books.{name}' for name in names)},"
        " ranked.found, ranked.title_key AS ranked_key, ranked.book_id AS ranked_id"
        f" FROM books JOIN ({ranked}) AS ranked ON books.id = ranked.book_id) AS p ON true"
        f" ORDER BY p.ranked_key {order}, p.ranked_id {order}"
    ).columns(
        *(books.c[name] for name in names),
        column("found", Integer),
        column("steps", Integer),
        column("first_key", Text),
        column("first_id", Text),
    )
    from_match = _from((":first_key", ":first_id"), at)
    ends = [
        f"(SELECT count(*) FROM {_lists(shape, j, from_match, ':span', distinct=True)} AS s)"  # noqa: S608
        for j in terms
    ]
    whole = text(f"SELECT {' AND '.join(f'{end} < :span' for end in ends)}")
    if not _same_plan_for_any_words(shape):
        return page, whole
    return page.execution_options(**PREPARED), whole.execution_options(**PREPARED)


def leap_values(
    terms: Sequence[Term], words: Sequence[Sequence[str]], isbn: str | None
) -> dict[str, Any]:
    """The parameters of a ``leap_page`` statement but the cursor and the limits."""
    values: dict[str, Any] = {}
    for j, (term, stored) in enumerate(zip(terms, words, strict=True)):
        values[f"kind_{j}"] = term.kind
        values.update({f"t{j}_{n}": word for n, word in enumerate(stored)})
    if isbn is not None:
        values["isbn"] = isbn
    return values
