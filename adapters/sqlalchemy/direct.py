"""Statements built once, compiled once, and handed straight to psycopg's cursor.

Every decision about a book (a borrow, a return, a renewal, a hold) sends the same few
statements: the combined reads (``adapters.sqlalchemy.together``) and the run of writes its
commit makes (``adapters.sqlalchemy.records``). Through ``Connection.execute`` each run of one of
them also cost SQLAlchemy's per-execution work: an execution context, its parameters processed
through the compiled form, a cursor result and its rows, some 235,000 instructions for the
member-and-book read, about as much again as psycopg's own work for it. Here that is paid once
per statement and dialect: the compiled SQL, the bind processors of its parameters and the
values bound in the statement itself are kept, and each run processes its parameters, runs the
cursor and fetches the rows as tuples.

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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Connection, Select
from sqlalchemy.engine import Dialect

from adapters.sqlalchemy.built_once import BUILT_ONCE

# Compiled forms kept (statements times dialects: each engine has its own dialect).
LIMIT = 1024

Statement = Select[Any] | CompoundSelect[Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    bound: dict[str, Any]  # values bound in the statement itself, by parameter name
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]  # bind processors, by name


_COMPILED: dict[tuple[Statement, Dialect], _Compiled | None] = {}
_LOCK = threading.Lock()


def _compiled(statement: Statement, dialect: Dialect) -> _Compiled | None:
    """``statement`` compiled for ``dialect``, or None when SQLAlchemy must work on it at each
    run: parameters rendered into the SQL when it runs (expanding IN lists, ``literal_execute``),
    values computed when it runs (``callable_``), bind names it had to escape."""
    key = (statement, dialect)
    if key in _COMPILED:
        return _COMPILED[key]
    compiled = statement.compile(dialect=dialect)
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
    sql: str = direct.sql
    dbapi_connection = connection.connection
    cursor = dbapi_connection.cursor()
    try:
        for listener in connection.dispatch.before_cursor_execute:
            sql, values = listener(connection, cursor, sql, values, None, False)
        cursor.execute(sql, values)
        rows: Sequence[Sequence[Any]] = cursor.fetchall()
        connection.dispatch.after_cursor_execute(connection, cursor, sql, values, None, False)
    except Exception as error:
        connection._handle_dbapi_exception(error, sql, values, cursor, None)
    finally:
        cursor.close()
    return rows
