"""The psycopg cursor of PostgreSQL engines: its ``description`` is built when it is read.

SQLAlchemy asks every statement's cursor for its ``description``. For a compiled statement it
has run before (every statement of a serving process, after its first run) it only looks at
whether there is one: it matched the result's columns to the statement once and kept that. psycopg
builds a ``Column`` per result column on every ask all the same (a name decoded and a type looked
up each), and the wide UNION ALL reads (``adapters.sqlalchemy.together``) have dozens: a borrow
spent about a twelfth of its CPU time in process on columns nobody read. Here the ask answers a
sequence that builds them on first use, from the result it was asked about, so whoever does read
them (SQLAlchemy on a statement's first run, ``adapters.sqlalchemy.bulk``) gets what psycopg
would have given.

Imported by ``engine`` for PostgreSQL engines only: a SQLite process never loads psycopg.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Self, overload

from psycopg import Column, Cursor
from psycopg.pq.abc import PGresult
from psycopg.rows import Row


class _ResultOf:
    """What ``Column`` reads of a cursor, as it was when ``description`` was asked: the cursor
    may have run another statement by the time the columns are read."""

    __slots__ = ("_encoding", "adapters", "pgresult")

    def __init__(self, cursor: Cursor[Any], pgresult: PGresult) -> None:
        self.pgresult = pgresult
        self.adapters = cursor.adapters
        self._encoding = cursor._encoding


class LazyDescription(Sequence[Column]):
    """``cursor.description``, its ``Column`` objects made on first use."""

    __slots__ = ("_columns", "_count", "_of")

    def __init__(self, cursor: Cursor[Any], pgresult: PGresult) -> None:
        self._of: tuple[Cursor[Any], PGresult] | None = (cursor, pgresult)
        self._count = pgresult.nfields
        self._columns: list[Column] = []

    def _made(self) -> list[Column]:
        if self._of is not None:
            cursor, pgresult = self._of
            source: Any = cursor if cursor.pgresult is pgresult else _ResultOf(cursor, pgresult)
            self._columns = [Column(source, index) for index in range(self._count)]
            self._of = None  # made: the result (and its rows) need not be kept for this
        return self._columns

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Column: ...

    @overload
    def __getitem__(self, index: slice) -> list[Column]: ...

    def __getitem__(self, index: int | slice) -> Column | list[Column]:
        return self._made()[index]

    def __iter__(self) -> Iterator[Column]:
        return iter(self._made())

    def __repr__(self) -> str:
        return repr(self._made())


class LazyDescriptionCursor(Cursor[Row]):
    """psycopg's default cursor, but for when ``description`` is built (above), and for what it
    prepares: nothing, unless told. psycopg would prepare a statement on the server after its
    fifth run on a connection, and the server may then plan it once for any values; most
    searches by words are fast because each is planned for its own words
    (``adapters.sqlalchemy.search``). Statements whose plans do not turn on their values are
    prepared: those ``adapters.sqlalchemy.direct`` runs on a cursor of its own, and those marked
    ``engine.PREPARED``, which the engine runs here with psycopg's own policy."""

    def execute(
        self,
        query: Any,
        params: Any = None,
        *,
        prepare: bool | None = False,
        binary: bool | None = None,
    ) -> Self:
        return super().execute(query, params, prepare=prepare, binary=binary)

    @property
    def description(self) -> Sequence[Column] | None:  # type: ignore[override]
        pgresult = self.pgresult
        if pgresult is None or not pgresult.nfields:
            return super().description  # None, or the empty one of a columnless "SELECT ;"
        return LazyDescription(self, pgresult)
