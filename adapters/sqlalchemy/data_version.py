"""A catalogue-cache generation that SQLite itself keeps: it changes with every commit, from any
process.

The catalogue cache (``adapters.caching``) files entries under a *generation* and must see every
write that could change them. Without Redis, an in-process generation only hears of the writes
made in its own process, so over a database file (which another gunicorn worker or a CLI command
may write at any moment) the cache used to be off. SQLite answers the question itself:
``PRAGMA data_version`` on a connection changes whenever any *other* connection, in this
process or another, has committed to the database file since it last asked. A connection kept
for nothing else (opened read-only, so it never writes) therefore sees every commit of every
writer: its value, with a token drawn when the connection was opened (so a reopened connection,
whose count starts afresh, can never repeat a generation of the old one), is the generation.

Reading it costs one pragma on a local file, no transaction; a write replaces the generation by
committing, so ``bump`` has nothing to do. Any commit to the file changes it, also of tables a
catalogue read does not show: that costs a needless miss, never a stale read.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid

from sqlalchemy.engine import make_url

from adapters.sqlalchemy.engine import is_memory_sqlite


class SqliteDataVersion:
    """``adapters.caching.Generation`` of the SQLite database file at ``database_url``."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        if url.get_backend_name() != "sqlite" or is_memory_sqlite(url) or not url.database:
            raise ValueError("a data version needs a SQLite database file")
        self._path = url.database
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._cursor: sqlite3.Cursor | None = None
        self._token = ""
        # The last version read and the generation made of it: most questions find the file
        # unchanged, and get the same string back rather than a new one.
        self._version: int | None = None
        self._generation = ""

    def current(self) -> str:
        with self._lock:
            try:
                cursor = self._cursor
                if cursor is None:
                    cursor = self._open()
                (version,) = cursor.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error:
                self._close()
                raise  # the cache then reads through, as for any generation that fails
            if version != self._version:
                self._version = version
                self._generation = f"{self._token}:{version}"
            return self._generation

    def bump(self) -> None:
        """Nothing to do: the commit that calls for it has changed the data version already."""

    def close(self) -> None:
        with self._lock:
            self._close()

    def _open(self) -> sqlite3.Cursor:
        self._connection = sqlite3.connect(
            f"file:{self._path}?mode=ro",
            uri=True,
            check_same_thread=False,  # used under the lock, by any thread
            isolation_level=None,  # no transaction held open between questions
        )
        # One cursor, kept (as the connection is) for the one question asked of it.
        self._cursor = self._connection.cursor()
        self._token = uuid.uuid4().hex
        self._version = None
        return self._cursor

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
            self._cursor = None
