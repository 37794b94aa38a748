"""Bulk loads: many books (with their copies) or members in a few set-based statements.

A load costs a few statements per batch rather than a few per row, and the bookkeeping that
triggers do row by row for single writes (``books.available_copies``, migration 0005) is done
once per batch, in the same transaction, and so is the word index that book search reads
(``book_words``, ``adapters.sqlalchemy.search``), whose rows are split in Python by the rule
the query uses and sent with the batch:

- First, on both, the books whose ISBN is stored already (a re-run) are set aside, then those
  one of whose barcodes is: each by looking the batch's values up in the column's unique index
  (a few hundred probes per statement), a cost that follows the batch, not the size of the
  table, before any row is sent.
- PostgreSQL: the rest are streamed with ``COPY`` into temporary staging tables, then moved
  with ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, which skips what another transaction
  stored meanwhile (a barcode taken in that window raises ``ConcurrentUpdate``: the use case
  stores the batch again). The word rows are staged too and moved by one ``INSERT ... SELECT``
  for the books that went in. Each book arrives with its count of copies on the shelf already
  set, and the copy triggers are told (a transaction-local setting, ``circulate.copies_counted``;
  see migration 0007) to leave those copies alone, so no book row is written twice.
- SQLite: ``executemany`` in the one transaction. SQLite runs one writer at a time and this one
  holds the write lock from ``BEGIN IMMEDIATE`` (see ``engine``), so ISBNs and barcodes checked
  before the insert cannot be taken before it. The row-level trigger that counts copies is
  dropped for the length of the insert and created again before the transaction ends, from the
  definition stored in the schema: no other connection can write meanwhile, readers see the
  committed schema, and a rollback restores it in any case. The counts are written with the
  books, and the word rows follow them in index order.

A batch that leaves the counted blocks of the title order out of shape redraws them before it
commits, unless another writer of books is about (``title_blocks.keep_shape_if_free``).

Rows come from the mappers (``mappers.book_row`` ...), with the derived keys the repositories
write, and instants are stored by the column type's own conversion, so rows written here read
back exactly like rows written by the repositories.
"""

# Statements here are built from table and column names taken from the models, never from
# input; every value is a bound parameter or goes through COPY.
# ruff: noqa: S608

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import JSON, Connection, Table
from sqlalchemy.orm import Session

from adapters.sqlalchemy import mappers, search, title_blocks
from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.models import BookRow, BookWordRow, CopyRow, MemberRow
from adapters.sqlalchemy.types import StringList, UtcDateTime
from application.ports import BookAddition, BookLoadOutcome
from domain.catalogue import CopyStatus
from domain.errors import ConcurrentUpdate
from domain.members import Member

# Tells the copy triggers (PostgreSQL) that this transaction counts the copies it inserts.
COUNTED_SETTING = "circulate.copies_counted"
# SQLite triggers replaced by set-based upkeep during a load, per table.
SQLITE_COPY_TRIGGERS = ("copies_available_insert",)
# Where ``mappers.book_row`` puts the folded title.
TITLE_KEY = mappers.BOOK_COLUMNS.index("title_key")
# Values per ``IN (...)`` list; well under SQLite's limit of bound parameters per statement.
_IN_CHUNK = 900
# SQLite page cache (KiB) while a load inserts: the indexes of a batch's books stay in memory
# instead of being evicted and read back for every row (the default cache is 2 MiB).
SQLITE_LOAD_CACHE_KIB = 64 * 1024

Row = Sequence[Any]


class _Columns:
    """The columns a load writes to a table, in the order of the mapper's rows, and how to turn
    such a row into one the driver takes. On SQLite: JSON as text, instants as the column type
    stores them. On PostgreSQL nothing: binary ``COPY`` sends each value in its column's own
    type (lists as ``jsonb``, ``datetime`` as ``timestamptz``)."""

    def __init__(self, model: type[Any], names: Sequence[str], connection: Connection) -> None:
        self.table = cast(Table, model.__table__)
        self.names = list(names)
        # The column that names a row (-1: none, as in the word index).
        self.key = self.names.index("id") if "id" in self.names else -1
        types = [self.table.c[name].type for name in self.names]
        self._json: list[int] = []
        self._times: list[int] = []
        self._time: Callable[[Any], Any] | None = None
        if connection.dialect.name == "sqlite":
            self._json = [
                i for i, type_ in enumerate(types) if isinstance(type_, (JSON, StringList))
            ]
            self._times = [i for i, type_ in enumerate(types) if isinstance(type_, UtcDateTime)]
            processor = (
                UtcDateTime().dialect_impl(connection.dialect).bind_processor(connection.dialect)
            )
            self._time = None if processor is None else _memoised(processor)

    def row(self, values: Row) -> Row:
        if not self._json and self._time is None:
            return values
        row = list(values)
        for i in self._json:
            row[i] = json.dumps(row[i])
        if self._time is not None:
            for i in self._times:
                row[i] = self._time(row[i])
        return tuple(row)

    @property
    def listed(self) -> str:
        return ", ".join(self.names)


def _memoised(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # A load stamps its rows with one instant: convert it once, not once per row.
    last: list[Any] = [object(), None]

    def converted(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, convert(value)
        return last[1]

    return converted


class SqlBulkWriter:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_books(self, additions: Sequence[BookAddition]) -> BookLoadOutcome:
        if not additions:
            return BookLoadOutcome()
        connection = self._session.connection()
        loader = _loader(connection)
        with translated_errors():
            # Books in the catalogue already (a re-run) are set aside first, by ISBN, before
            # any row is built or sent: a re-run costs one query per batch.
            stored = loader.stored("books", "isbn", [a.book.isbn for a in additions])
        present = [a.book.id for a in additions if a.book.isbn in stored]
        fresh = [a for a in additions if a.book.isbn not in stored]
        with translated_errors():
            taken = loader.stored("copies", "barcode", [c.barcode for a in fresh for c in a.copies])
        barcode_taken = _first_taken(fresh, taken)
        fresh = [a for a in fresh if a.book.id not in barcode_taken]
        if not fresh:
            return BookLoadOutcome(present=present, barcode_taken=barcode_taken)
        # Each book is stored with its count of copies on the shelf (``available_copies``).
        books = _Columns(BookRow, (*mappers.BOOK_COLUMNS, "available_copies"), connection)
        copies = _Columns(CopyRow, mappers.COPY_COLUMNS, connection)
        words = _Columns(BookWordRow, search.WORD_COLUMNS, connection)
        book_rows: list[Row] = []
        copy_rows: list[Row] = []
        word_rows: list[Row] = []
        for addition in fresh:
            book = addition.book
            on_shelf = sum(1 for copy in addition.copies if copy.status is CopyStatus.AVAILABLE)
            book_row = mappers.book_row(book)
            book_rows.append(books.row((*book_row, on_shelf)))
            copy_rows.extend(copies.row(mappers.copy_row(copy)) for copy in addition.copies)
            word_rows.extend(search.word_rows(book.id, book_row[TITLE_KEY], book.authors))
        with translated_errors():
            outcome = loader.add_books(books, book_rows, copies, copy_rows)
            if len(outcome.added) < len(book_rows):
                # Some were stored by another transaction meanwhile: their words are there.
                stored_now, book_id = set(outcome.added), words.names.index("book_id")
                word_rows = [row for row in word_rows if row[book_id] in stored_now]
            loader.add_words(words, word_rows)
            title_blocks.keep_shape_if_free(connection)
        outcome.present = present + outcome.present
        outcome.barcode_taken = barcode_taken
        return outcome

    def add_members(self, members: Sequence[Member]) -> list[str]:
        if not members:
            return []
        connection = self._session.connection()
        columns = _Columns(MemberRow, mappers.MEMBER_COLUMNS, connection)
        rows: list[Row] = [columns.row(mappers.member_row(member)) for member in members]
        with translated_errors():
            return _loader(connection).add_members(columns, rows)


def _first_taken(additions: Sequence[BookAddition], taken: set[str]) -> dict[str, str]:
    """Book id -> the first of its copies' barcodes that is in ``taken``: such a book is
    skipped whole."""
    found: dict[str, str] = {}
    if taken:
        for addition in additions:
            for copy in addition.copies:
                if copy.barcode in taken:
                    found[addition.book.id] = copy.barcode
                    break
    return found


def _in_index_order(rows: Sequence[Row]) -> list[Row]:
    """``rows`` sorted as the table's key orders them (column by column, code point order), so
    that consecutive inserts land on the same pages of the key. Compared as one string each, the
    columns joined by NUL (below every character of a key): one comparison per pair of rows
    instead of one per column, about half the time of sorting the tuples. An order that came out
    different would only cost speed, never correctness."""
    return sorted(rows, key="\0".join)


def _loader(connection: Connection) -> _PostgresLoader | _SqliteLoader:
    if connection.dialect.name == "postgresql":
        return _PostgresLoader(connection)
    return _SqliteLoader(connection)


class _PostgresLoader:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._raw: Any = connection.connection.driver_connection  # psycopg.Connection

    def add_books(
        self, books: _Columns, book_rows: list[Row], copies: _Columns, copy_rows: list[Row]
    ) -> BookLoadOutcome:
        outcome = BookLoadOutcome()
        with (
            self._staged(books, book_rows) as staged_books,
            self._staged(copies, copy_rows) as staged_copies,
        ):
            # In id order, the order the ids were made: the primary key and the creation-time
            # index are appended to at their right edge rather than written all over.
            added = self._all(
                f"INSERT INTO books ({books.listed}) SELECT {books.listed} FROM {staged_books} "
                "ORDER BY id ON CONFLICT (isbn) DO NOTHING RETURNING id"
            )
            outcome.added = [book_id for (book_id,) in added]
            added_ids = set(outcome.added)
            outcome.present = [
                row[books.key] for row in book_rows if row[books.key] not in added_ids
            ]
            if outcome.present:
                # Stored by another transaction since the writer looked: skipped by the INSERT.
                self._skip(staged_copies, outcome.present)
            book_id = copies.names.index("book_id")
            expected = sum(1 for row in copy_rows if row[book_id] in added_ids)
            # The books were stored with their counts: the copy triggers must not count again.
            # (Not reset when the INSERT fails: the transaction is then aborted, and the setting
            # goes with it; a statement sent to reset it would only hide the error.)
            self._run("SELECT set_config(%s, 'on', true)", (COUNTED_SETTING,))
            inserted = self._run(
                f"INSERT INTO copies ({copies.listed}) SELECT {copies.listed} "
                f"FROM {staged_copies} ORDER BY id ON CONFLICT (barcode) DO NOTHING"
            )
            self._run("SELECT set_config(%s, 'off', true)", (COUNTED_SETTING,))
            if inserted != expected:
                # Another transaction took one of the barcodes after the check: start again.
                raise ConcurrentUpdate("a barcode being loaded was stored meanwhile")
        return outcome

    def add_words(self, columns: _Columns, rows: list[Row]) -> None:
        """Word index rows, by ``COPY`` straight into the table, in index order. No staging:
        they cannot clash with stored rows (each names a book stored by this batch), and the
        books skipped have been left out already."""
        if rows:
            self._copy(columns.table.name, columns, _in_index_order(rows))

    def stored(self, table: str, column: str, values: list[str]) -> set[str]:
        """Those of ``values`` that ``column`` of ``table`` holds, asked in one query."""
        result = self._connection.exec_driver_sql(
            f"SELECT {column} FROM {table} WHERE {column} = ANY(%s)", (values,)
        )
        return {value for (value,) in result}

    def add_members(self, columns: _Columns, rows: list[Row]) -> list[str]:
        with self._staged(columns, rows) as staged:
            added = self._all(
                f"INSERT INTO members ({columns.listed}) SELECT {columns.listed} FROM {staged} "
                "ORDER BY id ON CONFLICT (email) DO NOTHING RETURNING id"
            )
        return [member_id for (member_id,) in added]

    @contextmanager
    def _staged(self, columns: _Columns, rows: list[Row]) -> Iterator[str]:
        """A temporary table like ``columns.table``, without its indexes or constraints, holding
        ``rows``; dropped afterwards (and in any case at the end of the transaction)."""
        name = f"bulk_{columns.table.name}"
        self._run(
            f"CREATE TEMPORARY TABLE {name} (LIKE {columns.table.name} INCLUDING DEFAULTS) "
            "ON COMMIT DROP"
        )
        self._copy(name, columns, rows)
        yield name
        self._run(f"DROP TABLE {name}")

    def _copy(self, table: str, columns: _Columns, rows: Iterable[Row]) -> None:
        with self._raw.cursor() as cursor:
            # Binary COPY: no value is formatted as text and parsed back. It needs each column's
            # type, which the table itself tells.
            cursor.execute(f"SELECT {columns.listed} FROM {table} LIMIT 0")
            types = [column.type_code for column in cursor.description or ()]
            with cursor.copy(f"COPY {table} ({columns.listed}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)

    def _skip(self, staged_copies: str, book_ids: list[str]) -> None:
        self._run(f"DELETE FROM {staged_copies} WHERE book_id = ANY(%s)", (book_ids,))

    def _run(self, statement: str, parameters: tuple[Any, ...] = ()) -> int:
        result = self._connection.exec_driver_sql(statement, parameters)
        return int(result.rowcount)

    def _all(self, statement: str) -> list[Row]:
        return [tuple(row) for row in self._connection.exec_driver_sql(statement)]


class _SqliteLoader:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add_books(
        self, books: _Columns, book_rows: list[Row], copies: _Columns, copy_rows: list[Row]
    ) -> BookLoadOutcome:
        # The write lock is held since BEGIN IMMEDIATE: what the writer found stored cannot
        # change before the INSERT.
        outcome = BookLoadOutcome(added=[row[books.key] for row in book_rows])
        if not book_rows:
            return outcome
        with (
            self._larger_cache(),
            self._without_triggers(SQLITE_COPY_TRIGGERS),
        ):
            self._insert(books, book_rows)
            self._insert(copies, copy_rows)
        return outcome

    def add_words(self, columns: _Columns, rows: list[Row]) -> None:
        """Word index rows, in index order (appended, not spread)."""
        with self._larger_cache():
            self._insert(columns, _in_index_order(rows))

    def add_members(self, columns: _Columns, rows: list[Row]) -> list[str]:
        email = columns.names.index("email")
        present = self.stored("members", "email", [row[email] for row in rows])
        new = [row for row in rows if row[email] not in present]
        self._insert(columns, new)
        return [row[columns.key] for row in new]

    def _insert(self, columns: _Columns, rows: list[Row]) -> None:
        if rows:
            marks = ", ".join("?" for _ in columns.names)
            self._connection.exec_driver_sql(
                f"INSERT INTO {columns.table.name} ({columns.listed}) VALUES ({marks})", rows
            )

    def stored(self, table: str, column: str, values: list[str]) -> set[str]:
        """Those of ``values`` that ``column`` of ``table`` holds, asked in chunks (SQLite caps
        the parameters of one statement)."""
        found: set[str] = set()
        for start in range(0, len(values), _IN_CHUNK):
            chunk = values[start : start + _IN_CHUNK]
            marks = ", ".join("?" for _ in chunk)
            result = self._connection.exec_driver_sql(
                f"SELECT {column} FROM {table} WHERE {column} IN ({marks})", tuple(chunk)
            )
            found.update(value for (value,) in result)
        return found

    @contextmanager
    def _larger_cache(self) -> Iterator[None]:
        before = self._connection.exec_driver_sql("PRAGMA cache_size").scalar()
        self._connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}")
        try:
            yield
        finally:
            self._connection.exec_driver_sql(f"PRAGMA cache_size = {int(before or 0)}")

    @contextmanager
    def _without_triggers(self, names: Sequence[str]) -> Iterator[None]:
        marks = ", ".join("?" for _ in names)
        saved = [
            (name, sql)
            for name, sql in self._connection.exec_driver_sql(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})",
                tuple(names),
            )
        ]
        for name, _ in saved:
            self._connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
        try:
            yield
        finally:
            # After an error that ended the transaction (SQLite rolls back by itself on some,
            # such as a full disk), the rollback has brought the triggers back already.
            raw: Any = self._connection.connection.driver_connection  # sqlite3.Connection
            if raw.in_transaction:
                for _, sql in saved:
                    self._connection.exec_driver_sql(sql)
