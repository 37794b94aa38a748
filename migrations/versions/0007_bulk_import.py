"""Bulk import: a load counts the copies it inserts itself, once per batch.

The availability triggers of migration 0005 keep ``books.available_copies`` in step with every
write to ``copies``. A bulk load (``adapters/sqlalchemy/bulk.py``) inserts each new book with
that count already set, so on PostgreSQL the INSERT trigger would count the book's copies a
second time, and rewrite every new book row (with all its index entries) to do it. Here the
trigger function learns to leave alone the copies inserted by a transaction that has set
``circulate.copies_counted`` to ``on`` (with ``set_config(..., true)``, so for that transaction
only; the loader turns it off again straight after its one INSERT). Every other write, in that
transaction and in all others, is counted as before.

SQLite needs no change: a load there holds the only write lock, and swaps the row-level triggers
for set-based upkeep within its transaction (see the loader).

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_bulk_import"
down_revision: str | Sequence[str] | None = "0006c_hold_queue_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_FUNCTION = """
    CREATE OR REPLACE FUNCTION books_count_available_copies() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            -- INSERT GUARD
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
    """


def _function(insert_guard: str) -> str:
    return _FUNCTION.replace("-- INSERT GUARD", insert_guard)


# ``current_setting(name, true)`` is NULL where the setting was never made.
_GUARD = "IF current_setting('circulate.copies_counted', true) = 'on' THEN RETURN NULL; END IF;"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(_GUARD))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(""))
