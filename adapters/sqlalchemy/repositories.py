"""Repositories over one SQLAlchemy ``Session``: reads map rows to tracked domain entities;
writes (called by the unit of work's change tracker on commit) are Core statements.

Every update is ``UPDATE ... WHERE id = :id AND version = :expected``: if another transaction
changed or removed the row since it was read, nothing matches and ``ConcurrentUpdate`` is raised
instead of silently overwriting the other change.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, ClassVar, Generic, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Insert,
    Select,
    Table,
    UnaryExpression,
    Update,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import util as sql_util

from adapters.sqlalchemy import mappers, search, title_blocks
from adapters.sqlalchemy.built_once import BUILT_ONCE
from adapters.sqlalchemy.engine import read_only_transaction
from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.held import HeldWrite, HeldWrites
from adapters.sqlalchemy.models import (
    Base,
    BookRow,
    CirculationRuleRow,
    ClosureRow,
    CopyRow,
    HoldRow,
    ItemTypeRow,
    LedgerAllocationRow,
    LedgerEntryRow,
    LoanRow,
    MemberCategoryRow,
    MemberRow,
)
from adapters.sqlalchemy.search import Term
from adapters.sqlalchemy.together import Part, read_together, together
from application.queries import (
    HOLD_ORDER,
    LOAN_ORDER,
    MEMBER_ORDER,
    BookFilter,
    BookSort,
    HoldFilter,
    LoanFilter,
    MemberFilter,
    Page,
    PageRequest,
)
from application.unit_of_work import BookCirculationStore, ChangeTracker, Entity, EntityStore
from domain.calendar import Closure
from domain.catalogue import Book, Copy, CopyStatus
from domain.errors import ConcurrentUpdate, InvalidValue
from domain.events import Event
from domain.holds import ACTIVE_HOLD_STATUSES, Hold, HoldStatus
from domain.ledger import DEBITS, Allocation, LedgerEntry
from domain.loans import Loan, LoanState, LoanStatus
from domain.members import Member
from domain.rules import CirculationRule, ItemType, MemberCategory

E = TypeVar("E", bound=Entity)
R = TypeVar("R", bound=Base)

# Values per ``IN (...)`` list; well under SQLite's limit of bound parameters per statement.
_IN_CHUNK = 900
# A page's total is counted this many pages past the page's end and no further: exact for any
# list shorter than that, a lower bound (``Page.total_exact`` false) for longer ones, so that no
# page pays for counting a million rows. Counted in pages, the count costs in proportion to the
# page it comes with: an index entry counted costs PostgreSQL about 0.4 µs, a book shown about
# 10 µs. Ten pages is what a pager shows ahead; 200 items at the default 20 a page.
PAGES_COUNTED_AHEAD = 10


def count_ahead(page: PageRequest) -> int:
    """How many items past the end of ``page`` its total is counted; also how deep a page by
    number may start and still be counted ahead (``deep_total``)."""
    return PAGES_COUNTED_AHEAD * page.per_page


def deep_total(page: PageRequest, found: int, *, more: bool) -> tuple[int, bool]:
    """``(total, exact)`` of a page by number that starts ``count_ahead`` items in or deeper,
    found not empty: the items up to its end, and one more when another page follows (a lower
    bound), else exact. Counting ahead would walk the whole offset again, on top of the page's
    own walk to it."""
    return page.skip + found + int(more), not more


def _within(reach: int, counted: int) -> tuple[int, bool]:
    """``(total, exact)`` of rows counted as far as one past ``reach``."""
    return (counted, True) if counted <= reach else (reach, False)


# The column a page's count comes in, beside its rows' own.
_COUNTED = "counted_upto_reach"


def counted_beside(columns: Sequence[Any], counting: Select[int]) -> list[Any]:
    """A page's ``columns`` and the count of ``counting`` beside them (``counted_with``): a
    round trip fewer than counting apart, and the count sees what the page sees."""
    return [*columns, counting.scalar_subquery().label(_COUNTED)]


def counted_with(rows: Sequence[Any], page: PageRequest) -> int | None:
    """The count a page's rows came with (``counted_beside``); 0 when none came from the start
    (or the cursor) on, since nothing follows; ``None`` for a page past the last row, which
    carries no count, so the list must be counted apart."""
    if rows:
        return int(getattr(rows[0], _COUNTED))
    return 0 if page.skip == 0 else None


class _SqlStore(EntityStore[E], Generic[E, R]):
    row: ClassVar[type[Base]]
    versioned: ClassVar[bool] = True
    # Pages read as plain Core rows: no ORM instance, identity-map entry or instance state per
    # row, which cost more than the query on a page of small rows. Right for tables whose
    # mapper reads only column attributes named as the columns are (``_to_entity``).
    plain_pages: ClassVar[bool] = False
    # The columns such a page reads, when its mapper needs fewer than the table has (a
    # column read for nothing is a value the driver converts per row for nothing).
    mapped_columns: ClassVar[tuple[str, ...] | None] = None
    # Single-row INSERTs and versioned UPDATEs may wait to go out with the commit's records
    # (``adapters.sqlalchemy.records``): right for tables keyed by ``id`` whose writes need
    # nothing else written first (a ledger line's allocations need the line).
    held_writes: ClassVar[bool] = False

    def __init__(
        self, tracker: ChangeTracker, session: Session, held: HeldWrites | None = None
    ) -> None:
        super().__init__(tracker)
        self._session = session
        self._held = held

    def _send_held(self) -> None:
        """Send the writes held so far: a write of this store's own goes after them."""
        if self._held is not None:
            with translated_errors():
                self._held.send()

    def _holding(self) -> HeldWrites | None:
        if self._held is not None and not self.held_writes:
            self._send_held()
            return None
        return self._held

    # --- conversions, per table ----------------------------------------------------------

    @abstractmethod
    def _to_entity(self, row: R) -> E: ...

    def _to_entities(self, rows: Sequence[Any]) -> list[E]:
        """The entities of the rows of one result; a table read by the page may map them all
        in one go (``SqlBookRepository``)."""
        return [self._to_entity(cast(R, row)) for row in rows]

    @abstractmethod
    def _to_values(self, entity: E) -> dict[str, Any]: ...

    # --- reads ---------------------------------------------------------------------------

    @classmethod
    def _table(cls) -> Table:
        return cast(Table, cls.row.__table__)

    @classmethod
    def _plain_columns(cls) -> list[Any]:
        """The columns a page of plain rows reads (``mapped_columns``, or every one)."""
        table = cls._table()
        if cls.mapped_columns is None:
            return list(table.columns)
        return [table.c[name] for name in cls.mapped_columns]

    def _rows(self, statement: Select[R]) -> Sequence[R]:
        # Run as Core on the session's connection: a row of the table's columns, named as the
        # mapper reads them, with no ORM instance, identity-map entry or loading machinery per
        # row (that cost more than the round trip on the borrow path). Every read is of the
        # database's current row: the change tracker, not the session, decides which entity
        # object callers get.
        with translated_errors():
            return cast(Sequence[R], self._session.connection().execute(statement).all())

    def _first(self, statement: Select[R]) -> E | None:
        rows = self._rows(statement.limit(1))
        return self._track(self._to_entity(rows[0])) if rows else None

    def _all(self, statement: Select[R]) -> list[E]:
        return self._track_all(self._to_entities(self._rows(statement)))

    def entities_of(self, rows: Iterable[Any]) -> list[E]:
        """Tracked entities of rows read by a statement of several tables at once (each row
        with an attribute per column of this store's table, named as the column is)."""
        return self._track_all(self._to_entity(cast(R, row)) for row in rows)

    def _existing(self, column: Any, values: Collection[str]) -> set[str]:
        """Which of ``values`` are stored in the unique ``column``, asked in chunks (SQLite
        caps the parameters of one statement)."""
        found: set[str] = set()
        wanted = list(set(values))
        for start in range(0, len(wanted), _IN_CHUNK):
            statement = select(column).where(column.in_(wanted[start : start + _IN_CHUNK]))
            with translated_errors():
                found.update(self._session.scalars(statement))
        return found

    def _count(self, *conditions: ColumnElement[bool]) -> int:
        statement = select(func.count()).select_from(self._table()).where(*conditions)
        with translated_errors():
            return int(self._session.execute(statement).scalar_one())

    def _count_upto(
        self, limit: int, *conditions: ColumnElement[bool], order_by: Sequence[Any] = ()
    ) -> int:
        """The number of rows matching ``conditions``, counting no further than ``limit``
        (in ``order_by``, when given: an index on it is then read from where they start)."""
        statement = self._counting_upto(limit, conditions, order_by)
        with translated_errors():
            return int(self._session.execute(statement).scalar_one())

    def _counting_upto(
        self,
        limit: int,
        conditions: Sequence[ColumnElement[bool]],
        order_by: Sequence[Any] = (),
        runs: Keyset = ((),),
    ) -> Select[int]:
        """The count of ``_count_upto``, of the rows of each of ``runs`` in turn (a keyset's)."""
        table = self._table()
        each = [
            select(table.c.id).where(*conditions, *run).order_by(*order_by).limit(limit)
            for run in runs
        ]
        matching: Any = each[0]
        if len(each) > 1:  # each run a subquery of its own: SQLite orders no part of a union
            matching = union_all(*(select(ids.subquery().c.id) for ids in each)).limit(limit)
        return select(func.count()).select_from(matching.subquery())

    def _total(
        self,
        conditions: Sequence[ColumnElement[bool]],
        page: PageRequest,
        order_by: Sequence[Any] = (),
    ) -> tuple[int, bool]:
        """``(total, exact)``: exact when no more than ``count_ahead`` rows follow the page,
        else the lower bound counted so far (in ``order_by``, as ``_count_upto`` does)."""
        reach = page.offset + page.per_page + count_ahead(page)
        return _within(reach, self._count_upto(reach + 1, *conditions, order_by=order_by))

    def _page(
        self,
        conditions: Sequence[ColumnElement[bool]],
        order_by: Sequence[UnaryExpression[Any] | ColumnElement[Any]],
        page: PageRequest,
        runs: Keyset | None = None,
    ) -> Page[E]:
        """The page by number, or (``runs``, for a cursor) the first ``per_page`` rows of the
        keyset's runs, taken in turn."""
        if runs is None and page.after is not None:
            raise InvalidValue("after", "this list pages by number only")
        table = self._table()
        # The ids of the page first, then its rows, in one statement: skipping to a deep page
        # walks the sort index alone (index-only), instead of fetching every row it skips.
        # Each run gives at most a page of ids (an index seek each), in one ``IN`` (a union
        # of them: an ``OR`` of two would keep PostgreSQL from joining on them); the earlier
        # runs' rows come first in the order, so the first ``per_page`` of them are the page.
        # One id more than the page tells whether another page follows.
        runs_ids = [
            select(table.c.id)
            .where(*conditions, *run)
            .order_by(*order_by)
            .offset(page.skip)
            .limit(page.per_page + 1)
            for run in (runs if runs is not None else [()])
        ]
        page_ids: Any = runs_ids[0]
        if len(runs_ids) > 1:
            page_ids = union_all(*(select(ids.subquery().c.id) for ids in runs_ids))
        # The page is counted in its own statement (a round trip fewer, and the count sees
        # what the page sees), but for a deep page by number, which is not counted ahead. A
        # cursor page's total is the items before it as its page number tells (not counted:
        # that is what a cursor saves), plus those from the cursor on, counted in the sort
        # order, so that the count seeks the sort index to the cursor too (unordered, a
        # database may scan the table for them, all of it when few follow a cursor near the end).
        counting: Select[int] | None = None
        ahead = count_ahead(page)
        if runs is not None:
            reach = page.per_page + ahead
            counting = self._counting_upto(reach + 1, conditions, order_by, runs)
        elif page.skip < ahead:
            reach = page.offset + page.per_page + ahead
            counting = self._counting_upto(reach + 1, conditions)
        columns: list[Any] = self._plain_columns() if self.plain_pages else [self.row]
        if counting is not None:
            columns = counted_beside(columns, counting)
        statement = select(*columns).where(table.c.id.in_(page_ids)).order_by(*order_by)
        # A Core row has an attribute per column, as the ORM row the mapper expects does.
        rows: Sequence[Any] = self._rows(cast(Select[R], statement))
        more = len(rows) > page.per_page
        rows = rows[: page.per_page]
        items = self._track_all(self._to_entities(rows))
        counted = counted_with(rows, page) if counting is not None else None
        if runs is not None:
            total, exact = page.offset + min(counted or 0, reach), False
        elif counted is not None:
            total, exact = _within(reach, counted)
        elif page.skip >= ahead and rows:
            total, exact = deep_total(page, len(rows), more=more)
        else:
            total, exact = self._total(conditions, page)
        return Page(
            items=items, total=total, page=page.page, per_page=page.per_page, total_exact=exact
        )

    def get(self, entity_id: str) -> E | None:
        known = self._known(entity_id)
        if known is not None:
            return known
        return self._by_id(entity_id)

    def _by_id(self, entity_id: str, *, for_update: bool = False) -> E | None:
        with translated_errors():
            row = (
                self._session.connection()
                .execute(
                    _select_by_id(self._table(), for_update=for_update),
                    {"id": entity_id},
                    execution_options=BUILT_ONCE,
                )
                .first()
            )
        return None if row is None else self._track(self._to_entity(cast(R, row)))

    # --- writes (called by the change tracker) -------------------------------------------

    def write_new(self, entity: E) -> None:
        held = self._holding()
        if held is not None:
            held.hold(HeldWrite(self._table(), self._to_values(entity), entity))
            return
        with translated_errors(entity):
            self._session.connection().execute(
                _insert_into(self._table()), self._to_values(entity), execution_options=BUILT_ONCE
            )

    def write_new_many(self, entities: Sequence[E]) -> None:
        if len(entities) == 1:
            self.write_new(entities[0])  # keeps the entity's details in a uniqueness error
            return
        self._send_held()
        # A list of parameter sets is an executemany, which SQLAlchemy sends as multi-row
        # INSERT ... VALUES batches: a bulk load costs a few statements, not one per row.
        with translated_errors():
            self._session.connection().execute(
                _insert_into(self._table()), [self._to_values(entity) for entity in entities]
            )

    def write_changes(self, entity: E, expected_version: int, before: E | None = None) -> None:
        table = self._table()
        values = self._to_values(entity)
        del values["id"]
        if before is not None:
            # Only the columns that changed: a smaller statement to build, send and log, and
            # PostgreSQL leaves the rest of the row's values (and TOASTed ones) alone. The
            # version is among them, so the guard below still refuses a concurrent change.
            loaded = self._to_values(before)
            values = {column: value for column, value in values.items() if loaded[column] != value}
        held = self._holding()
        if held is not None:
            held.hold(HeldWrite(table, values, entity, expected_version))
            return
        values["_id"], values["_expected"] = entity.id, expected_version
        with translated_errors(entity):
            result = self._session.connection().execute(
                _update_of(table), values, execution_options=BUILT_ONCE
            )
        if result.rowcount != 1:
            raise ConcurrentUpdate(
                f"{entity.id} was changed or removed by another transaction", id=entity.id
            )

    def write_removal(self, entity: E) -> None:
        self._send_held()
        table = self._table()
        statement = delete(table).where(table.c.id == entity.id)
        version = getattr(entity, "version", None)
        if self.versioned and version is not None:
            statement = statement.where(table.c.version == version)
        with translated_errors(entity):
            result = self._session.connection().execute(statement)
        if result.rowcount != 1:
            raise ConcurrentUpdate(
                f"{entity.id} was changed or removed by another transaction", id=entity.id
            )


@cache
def _select_by_id(table: Table, *, for_update: bool) -> Select[Any]:
    """The row with ``id`` (a parameter), built once per table: building a statement and its
    cache key cost more than running it does once it is compiled."""
    statement = select(*table.columns).where(table.c.id == bindparam("id"))
    return statement.with_for_update() if for_update else statement


# The write statements, built once per table: building one and computing its cache key cost
# more than compiling it does (it is compiled once per set of columns and then cached).
@cache
def _insert_into(table: Table) -> Insert:
    return insert(table)


@cache
def _update_of(table: Table) -> Update:
    """``UPDATE table SET <the columns given> WHERE id = :_id AND version = :_expected``: the
    SET clause names the parameters that are columns of ``table``."""
    return update(table).where(
        table.c.id == bindparam("_id"), table.c.version == bindparam("_expected")
    )


# The rows after a cursor, as runs of the sort order read one after the other: each run a list
# of conditions that an index on the sort order answers by seeking to the cursor.
Keyset = Sequence[Sequence[ColumnElement[bool]]]


def keyset(
    column: Any,
    tie: Any,
    after: tuple[Any, ...],
    *,
    descending: bool,
    nulls_last: bool = False,
) -> Keyset:
    """The rows after ``after`` (a sort value and an id) in the order of ``(column, tie)``,
    both ascending or both descending, as ``application.queries.follows`` says.

    ``column >= value AND (column > value OR tie > id)`` rather than the row comparison
    ``(column, tie) > (value, id)``: both databases seek an index on ``(column, tie)`` with
    the first term, and the form reads the same in either direction. Where rows without a
    value come last, they are a second run: an ``OR column IS NULL`` in the same query would
    make the database filter the index from its start instead of seeking."""
    value, tie_value = after
    later_tie = tie < tie_value if descending else tie > tie_value
    if value is None:  # only in a nulls-last order: the rest of the rows without a value
        return [[column.is_(None), later_tie]]
    if descending:
        run = [column <= value, or_(column < value, later_tie)]
    else:
        run = [column >= value, or_(column > value, later_tie)]
    return [run, [column.is_(None)]] if nulls_last else [run]


def _ordered(column: Any, *, descending: bool, nulls_last: bool = False) -> UnaryExpression[Any]:
    ordered: UnaryExpression[Any] = column.desc() if descending else column.asc()
    return ordered.nulls_last() if nulls_last else ordered


@cache
def _in_title_order(*, descending: bool, from_block: bool) -> Select[Any]:
    """A page of the whole catalogue in title order (``title_blocks.page_ids``, with one book
    more than the page) and the catalogue's size beside its books. Built once per shape: a
    statement of this size costs more to build and to key for the compiled cache than to
    run."""
    books = cast(Table, BookRow.__table__)
    columns = SqlBookRepository._plain_columns()
    ids = title_blocks.page_ids(descending=descending, from_block=from_block)
    return (
        select(*counted_beside(columns, title_blocks.catalogue_size()))
        .where(books.c.id.in_(ids))
        .order_by(
            _ordered(books.c.title_key, descending=descending),
            _ordered(books.c.id, descending=descending),
        )
    )


class SqlBookRepository(_SqlStore[Book, BookRow]):
    row = BookRow
    plain_pages = True
    mapped_columns = mappers.BOOK_FIELDS

    def _to_entity(self, row: BookRow) -> Book:
        return mappers.book_from_row(row)

    def _to_entities(self, rows: Sequence[Any]) -> list[Book]:
        return mappers.books_from_rows(rows)

    def _to_values(self, entity: Book) -> dict[str, Any]:
        return mappers.book_values(entity)

    def get_by_isbn(self, isbn: str) -> Book | None:
        return self._first(select(BookRow).where(BookRow.isbn == isbn))

    def existing_isbns(self, isbns: Collection[str]) -> set[str]:
        return self._existing(BookRow.isbn, isbns)

    def after(self, book_id: str | None, limit: int) -> list[Book]:
        statement = select(BookRow).order_by(BookRow.id).limit(limit)
        if book_id is not None:
            statement = statement.where(BookRow.id > book_id)
        return self._all(statement)

    def write_new(self, entity: Book) -> None:
        super().write_new(entity)
        self._write_words([entity])

    def write_new_many(self, entities: Sequence[Book]) -> None:
        super().write_new_many(entities)  # one book goes through ``write_new``, words and all
        if len(entities) > 1:
            self._write_words(entities)

    def write_changes(
        self, entity: Book, expected_version: int, before: Book | None = None
    ) -> None:
        super().write_changes(entity, expected_version, before)
        if before is None or (before.title, before.authors) != (entity.title, entity.authors):
            self._remove_words(entity.id)
            self._write_words([entity])

    def write_removal(self, entity: Book) -> None:
        super().write_removal(entity)
        self._remove_words(entity.id)

    def _write_words(self, books: Sequence[Book]) -> None:
        """The books' rows of the word index (``search.word_rows``), written with them."""
        rows = [
            dict(zip(search.WORD_COLUMNS, row, strict=True))
            for book in books
            for row in search.word_rows(book.id, mappers.fold(book.title), book.authors)
        ]
        if rows:
            with translated_errors():
                self._session.connection().execute(insert(search.WORDS), rows)

    def _remove_words(self, book_id: str) -> None:
        with translated_errors():
            self._session.connection().execute(
                delete(search.WORDS).where(search.WORDS.c.book_id == book_id)
            )

    def search(self, query: BookFilter, page: PageRequest) -> Page[Book]:
        read_only_transaction(self._session)  # searching the catalogue never writes
        author = query.author_phrase
        conditions: list[ColumnElement[bool]] = []
        if author == "":
            conditions.append(false())  # an author without a letter or digit names no one
        terms = search.terms_of(query.words, author)
        if query.isbn is not None:
            conditions.append(BookRow.isbn == query.isbn)
        if query.available is not None:
            # A count kept by triggers on ``copies`` (see ``BookRow.available_copies``): the
            # filter and the total are read from indexes on ``books`` alone.
            on_shelf = BookRow.available_copies
            conditions.append(on_shelf > 0 if query.available else on_shelf < 1)
        descending = query.sort.descending
        field = query.sort.field
        after = query.sort.after(page)
        nulls_last = query.sort.nulls_last
        by_title = field == BookSort.TITLE.field
        chosen = self._driver(terms, sort_by_title=by_title) if terms and author != "" else None
        if terms and chosen is None:
            conditions.append(false())  # a word that begins no stored word matches no book
        elif chosen is not None:
            driver, vocabulary, rare, vocabularies = chosen
            others = [term for term in terms if term is not driver]
            if by_title and vocabulary is not None:
                walks = not rare and bool(others or conditions)
                lists = [(driver, vocabulary)] + [
                    (term, words)
                    for term, words in zip(terms, vocabularies, strict=True)
                    if term is not driver and words is not None
                ]
                if walks and len(lists) == len(terms) > 1 and self._leaps():
                    # Common words, which may meet anywhere in the order or nowhere: a walk
                    # of the driver's first entries could only find matches that come early.
                    found = self._page_by_leaps(lists, query, page, after)
                else:
                    found = self._page_of_words(
                        driver, vocabulary, others, query, page, after, walks=walks
                    )
                if found is not None:
                    return found
            elif not rare:
                # A common word in another order, or a prefix of too many words to merge: the
                # matches among the first books of the order, when they fill the page.
                early = self._page_by_walk(
                    [*conditions, *(term.held_by(BookRow.id) for term in terms)], query, page
                )
                if early is not None:
                    return early
            # Rare words, words that meet only far down the order, or prefixes that stand for
            # too many words to merge: the matches, found by intersecting each word's books,
            # sorted.
            if by_title:
                return self._page_of_intersection(terms, conditions, query, page)
            conditions.append(BookRow.id.in_(search.matching_ids(terms)))
            return self._sorted_matches(conditions, page, query)
        if by_title and not conditions and not terms and after is None:
            return self._page_in_title_order(page, descending=descending)
        key: Any = {
            BookSort.TITLE.field: BookRow.title_key,
            BookSort.YEAR.field: BookRow.year,
            BookSort.CREATED.field: BookRow.created_at,
        }[field]
        tie: Any = BookRow.id
        order_by = [
            # Books without a year come last in either direction.
            _ordered(key, descending=descending, nulls_last=nulls_last),
            _ordered(tie, descending=descending),
        ]
        runs = None
        if after is not None:
            runs = keyset(key, tie, after, descending=descending, nulls_last=nulls_last)
        return self._page(conditions, order_by, page, runs)

    def _page_in_title_order(self, page: PageRequest, *, descending: bool) -> Page[Book]:
        """A page by number of the whole catalogue in title order, found from the counted
        blocks of that order (``title_blocks``) rather than by walking to it, with the
        catalogue's exact size as its total."""
        statement = _in_title_order(
            descending=descending, from_block=title_blocks.from_a_block(page.skip)
        )
        bound = {"skip": page.skip, "count": page.per_page + 1}
        with translated_errors():
            connection = self._session.connection()
            rows = connection.execute(statement, bound, execution_options=BUILT_ONCE).all()
            total = counted_with(rows, page)
            if total is None:  # past the last book: no row came to carry the size
                size = title_blocks.catalogue_size()
                total = int(connection.execute(size, execution_options=BUILT_ONCE).scalar_one())
        if descending:
            rows = title_blocks.in_descending_page(rows, total, page.skip)
        items = self._track_all(self._to_entities(rows[: page.per_page]))
        return Page(
            items=items, total=total, page=page.page, per_page=page.per_page, total_exact=True
        )

    def _driver(
        self, terms: list[Term], *, sort_by_title: bool
    ) -> tuple[Term, list[str] | None, bool, list[list[str] | None]] | None:
        """The term whose books are read in order, with the stored words it stands for (or
        ``None`` when there are too many to merge), whether it is rare (held by no more than
        ``DRIVER_COUNT`` books, so read whole at little cost), and every term's stored words,
        in ``terms``' order; ``None`` when a term stands for no stored word, so nothing
        matches. With several, the one held by fewest books among those that can be read in
        order, counted as far as ``DRIVER_COUNT``."""
        # A single word by title needs no count: all its books match.
        counted = len(terms) > 1 or not sort_by_title
        with translated_errors():
            expanded = search.expand(self._session, terms, counted=counted)
        vocabularies = [words for words, _ in expanded]
        if any(words == [] for words in vocabularies):
            return None
        if not counted:
            return (terms[0], vocabularies[0], False, vocabularies)
        ordered = [n for n, words in enumerate(vocabularies) if words is not None]
        fewest, chosen = min((expanded[n][1], n) for n in ordered or range(len(terms)))
        return (terms[chosen], vocabularies[chosen], fewest <= search.DRIVER_COUNT, vocabularies)

    def _leaps(self) -> bool:
        """Whether the database can leapfrog the word lists (``search.leap_page``): PostgreSQL,
        whose ``LATERAL`` seeks each list from a place the query works out as it goes."""
        return self._session.get_bind().dialect.name == "postgresql"

    def _page_by_leaps(
        self,
        lists: list[tuple[Term, list[str]]],
        query: BookFilter,
        page: PageRequest,
        after: tuple[Any, ...] | None,
    ) -> Page[Book] | None:
        """A search by title for several terms (with the stored words each stands for, the
        driver's first), found by leapfrogging their lists to the first match and merge-joining
        them from there (``search.leap_page``); ``None`` when that does not settle the page:
        no match within ``LEAP_BUDGET`` steps, slices of the lists (``LEAP_SPAN`` times the
        matches wanted) holding too few matches to fill it, or a page past the last match.

        The total counts the matches as any search by title does (exact up to ``count_ahead``
        past the page, a bound beyond); when a slice was cut short of the matches the count
        reaches, it is the matches found, a bound that reaches past the page."""
        words = [stored for _, stored in lists]
        shape = search.LeapShape(
            words=tuple(len(each) for each in words),
            isbn=query.isbn is not None,
            available=query.available,
            after=after is not None,
            descending=query.sort.descending,
        )
        statement, whole = search.leap_page(shape)
        values = search.leap_values([term for term, _ in lists], words, query.isbn)
        ahead = count_ahead(page)
        deep = after is None and page.skip >= ahead
        reach = page.per_page + ahead + (0 if after is not None else page.skip)
        wanted = page.skip + page.per_page + 1
        limit = wanted if deep else reach + 1
        values.update(
            budget=search.LEAP_BUDGET,
            span=search.LEAP_SPAN * limit,
            limit=limit,
            skip=page.skip if after is None else 0,
            rows=page.per_page + 1,
        )
        if after is not None:
            values["after_key"], values["after_id"] = after
        connection = self._session.connection()
        with translated_errors():
            rows: Sequence[Any] = connection.execute(
                statement, values, execution_options=BUILT_ONCE
            ).all()
            status = rows[0]
            if status.first_key is None:
                if (status.steps or 0) >= search.LEAP_BUDGET:
                    return None  # none yet, maybe further on
                rows = []  # no match from the start (or the cursor) on
                counted, read_whole = 0, True
            elif status.found is None:
                return None  # past the last match, which the intersection counts
            else:
                counted = int(status.found)
                read_whole = counted < limit and bool(
                    connection.execute(
                        whole,
                        {**values, "first_key": status.first_key, "first_id": status.first_id},
                        execution_options=BUILT_ONCE,
                    ).scalar_one()
                )
        if counted < wanted and not read_whole:
            return None  # the slices end before the page does
        more = len(rows) > page.per_page
        items = self._track_all(self._to_entities(rows[: page.per_page]))
        if after is not None:
            total, exact = page.offset + min(counted, reach), False
        elif deep and items:
            total, exact = deep_total(page, len(items), more=more)
        else:
            total, exact = min(counted, reach), read_whole and counted <= reach
        return Page(
            items=items, total=total, page=page.page, per_page=page.per_page, total_exact=exact
        )

    def _sorted_matches(
        self, conditions: list[ColumnElement[bool]], page: PageRequest, query: BookFilter
    ) -> Page[Book]:
        """A search's matches, found from the word index, sorted. The same values, in
        expressions no index provides, make the planner find the matches first rather than
        walk the sort index until enough turn up."""
        descending, nulls_last = query.sort.descending, query.sort.nulls_last
        key: Any = {
            BookSort.TITLE.field: BookRow.title_key.concat(""),
            BookSort.YEAR.field: BookRow.year + 0,
            BookSort.CREATED.field: BookRow.created_at + timedelta(0),
        }[query.sort.field]
        tie: Any = BookRow.id.concat("")
        order_by = [
            _ordered(key, descending=descending, nulls_last=nulls_last),
            _ordered(tie, descending=descending),
        ]
        after = query.sort.after(page)
        if after is None:
            return self._page_of_matches(conditions, order_by, page)
        runs = keyset(key, tie, after, descending=descending, nulls_last=nulls_last)
        return self._page(conditions, order_by, page, runs)

    def _page_of_intersection(
        self,
        terms: list[Term],
        conditions: list[ColumnElement[bool]],
        query: BookFilter,
        page: PageRequest,
    ) -> Page[Book]:
        """A search by title, its matches found by intersecting each term's entries in the
        word index, sorted by the title they carry, counted on the way (the sort reads every
        match anyway), and only the page's books read from the table."""
        matches = search.matching_in_title_order(terms).subquery("matches")
        descending = query.sort.descending
        in_order = [
            _ordered(matches.c.title_key, descending=descending),
            _ordered(matches.c.book_id, descending=descending),
        ]
        listed = select(matches.c.title_key, matches.c.book_id, func.count().over().label("found"))
        if conditions:
            listed = listed.join(BookRow, BookRow.id == matches.c.book_id).where(*conditions)
        after = query.sort.after(page)
        if after is not None:
            (run,) = keyset(matches.c.title_key, matches.c.book_id, after, descending=descending)
            listed = listed.where(*run)
        ranked = (
            listed.order_by(*in_order)
            .offset(page.skip if after is None else 0)
            .limit(page.per_page + 1)
            .subquery("ranked")
        )
        books = self._table()
        statement = (
            select(*self._plain_columns(), ranked.c.found)
            .join(ranked, books.c.id == ranked.c.book_id)
            .order_by(
                _ordered(ranked.c.title_key, descending=descending),
                _ordered(ranked.c.book_id, descending=descending),
            )
        )
        with translated_errors():
            rows: Sequence[Any] = self._session.execute(statement).all()
            if rows:
                counted = int(rows[0].found)
            else:
                counted = int(
                    self._session.execute(
                        select(func.count()).select_from(listed.subquery())
                    ).scalar_one()
                )
        items = self._track_all(self._to_entities(rows[: page.per_page]))
        ahead = count_ahead(page)
        reach = page.skip + page.per_page + ahead
        if after is not None:
            total, exact = page.offset + min(counted, page.per_page + ahead), False
        else:
            total, exact = min(counted, reach), counted <= reach
        return Page(
            items=items, total=total, page=page.page, per_page=page.per_page, total_exact=exact
        )

    def _page_by_walk(
        self, conditions: list[ColumnElement[bool]], query: BookFilter, page: PageRequest
    ) -> Page[Book] | None:
        """The page, if the matches among the first ``WALK_BUDGET`` books in the sort order
        (from the cursor, if any) fill it (and one more, so that ``next`` is known); ``None``
        otherwise. Its total is the matches among those books: exact in a catalogue that
        small, else a lower bound (counting every match of a common word would cost what the
        walk saved)."""
        descending, nulls_last = query.sort.descending, query.sort.nulls_last
        key: Any = {
            BookSort.TITLE.field: BookRow.title_key,
            BookSort.YEAR.field: BookRow.year,
            BookSort.CREATED.field: BookRow.created_at,
        }[query.sort.field]
        order_by = [
            _ordered(key, descending=descending, nulls_last=nulls_last),
            _ordered(BookRow.id, descending=descending),
        ]
        table = self._table()
        after = query.sort.after(page)
        from_cursor: list[ColumnElement[bool]] = []
        if after is not None:
            runs = keyset(key, BookRow.id, after, descending=descending, nulls_last=nulls_last)
            from_cursor.append(or_(*(and_(*run) for run in runs)))
        # A subquery with its own LIMIT: PostgreSQL walks the sort index for it and hands rows
        # on as it reads them, so the outer LIMIT stops the walk.
        walk = (
            select(*table.columns)
            .where(*from_cursor)
            .order_by(*order_by)
            .limit(search.WALK_BUDGET)
            .subquery("walk")
        )
        on_walk = sql_util.ClauseAdapter(walk)
        matching = [on_walk.traverse(condition) for condition in conditions]
        reach = page.skip + page.per_page + count_ahead(page)
        ranked = (
            select(walk.c.id, func.count().over().label("found"))
            .where(*matching)
            .order_by(*(on_walk.traverse(term) for term in order_by))
            .limit(reach + 1)
            .subquery("ranked")
        )
        statement = (
            select(*self._plain_columns(), ranked.c.found)
            .join(ranked, table.c.id == ranked.c.id)
            .order_by(*order_by)
            .offset(page.skip)
            .limit(page.per_page + 1)
        )
        with translated_errors():
            rows: Sequence[Any] = self._session.execute(statement).all()
        if len(rows) <= page.per_page:
            return None
        counted = int(rows[0].found)
        items = self._track_all(self._to_entities(rows[:-1]))
        if after is not None:
            total, exact = page.offset + min(counted, reach), False
        else:
            # Exact when the walk read every book (a catalogue that small) and the count
            # stopped short of its reach.
            total, exact = (
                min(counted, reach),
                counted <= reach and self._count_upto(search.WALK_BUDGET + 1) <= search.WALK_BUDGET,
            )
        return Page(
            items=items, total=total, page=page.page, per_page=page.per_page, total_exact=exact
        )

    def _page_of_words(
        self,
        driver: Term,
        vocabulary: list[str],
        others: list[Term],
        query: BookFilter,
        page: PageRequest,
        after: tuple[Any, ...] | None,
        *,
        walks: bool,
    ) -> Page[Book] | None:
        """A search by title, read from the word index in title order: the books of each word
        ``driver`` stands for, merged, each tested for ``others`` and the book filters; the
        page and the count (as far as ``count_ahead`` past it) stop where they are found.

        When ``walks``, each word's list is read no further than ``WALK_BUDGET`` entries:
        ``None`` if the page is not filled by then, and its total is a lower bound."""
        shape = search.PageShape(
            words=len(vocabulary),
            kind=driver.kind,
            others=tuple(term.kind for term in others),
            isbn=query.isbn is not None,
            available=query.available,
            after=after is not None,
            descending=query.sort.descending,
            walks=walks,
        )
        statement, count = search.word_page(shape)
        values = search.word_page_values(vocabulary, others, query.isbn)
        ahead = count_ahead(page)
        deep = after is None and page.skip >= ahead
        reach = page.per_page + ahead + (0 if after is not None else page.skip)
        # The matches are read as far as the count's reach, and one more, which tells an
        # exact count from a bound; a deep page only to its end, and one more.
        # A walk reads no further than the page's end either: what it found is a lower bound.
        values["limit"] = page.skip + page.per_page + 1 if deep or walks else reach + 1
        values["skip"] = page.skip if after is None else 0
        values["rows"] = page.per_page + 1
        values["walk"] = search.WALK_BUDGET
        if after is not None:
            values["after_key"], values["after_id"] = after
        connection = self._session.connection()
        with translated_errors():
            rows: Sequence[Any] = connection.execute(
                statement, values, execution_options=BUILT_ONCE
            ).all()
            more = len(rows) > page.per_page
            if walks and not more:
                return None  # the walk may have stopped before the last match
            if rows:
                found = rows[0].found
            elif values["skip"]:
                found = connection.execute(count, values, execution_options=BUILT_ONCE).scalar_one()
            else:
                found = 0  # nothing from the start (or the cursor) on: no match to count
        counted = int(found)
        rows = rows[: page.per_page]
        items = self._track_all(self._to_entities(rows))
        if after is not None:
            total, exact = page.offset + min(counted, reach), False
        elif (deep or walks) and rows:
            total, exact = deep_total(page, len(rows), more=more)
        else:
            total, exact = min(counted, reach), counted <= reach
        return Page(
            items=items, total=total, page=page.page, per_page=page.per_page, total_exact=exact
        )

    def _page_of_matches(
        self,
        conditions: Sequence[ColumnElement[bool]],
        order_by: Sequence[UnaryExpression[Any]],
        page: PageRequest,
    ) -> Page[Book]:
        """The page by number of a search's matches found from the word index, with their
        count, in one statement: sorting them reads every match anyway, so counting them on
        the way costs nothing more, where a count of its own would look them all up again.
        The total is then reported as any list's (exact up to ``count_ahead`` past the page,
        that reach as a lower bound beyond)."""
        table = self._table()
        ranked = (
            select(table.c.id, func.count().over().label("matches"))
            .where(*conditions)
            .order_by(*order_by)
            .offset(page.skip)
            .limit(page.per_page)
            .subquery("ranked")
        )
        statement = (
            select(*self._plain_columns(), ranked.c.matches)
            .join(ranked, table.c.id == ranked.c.id)
            .order_by(*order_by)
        )
        with translated_errors():
            rows = self._session.execute(statement).all()
        if not rows:  # past the last match: counted as a page by number is
            total, exact = self._total(conditions, page)
        else:
            reach = page.skip + page.per_page + count_ahead(page)
            matches = int(rows[0].matches)
            total, exact = min(matches, reach), matches <= reach
        items = self._track_all(self._to_entities(rows))
        return Page(
            items=items, total=total, page=page.page, per_page=page.per_page, total_exact=exact
        )


class SqlCopyRepository(_SqlStore[Copy, CopyRow]):
    row = CopyRow
    held_writes = True

    def _to_entity(self, row: CopyRow) -> Copy:
        return mappers.copy_from_row(row)

    def _to_values(self, entity: Copy) -> dict[str, Any]:
        return mappers.copy_values(entity)

    def get_by_barcode(self, barcode: str) -> Copy | None:
        return self._first(select(CopyRow).where(CopyRow.barcode == barcode))

    def existing_barcodes(self, barcodes: Collection[str]) -> set[str]:
        return self._existing(CopyRow.barcode, barcodes)

    def circulating_counts(self, book_ids: Collection[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        wanted = list(set(book_ids))
        for start in range(0, len(wanted), _IN_CHUNK):
            statement = (
                select(CopyRow.book_id, func.count())
                .where(
                    CopyRow.book_id.in_(wanted[start : start + _IN_CHUNK]),
                    CopyRow.status.not_in([CopyStatus.LOST, CopyStatus.WITHDRAWN]),
                )
                .group_by(CopyRow.book_id)
            )
            with translated_errors():
                counts.update((book_id, int(n)) for book_id, n in self._session.execute(statement))
        return counts

    def for_book(self, book_id: str) -> list[Copy]:
        return self._all(
            select(CopyRow).where(CopyRow.book_id == book_id).order_by(CopyRow.barcode)
        )


class SqlMemberRepository(_SqlStore[Member, MemberRow]):
    row = MemberRow
    held_writes = True

    def _to_entity(self, row: MemberRow) -> Member:
        return mappers.member_from_row(row)

    def _to_values(self, entity: Member) -> dict[str, Any]:
        return mappers.member_values(entity)

    def get(self, member_id: str, *, for_update: bool = False) -> Member | None:
        known = None if for_update else self._known(member_id)  # a lock is taken by a read
        if known is not None:
            return known
        # With ``for_update``, PostgreSQL locks the row until the transaction ends. SQLite has
        # no row locks (the dialect leaves the clause out); its transactions hold the write
        # lock from BEGIN.
        return self._by_id(member_id, for_update=for_update)

    def get_by_email(self, email: str) -> Member | None:
        # Emails are stored in the domain's normal form (lower case).
        return self._first(select(MemberRow).where(MemberRow.email == email.lower()))

    def get_by_card_number(self, card_number: str) -> Member | None:
        return self._first(select(MemberRow).where(MemberRow.card_number == card_number))

    def existing_card_numbers(self, card_numbers: Collection[str]) -> set[str]:
        return self._existing(MemberRow.card_number, card_numbers)

    def list(self, query: MemberFilter, page: PageRequest) -> Page[Member]:
        after = MEMBER_ORDER.after(page)
        conditions: list[ColumnElement[bool]] = []
        if query.q:
            needle = mappers.fold(query.q)
            conditions.append(
                or_(
                    MemberRow.name_key.contains(needle, autoescape=True),
                    MemberRow.email.contains(needle, autoescape=True),
                )
            )
        if query.card_number is not None:
            conditions.append(MemberRow.card_number == query.card_number)
        if query.role is not None:
            conditions.append(MemberRow.role == query.role)
        if query.status is not None:
            conditions.append(MemberRow.status == query.status)
        runs = None
        if after is not None:
            runs = keyset(MemberRow.created_at, MemberRow.id, after, descending=False)
        order_by: list[UnaryExpression[Any]] = [MemberRow.created_at.asc(), MemberRow.id.asc()]
        return MEMBER_ORDER.paged(self._page(conditions, order_by, page, runs))


_LOAN_IS_OPEN = LoanRow.returned_at.is_(None)


def _overdue_at(now: datetime) -> ColumnElement[bool]:
    """Open, past due, and not disputed (a loan claimed returned is no longer overdue)."""
    return and_(_LOAN_IS_OPEN, LoanRow.due_at < now, LoanRow.status == LoanStatus.OPEN)


class SqlLoanRepository(_SqlStore[Loan, LoanRow]):
    row = LoanRow
    held_writes = True

    def _to_entity(self, row: LoanRow) -> Loan:
        return mappers.loan_from_row(row)

    def _to_values(self, entity: Loan) -> dict[str, Any]:
        return mappers.loan_values(entity)

    def _oldest_first(self, *conditions: ColumnElement[bool]) -> list[Loan]:
        return self._all(select(LoanRow).where(*conditions).order_by(LoanRow.loaned_at, LoanRow.id))

    def open_for_member(self, member_id: str) -> list[Loan]:
        return self._oldest_first(LoanRow.member_id == member_id, _LOAN_IS_OPEN)

    def open_for_copy(self, copy_id: str) -> Loan | None:
        return self._first(select(LoanRow).where(LoanRow.copy_id == copy_id, _LOAN_IS_OPEN))

    def open_count_for_book(self, book_id: str) -> int:
        return self._count(LoanRow.book_id == book_id, _LOAN_IS_OPEN)

    def closed_for_member(self, member_id: str) -> list[Loan]:
        return self._oldest_first(LoanRow.member_id == member_id, ~_LOAN_IS_OPEN)

    def closed_for_book(self, book_id: str) -> list[Loan]:
        return self._oldest_first(LoanRow.book_id == book_id, ~_LOAN_IS_OPEN)

    def overdue(self, now: datetime) -> list[Loan]:
        return self._all(
            select(LoanRow).where(_overdue_at(now)).order_by(LoanRow.due_at, LoanRow.id)
        )

    def lost_for_copy(self, copy_id: str) -> Loan | None:
        latest = self._first(
            select(LoanRow)
            .where(LoanRow.copy_id == copy_id, ~_LOAN_IS_OPEN)
            .order_by(LoanRow.loaned_at.desc(), LoanRow.id.desc())
        )
        return latest if latest is not None and latest.status is LoanStatus.LOST else None

    def returned_before(self, cutoff: datetime, *, not_of: str, limit: int) -> list[Loan]:
        return self._all(
            select(LoanRow)
            .where(LoanRow.returned_at < cutoff, LoanRow.member_id != not_of)
            .order_by(LoanRow.returned_at, LoanRow.id)
            .limit(limit)
        )

    def list(self, query: LoanFilter, page: PageRequest, now: datetime) -> Page[Loan]:
        after = LOAN_ORDER.after(page)
        conditions: list[ColumnElement[bool]] = []
        if query.member_id is not None:
            conditions.append(LoanRow.member_id == query.member_id)
        if query.book_id is not None:
            conditions.append(LoanRow.book_id == query.book_id)
        if query.copy_id is not None:
            conditions.append(LoanRow.copy_id == query.copy_id)
        if query.state is LoanState.OPEN:
            conditions.append(_LOAN_IS_OPEN)
        elif query.state is LoanState.OVERDUE:
            conditions.append(_overdue_at(now))
        elif query.state is not None:
            conditions.append(LoanRow.status == LoanStatus(query.state.value))
        runs = None
        if after is not None:
            runs = keyset(LoanRow.loaned_at, LoanRow.id, after, descending=True)
        order_by: list[UnaryExpression[Any]] = [LoanRow.loaned_at.desc(), LoanRow.id.desc()]
        return LOAN_ORDER.paged(self._page(conditions, order_by, page, runs))


def _one_of(column: Any, values: Collection[str]) -> ColumnElement[bool]:
    """``column IN (...)`` of constants of the code, written into the SQL: a list of bound
    values would be expanded into the statement's text again on every run of it."""
    quoted: list[ColumnElement[Any]] = [
        literal_column("'" + str(value).replace("'", "''") + "'") for value in sorted(values)
    ]
    return cast(ColumnElement[bool], column.in_(quoted))


_HOLD_IS_ACTIVE = _one_of(HoldRow.status, ACTIVE_HOLD_STATUSES)
_QUEUE_ORDER = (HoldRow.queued_at.asc(), HoldRow.id.asc())


class SqlHoldRepository(_SqlStore[Hold, HoldRow]):
    row = HoldRow
    held_writes = True

    def _to_entity(self, row: HoldRow) -> Hold:
        return mappers.hold_from_row(row)

    def _to_values(self, entity: Hold) -> dict[str, Any]:
        return mappers.hold_values(entity)

    def _in_queue_order(self, *conditions: ColumnElement[bool]) -> list[Hold]:
        return self._all(select(HoldRow).where(*conditions).order_by(*_QUEUE_ORDER))

    def active_for_book(self, book_id: str) -> list[Hold]:
        return self._in_queue_order(HoldRow.book_id == book_id, _HOLD_IS_ACTIVE)

    def active_for_member(self, member_id: str) -> list[Hold]:
        return self._in_queue_order(HoldRow.member_id == member_id, _HOLD_IS_ACTIVE)

    def waiting_not_needed(self, today: date) -> list[Hold]:
        return self._in_queue_order(
            HoldRow.status == HoldStatus.WAITING, HoldRow.not_needed_after < today
        )

    def ready_past_pickup(self, now: datetime) -> list[Hold]:
        return self._all(
            select(HoldRow)
            .where(HoldRow.status == HoldStatus.READY, HoldRow.pickup_by < now)
            .order_by(HoldRow.pickup_by, HoldRow.id)
        )

    def for_member(self, member_id: str) -> list[Hold]:
        return self._in_queue_order(HoldRow.member_id == member_id)

    def for_book(self, book_id: str) -> list[Hold]:
        return self._in_queue_order(HoldRow.book_id == book_id)

    def list(self, query: HoldFilter, page: PageRequest) -> Page[Hold]:
        after = HOLD_ORDER.after(page)
        conditions: list[ColumnElement[bool]] = []
        if query.member_id is not None:
            conditions.append(HoldRow.member_id == query.member_id)
        if query.book_id is not None:
            conditions.append(HoldRow.book_id == query.book_id)
        if query.status is not None:
            conditions.append(HoldRow.status == query.status)
        runs = None
        if after is not None:
            runs = keyset(HoldRow.queued_at, HoldRow.id, after, descending=False)
        return HOLD_ORDER.paged(self._page(conditions, _QUEUE_ORDER, page, runs))


# Charges and refunds count for the member's debt, every other line against it.
_SIGNED_CENTS = case(
    (_one_of(LedgerEntryRow.kind, DEBITS), LedgerEntryRow.amount_cents),
    else_=-LedgerEntryRow.amount_cents,
)
_ALLOCATIONS = cast(Table, LedgerAllocationRow.__table__)


@cache
def _open_loans_and_balance(*, with_holds: bool = False) -> CompoundSelect[Any]:
    """A member's open loans, oldest first, and their ledger balance (``member_id``); with
    ``with_holds``, their active holds in queue order too."""
    member_id = bindparam("member_id", type_=LoanRow.member_id.type)
    parts = [
        Part(
            "loans",
            LoanRow,
            where=[LoanRow.member_id == member_id, _LOAN_IS_OPEN],
            order_by=[LoanRow.loaned_at, LoanRow.id],
        ),
        Part(
            "ledger",
            LedgerEntryRow,
            where=[LedgerEntryRow.member_id == member_id],
            values={"balance": func.coalesce(func.sum(_SIGNED_CENTS), 0)},
        ),
    ]
    if with_holds:
        parts.append(
            Part(
                "holds",
                HoldRow,
                where=[HoldRow.member_id == member_id, _HOLD_IS_ACTIVE],
                order_by=[HoldRow.queued_at, HoldRow.id],
            )
        )
    return together(parts)


def read_open_loans_and_balance(
    session: Session, loans: SqlLoanRepository, member_id: str
) -> tuple[list[Loan], int]:
    """``UnitOfWork.open_loans_and_balance`` in one round trip."""
    rows = read_together(session, _open_loans_and_balance(), {"member_id": member_id})
    (ledger,) = rows["ledger"]  # an aggregate: one row, also for a member without lines
    return loans.entities_of(rows.get("loans", [])), int(ledger.balance)


def read_open_loans_balance_and_holds(
    session: Session, loans: SqlLoanRepository, holds: SqlHoldRepository, member_id: str
) -> tuple[list[Loan], int, list[Hold]]:
    """``UnitOfWork.open_loans_balance_and_holds`` in one round trip."""
    statement = _open_loans_and_balance(with_holds=True)
    rows = read_together(session, statement, {"member_id": member_id})
    (ledger,) = rows["ledger"]
    return (
        loans.entities_of(rows.get("loans", [])),
        int(ledger.balance),
        holds.entities_of(rows.get("holds", [])),
    )


@cache
def _copy_and_open_loan() -> CompoundSelect[Any]:
    """The copy with ``barcode`` and its open loan, if it has one."""
    barcode = bindparam("barcode", type_=CopyRow.barcode.type)
    scanned = select(CopyRow.id).where(CopyRow.barcode == barcode).scalar_subquery()
    return together(
        [
            Part("copy", CopyRow, where=[CopyRow.barcode == barcode]),
            Part("loan", LoanRow, where=[LoanRow.copy_id == scanned, _LOAN_IS_OPEN]),
        ]
    )


def read_copy_and_open_loan(
    session: Session, copies: SqlCopyRepository, loans: SqlLoanRepository, barcode: str
) -> tuple[Copy | None, Loan | None]:
    """``UnitOfWork.copy_and_open_loan`` in one round trip."""
    rows = read_together(session, _copy_and_open_loan(), {"barcode": barcode})
    found_copies = copies.entities_of(rows.get("copy", []))
    found_loans = loans.entities_of(rows.get("loan", []))
    return (
        found_copies[0] if found_copies else None,
        found_loans[0] if found_loans else None,
    )


class SqlLedgerRepository(_SqlStore[LedgerEntry, LedgerEntryRow]):
    """Lines with their allocations (``ledger_allocations``), written and read together."""

    row = LedgerEntryRow
    versioned = False

    def _to_entity(self, row: LedgerEntryRow) -> LedgerEntry:
        return mappers.ledger_entry_from_row(row, self._allocations([row.id]).get(row.id, ()))

    def _to_values(self, entity: LedgerEntry) -> dict[str, Any]:
        return mappers.ledger_entry_values(entity)

    def _allocations(self, entry_ids: Sequence[str]) -> dict[str, list[Allocation]]:
        found: dict[str, list[Allocation]] = {}
        for start in range(0, len(entry_ids), _IN_CHUNK):
            statement = (
                select(_ALLOCATIONS)
                .where(_ALLOCATIONS.c.entry_id.in_(entry_ids[start : start + _IN_CHUNK]))
                .order_by(_ALLOCATIONS.c.entry_id, _ALLOCATIONS.c.position)
            )
            with translated_errors():
                for row in self._session.execute(statement):
                    found.setdefault(row.entry_id, []).append(
                        Allocation(row.charge_id, row.amount_cents)
                    )
        return found

    def write_new(self, entity: LedgerEntry) -> None:
        super().write_new(entity)
        self._write_allocations([entity])

    def write_new_many(self, entities: Sequence[LedgerEntry]) -> None:
        if len(entities) == 1:
            self.write_new(entities[0])  # the base class would, allocations and all
            return
        super().write_new_many(entities)
        self._write_allocations(entities)

    def _write_allocations(self, entities: Sequence[LedgerEntry]) -> None:
        rows = [values for entity in entities for values in mappers.allocation_values(entity)]
        if rows:
            with translated_errors():
                self._session.connection().execute(insert(_ALLOCATIONS), rows)

    def write_changes(
        self, entity: LedgerEntry, expected_version: int, before: LedgerEntry | None = None
    ) -> None:
        raise NotImplementedError("ledger entries are immutable")

    def write_removal(self, entity: LedgerEntry) -> None:
        self._send_held()
        # Allocations to the line, and its own, go with it (the member's lines go together).
        statement = delete(_ALLOCATIONS).where(
            or_(_ALLOCATIONS.c.entry_id == entity.id, _ALLOCATIONS.c.charge_id == entity.id)
        )
        with translated_errors(entity):
            self._session.connection().execute(statement)
        super().write_removal(entity)

    def for_member(self, member_id: str) -> list[LedgerEntry]:
        statement = (
            select(LedgerEntryRow)
            .where(LedgerEntryRow.member_id == member_id)
            .order_by(LedgerEntryRow.created_at, LedgerEntryRow.id)
        )
        rows = self._rows(statement)
        allocations = self._allocations([row.id for row in rows])
        return self._track_all(
            mappers.ledger_entry_from_row(row, allocations.get(row.id, ())) for row in rows
        )

    def balance(self, member_id: str) -> int:
        statement = select(func.coalesce(func.sum(_SIGNED_CENTS), 0)).where(
            LedgerEntryRow.member_id == member_id
        )
        with translated_errors():
            return int(self._session.execute(statement).scalar_one())

    def balances(self) -> dict[str, int]:
        total = func.sum(_SIGNED_CENTS)
        statement = (
            select(LedgerEntryRow.member_id, total)
            .group_by(LedgerEntryRow.member_id)
            .having(total != 0)
        )
        with translated_errors():
            return {member_id: int(cents) for member_id, cents in self._session.execute(statement)}


class SqlBookCirculationRepository(BookCirculationStore):
    _books: SqlBookRepository
    _copies: SqlCopyRepository
    _holds: SqlHoldRepository

    def __init__(
        self,
        tracker: ChangeTracker,
        books: SqlBookRepository,
        copies: SqlCopyRepository,
        holds: SqlHoldRepository,
        emit: Callable[[Sequence[Event]], None],
        session: Session,
    ) -> None:
        super().__init__(tracker, books, copies, holds, emit)
        self._session = session

    def _load(self, book_id: str) -> tuple[list[Copy], list[Hold]]:
        # Two indexed reads: (book_id, status) on copies, (book_id, status, queued_at, id) on
        # holds. The member row lock taken by the use cases orders competing decisions.
        return self._copies.for_book(book_id), self._holds.active_for_book(book_id)

    def _load_with_book(self, book_id: str) -> tuple[Book | None, list[Copy], list[Hold]]:
        # The three reads in one round trip: every circulation decision starts with them.
        rows = read_together(self._session, _book_circulation(), {"book_id": book_id})
        return self.loaded_with_book(rows)

    def loaded_with_book(
        self, rows: dict[str, list[Any]]
    ) -> tuple[Book | None, list[Copy], list[Hold]]:
        """What ``_load_with_book`` returns, of the rows ``book_circulation_parts`` read (in a
        statement that may read other parts too), tracked."""
        books = self._books.entities_of(rows.get("book", []))
        return (books[0] if books else None, *self.loaded(rows))

    def loaded(self, rows: dict[str, list[Any]]) -> tuple[list[Copy], list[Hold]]:
        """The copies and holds of rows read by ``book_circulation_parts`` (in a statement that
        may read other parts too), tracked."""
        return (
            self._copies.entities_of(rows.get("copies", [])),
            self._holds.entities_of(rows.get("holds", [])),
        )


@cache
def _book_circulation() -> CompoundSelect[Any]:
    return together(book_circulation_parts())


@cache
def book_circulation_parts() -> tuple[Part, ...]:
    """A book, its copies by barcode and its active holds in queue order (``book_id``)."""
    book_id = bindparam("book_id", type_=BookRow.id.type)
    return (
        Part("book", BookRow, where=[BookRow.id == book_id]),
        Part("copies", CopyRow, where=[CopyRow.book_id == book_id], order_by=[CopyRow.barcode]),
        Part(
            "holds",
            HoldRow,
            where=[HoldRow.book_id == book_id, _HOLD_IS_ACTIVE],
            order_by=[HoldRow.queued_at, HoldRow.id],
        ),
    )


class SqlMemberCategoryRepository(_SqlStore[MemberCategory, MemberCategoryRow]):
    row = MemberCategoryRow

    def _to_entity(self, row: MemberCategoryRow) -> MemberCategory:
        return mappers.member_category_from_row(row)

    def _to_values(self, entity: MemberCategory) -> dict[str, Any]:
        return mappers.member_category_values(entity)

    def get(self, entity_id: str) -> MemberCategory | None:
        return self._first(select(MemberCategoryRow).where(MemberCategoryRow.code == entity_id))

    def all(self) -> list[MemberCategory]:
        return self._all(select(MemberCategoryRow).order_by(MemberCategoryRow.code))

    def write_changes(
        self,
        entity: MemberCategory,
        expected_version: int,
        before: MemberCategory | None = None,  # noqa: ARG002 (rarely changed: every column is written)
    ) -> None:
        self._send_held()
        _write_by_code(self._session, self._table(), self._to_values(entity), expected_version)


class SqlItemTypeRepository(_SqlStore[ItemType, ItemTypeRow]):
    row = ItemTypeRow

    def _to_entity(self, row: ItemTypeRow) -> ItemType:
        return mappers.item_type_from_row(row)

    def _to_values(self, entity: ItemType) -> dict[str, Any]:
        return mappers.item_type_values(entity)

    def get(self, entity_id: str) -> ItemType | None:
        return self._first(select(ItemTypeRow).where(ItemTypeRow.code == entity_id))

    def all(self) -> list[ItemType]:
        return self._all(select(ItemTypeRow).order_by(ItemTypeRow.code))

    def write_changes(
        self,
        entity: ItemType,
        expected_version: int,
        before: ItemType | None = None,  # noqa: ARG002 (rarely changed: every column is written)
    ) -> None:
        self._send_held()
        _write_by_code(self._session, self._table(), self._to_values(entity), expected_version)


def _write_by_code(
    session: Session, table: Table, values: dict[str, Any], expected_version: int
) -> None:
    """The versioned UPDATE of a table keyed by ``code`` rather than ``id``."""
    code = values.pop("code")
    statement = (
        update(table)
        .where(table.c.code == code, table.c.version == expected_version)
        .values(values)
    )
    with translated_errors():
        result = session.connection().execute(statement)
    if result.rowcount != 1:
        raise ConcurrentUpdate(f"{code} was changed or removed by another transaction", id=code)


class SqlCirculationRuleRepository(_SqlStore[CirculationRule, CirculationRuleRow]):
    row = CirculationRuleRow

    def _to_entity(self, row: CirculationRuleRow) -> CirculationRule:
        return mappers.rule_from_row(row)

    def _to_values(self, entity: CirculationRule) -> dict[str, Any]:
        return mappers.rule_values(entity)

    def all(self) -> list[CirculationRule]:
        return self._all(select(CirculationRuleRow).order_by(CirculationRuleRow.id))


class SqlClosureRepository(_SqlStore[Closure, ClosureRow]):
    row = ClosureRow

    def _to_entity(self, row: ClosureRow) -> Closure:
        return mappers.closure_from_row(row)

    def _to_values(self, entity: Closure) -> dict[str, Any]:
        return mappers.closure_values(entity)

    def all(self) -> list[Closure]:
        return self._all(
            select(ClosureRow).order_by(
                ClosureRow.weekday.is_(None), ClosureRow.weekday, ClosureRow.day
            )
        )
