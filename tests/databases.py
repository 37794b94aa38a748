"""Throw-away SQL databases for the contract and integration tests.

PostgreSQL: every test session makes its own database (``circulate_test_<random>``) through
the server in ``CIRCULATE_TEST_POSTGRES_URL`` and drops it at the end, so runs never see each
other's rows. A server that does not answer fails the tests that need it; it never skips them.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, Engine, Table, create_engine, delete, insert, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from adapters.sqlalchemy import mappers, title_blocks
from adapters.sqlalchemy.engine import normalise_url
from adapters.sqlalchemy.models import ItemTypeRow, MemberCategoryRow, metadata
from adapters.sqlalchemy.search import word_rows
from domain.rules import seeded_categories, seeded_item_types

POSTGRES_URL_VARIABLE = "CIRCULATE_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_server_url() -> str:
    """A database on the test server that may create and drop other databases."""
    return os.environ.get(POSTGRES_URL_VARIABLE) or DEFAULT_POSTGRES_URL


@contextmanager
def temporary_postgres_database() -> Iterator[str]:
    """Create an empty database, yield its URL, drop it afterwards."""
    server_url = normalise_url(postgres_server_url())
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"circulate_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as error:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL at {server_url.render_as_string(hide_password=True)} is not usable "
            f"({error.orig}). Start it (`make services`) or point {POSTGRES_URL_VARIABLE} at "
            "a server where this role may CREATE DATABASE.",
            pytrace=False,
        )
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def empty_tables(engine: Engine) -> None:
    """Delete every row, children before parents, and put back the rows a fresh migration
    seeds (the default member category and item type, the first block of the title order)."""
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name in APPEND_ONLY:
                _clear_append_only(connection, table)
            else:
                connection.execute(delete(table))
        connection.execute(
            insert(MemberCategoryRow),
            [mappers.member_category_values(c) for c in seeded_categories()],
        )
        connection.execute(
            insert(ItemTypeRow),
            [mappers.item_type_values(t) for t in seeded_item_types()],
        )
        title_blocks.redraw(connection)


# Tables whose triggers refuse DELETE (the audit trail): tests set them aside to start afresh.
APPEND_ONLY = {"audit_events"}


def _clear_append_only(connection: Connection, table: Table) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"ALTER TABLE {table.name} DISABLE TRIGGER USER"))
        connection.execute(delete(table))
        connection.execute(text(f"ALTER TABLE {table.name} ENABLE TRIGGER USER"))
        return
    triggers = connection.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
        {"t": table.name},
    ).all()
    for name, _ in triggers:
        connection.execute(text(f'DROP TRIGGER "{name}"'))
    connection.execute(delete(table))
    for _, sql in triggers:
        connection.execute(text(sql))


def stray_words(connection: Connection) -> int:
    """Rows of the book search's word index that are not the books' words, or words of the
    books it lacks: zero when the index is exact."""
    books = connection.execute(text("SELECT id, title_key, authors FROM books")).all()
    expected = {
        row
        for book_id, title_key, authors in books
        for row in word_rows(
            book_id, title_key, json.loads(authors) if isinstance(authors, str) else authors
        )
    }
    stored = {
        tuple(row)
        for row in connection.execute(text("SELECT kind, word, title_key, book_id FROM book_words"))
    }
    return len(stored ^ expected)
