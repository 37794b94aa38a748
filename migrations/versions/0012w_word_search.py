"""Book search by word, in title order, from a word index; the trigram indexes go.

Creates ``book_words`` (see ``adapters/sqlalchemy/search.py``): per book, its distinct title and
author words and its authors' name phrases, each with the book's ``title_key``, keyed by
``(kind, word, title_key, book_id)`` so a word's books come out in title order. Fills it from
the books already stored, split by the application's own rule (``search.word_rows``: a split
written again in SQL could differ from it, and a search would then miss books).

Search no longer reads the trigram GIN indexes (PostgreSQL, migration 0004), the walk index
(``0011s_search_walk``) or the FTS5 table and its triggers (SQLite, 0004): they are dropped, and
every write of a book keeps one index fewer. The downgrade brings them back (the FTS5 table
rebuilt from ``books``) and drops ``book_words``.

Revision ID: 0012w_word_search
Revises: 0011s_search_walk
Create Date: 2026-12-05
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.search import WORD_COLUMNS, word_rows

revision: str = "0012w_word_search"
down_revision: str | Sequence[str] | None = "0011s_search_walk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "book_words"
BOOK_INDEX = "ix_book_words_book_id_kind_word"
WALK_INDEX = "ix_books_title_key_id_authors_key"
TRIGRAM_KEYS = ("title_key", "authors_key")
# Books read and indexed per statement while filling the table.
BATCH = 20_000

_FTS_UP = (
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
    "INSERT INTO books_search(books_search) VALUES ('rebuild')",
)
_FTS_DOWN = (
    "DROP TRIGGER IF EXISTS books_search_update",
    "DROP TRIGGER IF EXISTS books_search_delete",
    "DROP TRIGGER IF EXISTS books_search_insert",
    "DROP TABLE IF EXISTS books_search",
)


def _key() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    columns = [
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("word", _key(), nullable=False),
        sa.Column("title_key", _key(), nullable=False),
        sa.Column("book_id", sa.String(length=36), nullable=False),
    ]
    if postgresql:
        # Filled first, keyed after: one sorted build of the key instead of a million inserts
        # into it.
        op.create_table(TABLE, *columns)
    else:
        # Without a rowid, the table is its key: one B-tree, not a table and an index.
        op.create_table(
            TABLE,
            *columns,
            sa.PrimaryKeyConstraint(*WORD_COLUMNS, name=op.f(f"pk_{TABLE}")),
            sqlite_with_rowid=False,
        )
    _fill(bind)
    if postgresql:
        op.create_primary_key(op.f(f"pk_{TABLE}"), TABLE, list(WORD_COLUMNS))
    op.create_index(op.f(BOOK_INDEX), TABLE, ["book_id", "kind", "word"])
    if postgresql:
        for key in TRIGRAM_KEYS:
            op.drop_index(op.f(f"ix_books_{key}_trgm"), table_name="books")
        op.drop_index(WALK_INDEX, table_name="books")
        op.execute(f"ANALYZE {TABLE}")
    else:
        for statement in _FTS_DOWN:
            op.execute(statement)


def _fill(bind: sa.Connection) -> None:
    table = sa.table(TABLE, *(sa.column(name) for name in WORD_COLUMNS))
    last = ""
    while True:
        books = bind.execute(
            sa.text(
                "SELECT id, title_key, authors FROM books WHERE id > :last ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": BATCH},
        ).all()
        if not books:
            return
        rows = [
            row
            for book_id, title_key, authors in books
            for row in word_rows(book_id, title_key, _names(authors))
        ]
        if bind.dialect.name == "postgresql":
            raw: Any = bind.connection.driver_connection  # psycopg.Connection
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {TABLE} ({', '.join(WORD_COLUMNS)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        elif rows:
            bind.execute(sa.insert(table), [dict(zip(WORD_COLUMNS, r, strict=True)) for r in rows])
        last = books[-1][0]


def _names(authors: Any) -> list[str]:
    # A JSON list: decoded by PostgreSQL's driver (jsonb), stored as text on SQLite.
    return list(json.loads(authors) if isinstance(authors, str) else authors)


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index(op.f(BOOK_INDEX), table_name=TABLE)
    op.drop_table(TABLE)
    if bind.dialect.name == "postgresql":
        for key in TRIGRAM_KEYS:
            op.create_index(
                op.f(f"ix_books_{key}_trgm"),
                "books",
                [key],
                postgresql_using="gin",
                postgresql_ops={key: "gin_trgm_ops"},
            )
        op.create_index(
            WALK_INDEX, "books", ["title_key", "id"], postgresql_include=["authors_key"]
        )
    else:
        for statement in _FTS_UP:
            op.execute(statement)
