"""Book search indexes: pg_trgm GIN on PostgreSQL, an FTS5 trigram table on SQLite.

See ``adapters/sqlalchemy/search.py``. On SQLite the FTS5 table is keyed by the books' rowid and
kept in step by triggers: a later batch migration that rebuilds ``books`` must recreate the
triggers and rebuild the index (``INSERT INTO books_search(books_search) VALUES('rebuild')``),
and so must anyone who runs VACUUM, which may renumber the rowids of a table whose primary key is
not an integer.

Revision ID: 0004_book_search
Revises: 0003_idempotency_keys
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_book_search"
down_revision: str | Sequence[str] | None = "0003_idempotency_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = ("title_key", "authors_key")

_SQLITE_UP = (
    "CREATE VIRTUAL TABLE books_search USING fts5("
    "title_key, authors_key, content='books', content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER books_search_insert AFTER INSERT ON books BEGIN "
    "INSERT INTO books_search(rowid, title_key, authors_key) "
    "VALUES (new.rowid, new.title_key, new.authors_key); END",
    "CREATE TRIGGER books_search_delete AFTER DELETE ON books BEGIN "
    "INSERT INTO books_search(books_search, rowid, title_key, authors_key) "
    "VALUES ('delete', old.rowid, old.title_key, old.authors_key); END",
    "CREATE TRIGGER books_search_update AFTER UPDATE OF title_key, authors_key ON books "
    "WHEN old.title_key IS NOT new.title_key OR old.authors_key IS NOT new.authors_key BEGIN "
    "INSERT INTO books_search(books_search, rowid, title_key, authors_key) "
    "VALUES ('delete', old.rowid, old.title_key, old.authors_key); "
    "INSERT INTO books_search(rowid, title_key, authors_key) "
    "VALUES (new.rowid, new.title_key, new.authors_key); END",
    # Index the books that are already there.
    "INSERT INTO books_search(books_search) VALUES ('rebuild')",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS books_search_update",
    "DROP TRIGGER IF EXISTS books_search_delete",
    "DROP TRIGGER IF EXISTS books_search_insert",
    "DROP TABLE IF EXISTS books_search",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # Trusted since PostgreSQL 13: the database owner may create it. Left in place on
        # downgrade, as other objects may come to use it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for key in _KEYS:
            op.create_index(
                op.f(f"ix_books_{key}_trgm"),
                "books",
                [key],
                postgresql_using="gin",
                postgresql_ops={key: "gin_trgm_ops"},
            )
    elif dialect == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for key in _KEYS:
            op.drop_index(op.f(f"ix_books_{key}_trgm"), table_name="books")
    elif dialect == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
