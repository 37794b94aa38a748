"""Book availability: a per-book count of copies on the shelf, kept by triggers.

``books.available_copies`` counts the book's copies whose status is ``available``. Triggers on
``copies`` keep it in step with every INSERT, DELETE and change of a copy's status or book, in
the same transaction, so listing books by availability filters and counts one table from an
index instead of asking ``copies`` about every book (see ``SqlBookRepository.search``).
Increments are relative (``available_copies + n``), so concurrent changes to copies of one book
add up instead of overwriting each other: the second waits for the first's row lock on the book.

- PostgreSQL: one PL/pgSQL function behind three statement-level triggers with transition
  tables, so a bulk insert of copies costs one grouped UPDATE of ``books`` per statement, and
  an update that leaves a book's count as it was does not touch the book.
- SQLite (row-level triggers only): one trigger per operation, each fired only when the copy is
  or was available.

On SQLite a batch migration that rebuilds ``copies`` drops these triggers with the old table, and
one that rebuilds ``books`` may trip over their references to it: such a migration must drop
them first, recreate them afterwards and recount (``_BACKFILL``).

Indexes: ``available_copies`` alone, for the counts (a narrow index read without the table);
per sort key, a small partial index of the books with nothing on the shelf, for their pages; and
on PostgreSQL ``year DESC NULLS LAST, id DESC``, the order of ``sort=-year`` (books without a
year last), which a backward scan of ``(year, id)`` does not give there. SQLite serves both year
orders from ``(year, id)``.

Revision ID: 0005_book_availability
Revises: 0004_book_search
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_book_availability"
down_revision: str | Sequence[str] | None = "0004_book_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOTHING_AVAILABLE = sa.text("available_copies < 1")
_SORT_KEYS = ("title_key", "year", "created_at")

# Recounts every book (portable SQL; uses ix_copies_book_id_status).
_BACKFILL = (
    "UPDATE books SET available_copies = ("
    "SELECT count(*) FROM copies WHERE copies.book_id = books.id AND copies.status = 'available')"
)

_POSTGRESQL_UP = (
    """
    CREATE FUNCTION books_count_available_copies() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE books SET available_copies = books.available_copies + change.n
            FROM (
                SELECT book_id, count(*) AS n FROM new_copies
                WHERE status = 'available' GROUP BY book_id
            ) AS change
            WHERE books.id = change.book_id;
        ELSIF TG_OP = 'DELETE' THEN
            UPDATE books SET available_copies = books.available_copies - change.n
            FROM (
                SELECT book_id, count(*) AS n FROM old_copies
                WHERE status = 'available' GROUP BY book_id
            ) AS change
            WHERE books.id = change.book_id;
        ELSE
            UPDATE books SET available_copies = books.available_copies + change.n
            FROM (
                SELECT book_id, sum(n) AS n FROM (
                    SELECT book_id, 1 AS n FROM new_copies WHERE status = 'available'
                    UNION ALL
                    SELECT book_id, -1 AS n FROM old_copies WHERE status = 'available'
                ) AS moves
                GROUP BY book_id HAVING sum(n) <> 0
            ) AS change
            WHERE books.id = change.book_id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER copies_available_insert AFTER INSERT ON copies "
    "REFERENCING NEW TABLE AS new_copies "
    "FOR EACH STATEMENT EXECUTE FUNCTION books_count_available_copies()",
    "CREATE TRIGGER copies_available_delete AFTER DELETE ON copies "
    "REFERENCING OLD TABLE AS old_copies "
    "FOR EACH STATEMENT EXECUTE FUNCTION books_count_available_copies()",
    # Transition tables rule out a column list (UPDATE OF status): the function leaves books
    # alone unless a count changes.
    "CREATE TRIGGER copies_available_update AFTER UPDATE ON copies "
    "REFERENCING OLD TABLE AS old_copies NEW TABLE AS new_copies "
    "FOR EACH STATEMENT EXECUTE FUNCTION books_count_available_copies()",
)
_POSTGRESQL_DOWN = (
    "DROP TRIGGER IF EXISTS copies_available_update ON copies",
    "DROP TRIGGER IF EXISTS copies_available_delete ON copies",
    "DROP TRIGGER IF EXISTS copies_available_insert ON copies",
    "DROP FUNCTION IF EXISTS books_count_available_copies()",
)

_SQLITE_UP = (
    "CREATE TRIGGER copies_available_insert AFTER INSERT ON copies "
    "WHEN new.status = 'available' BEGIN "
    "UPDATE books SET available_copies = available_copies + 1 WHERE id = new.book_id; END",
    "CREATE TRIGGER copies_available_delete AFTER DELETE ON copies "
    "WHEN old.status = 'available' BEGIN "
    "UPDATE books SET available_copies = available_copies - 1 WHERE id = old.book_id; END",
    "CREATE TRIGGER copies_available_update AFTER UPDATE OF status, book_id ON copies "
    "WHEN (old.status = 'available' OR new.status = 'available') "
    "AND (old.status IS NOT new.status OR old.book_id IS NOT new.book_id) BEGIN "
    "UPDATE books SET available_copies = available_copies - 1 "
    "WHERE id = old.book_id AND old.status = 'available'; "
    "UPDATE books SET available_copies = available_copies + 1 "
    "WHERE id = new.book_id AND new.status = 'available'; END",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS copies_available_update",
    "DROP TRIGGER IF EXISTS copies_available_delete",
    "DROP TRIGGER IF EXISTS copies_available_insert",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column(
        "books",
        sa.Column("available_copies", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.execute(_BACKFILL)
    for statement in {"postgresql": _POSTGRESQL_UP, "sqlite": _SQLITE_UP}.get(dialect, ()):
        op.execute(statement)
    op.create_index(op.f("ix_books_available_copies"), "books", ["available_copies"])
    for key in _SORT_KEYS:
        op.create_index(
            op.f(f"ix_books_unavailable_{key}_id"),
            "books",
            [key, "id"],
            sqlite_where=_NOTHING_AVAILABLE,
            postgresql_where=_NOTHING_AVAILABLE,
        )
    if dialect == "postgresql":
        op.create_index(
            op.f("ix_books_year_desc_id_desc"),
            "books",
            [sa.text("year DESC NULLS LAST"), sa.text("id DESC")],
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.drop_index(op.f("ix_books_year_desc_id_desc"), table_name="books")
    for key in _SORT_KEYS:
        op.drop_index(op.f(f"ix_books_unavailable_{key}_id"), table_name="books")
    op.drop_index(op.f("ix_books_available_copies"), table_name="books")
    for statement in {"postgresql": _POSTGRESQL_DOWN, "sqlite": _SQLITE_DOWN}.get(dialect, ()):
        op.execute(statement)
    op.drop_column("books", "available_copies")
