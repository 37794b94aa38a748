"""Engines and sessions for SQLite (the embedded default) and PostgreSQL (production).

Nothing here runs at import time; the composition root calls ``create_engine_for`` once.

SQLite is set up for a multi-threaded server process: foreign keys enforced, WAL journal (readers
never wait for the writer), a busy timeout, and every transaction opened with
``BEGIN IMMEDIATE``. SQLite allows one writer at a time; taking the write lock at the start means
a transaction waits its turn instead of failing half-way when it tries to upgrade a read lock
(which SQLite cannot do once another writer has committed). Use cases read, decide and write in
one short transaction, so this costs little and makes every transaction serializable.

Both engines hide statement parameters: a failed statement's exception (logged with a 500) names
the SQL but never the values bound to it, which may be a member's password hash or a key's digest.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, ExceptionContext, ExecutionContext, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from adapters.sqlalchemy.unit_session import UnitSession
from application.ports import DependencyUnavailable

SQLITE_BUSY_TIMEOUT_SECONDS = 15.0
# A PostgreSQL server that has not accepted a connection in this long is taken to be down.
CONNECT_TIMEOUT_SECONDS = 5
# What a client is told to wait while the database is unreachable.
OUTAGE_RETRY_AFTER_SECONDS = 5
# Pooled PostgreSQL connections are replaced after this long, before anything between the
# processes and the server (a firewall, a pooler, idle_session_timeout) drops them silently.
# That, and SQLAlchemy replacing the whole pool on the first broken connection it meets, is what
# keeps the pool healthy: no request pays a "SELECT 1" round trip before its own (pre-ping).
# The price: after a server restart, the first request to meet a connection the restart cut
# answers 503 (retryable; nothing was changed) and the pool is renewed for the next one.
POOL_RECYCLE_SECONDS = 300
# Execution option of a statement whose plan is the same whatever values it runs with (ordered
# reads of one index, merged, say): on PostgreSQL psycopg prepares it on the server after its
# fifth run on a connection, so the server plans it no more once it has settled on a generic
# plan. Other statements run through SQLAlchemy are never prepared (``psycopg_cursor``).
PREPARE = "circulate_prepare"
PREPARED: dict[str, Any] = {PREPARE: True}
# SQLSTATE classes of a server that is going away or not accepting connections.
_OUTAGE_SQLSTATES = ("08", "57P01", "57P02", "57P03")
_POSTGRES_SCHEMES = {"postgres", "postgresql"}
# Execution option of a connection whose transaction only reads (``read_only_transaction``).
READ_ONLY = "circulate_read_only"


def normalise_url(url: str | URL) -> URL:
    """Parse ``url``, sending plain ``postgresql://`` (and ``postgres://``) URLs to psycopg 3."""
    if isinstance(url, str) and url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    if parsed.drivername in _POSTGRES_SCHEMES:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_engine_for(url: str | URL, *, echo: bool = False) -> Engine:
    parsed = normalise_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, echo=echo)
    if backend == "postgresql":
        # Imported here, where only a PostgreSQL engine gets: a SQLite process never loads psycopg.
        from adapters.sqlalchemy.psycopg_cursor import LazyDescriptionCursor
        from adapters.sqlalchemy.psycopg_json import read_json_in_one_step

        engine = create_engine(
            parsed,
            pool_recycle=POOL_RECYCLE_SECONDS,
            echo=echo,
            hide_parameters=True,
            connect_args={
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                "cursor_factory": LazyDescriptionCursor,
            },
        )
        event.listen(engine, "connect", read_json_in_one_step)
        event.listen(engine, "handle_error", _outage)
        event.listen(engine, "do_execute", _prepared_when_marked)
        return engine
    raise ValueError(f"unsupported database {parsed.drivername!r}: use sqlite or postgresql")


def _prepared_when_marked(
    cursor: Any, statement: str, parameters: Any, context: ExecutionContext
) -> bool | None:
    """``do_execute``: a statement marked ``PREPARED`` runs under psycopg's own prepare policy
    (its ``prepare_threshold``) instead of the cursor's "never"; others run as usual."""
    if context.execution_options.get(PREPARE):
        cursor.execute(statement, parameters, prepare=None)
        return True
    return None


def _outage(context: ExceptionContext) -> BaseException | None:
    """``handle_error``: a PostgreSQL server that cannot be reached, or that is shutting down,
    is an outage (``DependencyUnavailable``), not a failed statement. Other errors pass."""
    if context.is_pre_ping:
        return None  # a stale pooled connection: SQLAlchemy replaces it with a new one
    # Imported here, where only a PostgreSQL engine gets: a SQLite process never loads psycopg.
    import psycopg

    original = context.original_exception
    sqlstate = getattr(original, "sqlstate", None)
    unreachable = isinstance(original, psycopg.OperationalError) and (
        sqlstate is None or sqlstate.startswith(_OUTAGE_SQLSTATES)
    )
    if context.is_disconnect or unreachable:
        return DependencyUnavailable("database", OUTAGE_RETRY_AFTER_SECONDS)
    return None


def read_only_transaction(session: Session, *, refusing_writes: bool = False) -> None:
    """Declare that ``session``'s transaction will only read, when nothing has run in it yet
    (on SQLite it then takes no write lock). Call it first thing in a repository method that
    opens a unit of work's reads and is used only by use cases that never write in that unit
    of work: a write after it could fail on SQLite with "database is locked" if another
    transaction wrote in between. ``refusing_writes`` (a unit of work opened to read) has
    PostgreSQL run it ``READ ONLY`` too, so that a write in it fails rather than commits."""
    if not session.in_transaction():
        options: dict[str, Any] = {READ_ONLY: True}
        if refusing_writes and session.get_bind().dialect.name == "postgresql":
            options["postgresql_readonly"] = True
        session.connection(execution_options=options)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for ``SqlUnitOfWork``.

    Entities reach the domain through mappers, never as ORM objects, so nothing needs expiring
    after a commit and nothing is flushed behind the repositories' backs. Each keeps its
    transaction's connection (``adapters.sqlalchemy.unit_session``).
    """
    return sessionmaker(engine, class_=UnitSession, expire_on_commit=False, autoflush=False)


def _create_private(path: str) -> None:
    """Create the database file readable and writable by its owner only, before SQLite would
    create it with the umask's permissions (0644: every local user could read the members'
    password hashes). SQLite gives its -wal and -shm files the database file's permissions."""
    # An existing file keeps the permissions its owner gave it.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def is_memory_sqlite(url: URL) -> bool:
    database = url.database or ""
    return database in {"", ":memory:"} or url.query.get("mode") == "memory"


def _sqlite_engine(url: URL, *, echo: bool) -> Engine:
    in_memory = is_memory_sqlite(url)
    options: dict[str, Any] = {
        "echo": echo,
        "hide_parameters": True,
        "connect_args": {
            # Connections come from a pool and serve whichever thread checks them out.
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
        },
    }
    if in_memory:
        # A private in-memory database lives as long as its one connection: keep exactly one.
        # Fine for tests and demos that use it from one thread at a time.
        options["poolclass"] = StaticPool
    engine = create_engine(url, **options)

    if not in_memory and url.database:
        path = url.database

        @event.listens_for(engine, "do_connect")
        def _private_file(*_args: Any) -> None:
            _create_private(path)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module, which would otherwise open
        # transactions late (only at the first write) and autocommit reads.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                # With WAL this is durable against application crashes and much faster than FULL.
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # A transaction that may write takes the write lock at once, so two of them never
        # deadlock upgrading their read locks. One that only reads takes none: under WAL it
        # reads a consistent snapshot and never waits for a writer or for another reader.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN DEFERRED")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
