"""Statements built once, compiled once, and handed straight to psycopg's cursor.

Every decision about a book (a borrow, a return, a renewal, a hold) sends the same few
statements: the combined reads (``adapters.sqlalchemy.together``) and the run of writes its
commit makes (``adapters.sqlalchemy.records``). Through ``Connection.execute`` each run of one of
them also cost SQLAlchemy's per-execution work: an execution context, its parameters processed
through the compiled form, a cursor result and its rows: some 235,000 instructions for the
member-and-book read, two thirds as much again as psycopg's own work for it. Here that is paid
once per statement and dialect: the compiled SQL, the bind processors of its parameters and the
values bound in the statement itself are kept, and each run processes its parameters, runs the
cursor and fetches the rows as tuples.

The SQL is compiled with PostgreSQL's own numbered parameters (``$1``) and run by psycopg's
``RawCursor``, which sends it as it is. psycopg's usual cursor rewrites ``%(name)s`` parameters
into those on every run, and keeps the rewritten form only for statements under 4,096
characters: the member-and-book read is longer, and its rewriting cost some 130,000
instructions a run.

These statements are prepared on the server: psycopg does so after a
statement's fifth run on a connection (its ``prepare_threshold``), and their plans do not turn on
their values (a key, a book, a member), so the server settles on a generic one and stops planning
them. Statements run through SQLAlchemy are prepared only when marked so (``engine.PREPARED``).

What an execution through SQLAlchemy guarantees still holds: the statement runs on the
connection (and in the transaction) SQLAlchemy manages; listeners of ``before_cursor_execute``
and ``after_cursor_execute`` see it (with no execution context: there is none); a driver error
goes through ``Connection._handle_dbapi_exception``, so it is wrapped as SQLAlchemy wraps it, the
``handle_error`` listeners see it (an outage still becomes ``DependencyUnavailable``) and a
broken connection is invalidated. Rows come back as the driver gives them: the caller runs any
result processing (``together`` does, by part). On another database, with statement logging
on, or for a statement whose bind names SQLAlchemy had to escape, ``Connection.execute`` runs it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from copy import copy
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import CompoundSelect, Connection, Select
from sqlalchemy.engine import Dialect

from adapters.sqlalchemy.built_once import BUILT_ONCE

# Compiled forms kept (statements times dialects: each engine has its own dialect).
LIMIT = 1024

Statement = Select[Any] | CompoundSelect[Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str  # with numbered parameters
    query: bytes  # ``sql`` as psycopg sends it
    arguments: Callable[[Mapping[str, Any]], tuple[Any, ...]]  # values in the numbers' order
    bound: dict[str, Any]  # values bound in the statement itself, by parameter name
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]  # bind processors, by name
    cursor: Callable[[Any], Any]  # psycopg's ``RawCursor``, of a driver connection


_COMPILED: dict[tuple[Statement, Dialect], _Compiled | None] = {}
# Key of the cursor kept in a pooled connection's ``info``.
_CURSOR = "circulate_direct_cursor"
_LOCK = threading.Lock()


def _compiled(statement: Statement, dialect: Dialect) -> _Compiled | None:
    """``statement`` compiled for ``dialect``, or None when SQLAlchemy must work on it at each
    run: parameters rendered into the SQL when it runs (expanding IN lists, ``literal_execute``),
    values computed when it runs (``callable_``), bind names it had to escape."""
    key = (statement, dialect)
    if key in _COMPILED:
        return _COMPILED[key]
    # Imported here, where only a PostgreSQL engine gets: a SQLite process never loads psycopg.
    from psycopg import RawCursor

    numbered = copy(dialect)
    numbered.paramstyle, numbered.positional = "numeric_dollar", True
    compiled = statement.compile(dialect=numbered)
    found: _Compiled | None = None
    names = compiled.bind_names
    if not (
        compiled.post_compile_params
        or compiled.literal_execute_params
        or compiled.escaped_bind_names
        or any(bind.callable is not None for bind in names)
    ):
        found = _Compiled(
            sql=compiled.string,
            query=compiled.string.encode(),
            arguments=_in_order(tuple(compiled.positiontup or ())),
            cursor=RawCursor,
            bound={name: bind.effective_value for bind, name in names.items() if not bind.required},
            processors=tuple(
                (name, process)
                for bind, name in names.items()
                if (process := bind.type._cached_bind_processor(dialect)) is not None
            ),
        )
    with _LOCK:
        if len(_COMPILED) >= LIMIT:
            _COMPILED.clear()
        _COMPILED[key] = found
    return found


def _in_order(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The values of ``names`` as a tuple, in one call (``itemgetter`` gives a lone value, not a
    tuple of one, for a single name)."""
    if len(names) == 1:
        (name,) = names
        return lambda values: (values[name],)
    if not names:
        return lambda _values: ()
    return itemgetter(*names)


def fetch_all(
    connection: Connection, statement: Statement, parameters: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """The rows of ``statement`` (built once) run with ``parameters`` in ``connection``'s
    transaction, as the driver gives them (no result processing)."""
    direct = (
        _compiled(statement, connection.dialect)
        if connection.dialect.driver == "psycopg" and not connection._echo
        else None
    )
    if direct is None:
        return connection.execute(statement, parameters, execution_options=BUILT_ONCE).all()
    values = {**direct.bound, **parameters}
    for name, process in direct.processors:
        if name in values:
            values[name] = process(values[name])
    sql, arguments = direct.sql, direct.arguments(values)
    cursor = _cursor(connection, direct)
    watched = connection._has_events or connection.engine._has_events
    try:
        if watched:
            for listener in connection.dispatch.before_cursor_execute:
                sql, arguments = listener(connection, cursor, sql, arguments, None, False)
        cursor.execute(direct.query if sql is direct.sql else sql.encode(), arguments)
        rows: Sequence[Sequence[Any]] = cursor.fetchall()
        if watched:
            connection.dispatch.after_cursor_execute(
                connection, cursor, sql, arguments, None, False
            )
    except Exception as error:
        try:
            connection._handle_dbapi_exception(error, sql, arguments, cursor, None)
        finally:
            cursor.close()
    return rows


def _cursor(connection: Connection, direct: _Compiled) -> Any:
    """A ``RawCursor`` of ``connection``'s driver connection, kept with it for the next
    statement: making one and closing it again cost each statement some 15,000 instructions.
    Kept in the pool's record of the connection (one thread holds it at a time), for that driver
    connection only: a replaced one gets a cursor of its own. A statement that fails closes it."""
    pooled = connection.connection
    driver = pooled.driver_connection
    kept = pooled.info.get(_CURSOR)
    if kept is not None and kept[0] is driver and not kept[1].closed:
        return kept[1]
    cursor = direct.cursor(driver)
    pooled.info[_CURSOR] = (driver, cursor)
    return cursor
