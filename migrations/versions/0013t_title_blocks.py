"""Counted blocks of the title order, kept by triggers: page numbers without a walk.

Creates ``book_title_blocks`` (see ``adapters/sqlalchemy/title_blocks.py``), draws it from the
books already stored, and adds the triggers on ``books`` that keep its counts:

- PostgreSQL: INSERT and DELETE by statement-level triggers with transition tables, so a bulk
  load costs one grouped UPDATE of the blocks per statement; a change of ``title_key`` by a
  row-level trigger whose ``WHEN`` leaves every other update of a book alone (the availability
  triggers of migration 0005 update ``books`` on every loan and return). Transition tables
  cannot go with a column list, which is why UPDATE is row by row.
- SQLite (row-level triggers only): one trigger per operation.

Increments are relative (``books + n``), so concurrent writes into one block add up: the second
waits for the first's row lock on the block. A statement that changes several blocks (a bulk
load's) locks them in their order first, so two loads wait for each other instead of each
holding a block the other needs. Two transactions that each add books to several blocks by
several statements may still deadlock; the database then fails one, which the unit of work
reports as ``ConcurrentUpdate`` (an import retries its batch). On SQLite a batch migration that rebuilds ``books``
drops these triggers with the old table: it must recreate them and redraw the blocks.

Revision ID: 0013t_title_blocks
Revises: 0012w_word_search
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.title_blocks import redraw

revision: str = "0013t_title_blocks"
down_revision: str | Sequence[str] | None = "0012w_word_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "book_title_blocks"

# Each write finds a book's block as the last whose first (title_key, id) is not above the
# book's, by a seek of the blocks' primary key: here for each of a statement's books
# (``{moved}``: its title key, id and +1 or -1), summed by block.
_CHANGE = """(
            SELECT owner.first_title_key, owner.first_book_id, sum(moved.n) AS n
            FROM ({moved}) AS moved
            CROSS JOIN LATERAL (
                SELECT first_title_key, first_book_id FROM book_title_blocks
                WHERE (first_title_key, first_book_id) <= (moved.title_key, moved.id)
                ORDER BY first_title_key DESC, first_book_id DESC LIMIT 1
            ) AS owner
            GROUP BY owner.first_title_key, owner.first_book_id
        ) AS change"""

# A statement that changes several blocks locks them in their order first: two bulk loads into
# the same blocks then wait for each other instead of each holding a block the other needs.
_COUNT = """
    CREATE FUNCTION {name}() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM 1 FROM book_title_blocks AS block
        JOIN {change}
          ON block.first_title_key = change.first_title_key
         AND block.first_book_id = change.first_book_id
        ORDER BY block.first_title_key, block.first_book_id
        FOR UPDATE OF block;
        UPDATE book_title_blocks AS block SET books = block.books + change.n
        FROM {change}
        WHERE block.first_title_key = change.first_title_key
          AND block.first_book_id = change.first_book_id;
        RETURN NULL;
    END
    $$
    """


def _counting(name: str, moved: str) -> str:
    return _COUNT.replace("{name}", name).replace("{change}", _CHANGE.replace("{moved}", moved))


_POSTGRESQL_UP = (
    _counting("books_count_title_blocks_added", "SELECT title_key, id, 1 AS n FROM new_books"),
    _counting("books_count_title_blocks_removed", "SELECT title_key, id, -1 AS n FROM old_books"),
    """
    CREATE FUNCTION books_move_title_blocks() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE book_title_blocks SET books = books - 1
        WHERE (first_title_key, first_book_id) = (
            SELECT first_title_key, first_book_id FROM book_title_blocks
            WHERE (first_title_key, first_book_id) <= (OLD.title_key, OLD.id)
            ORDER BY first_title_key DESC, first_book_id DESC LIMIT 1
        );
        UPDATE book_title_blocks SET books = books + 1
        WHERE (first_title_key, first_book_id) = (
            SELECT first_title_key, first_book_id FROM book_title_blocks
            WHERE (first_title_key, first_book_id) <= (NEW.title_key, NEW.id)
            ORDER BY first_title_key DESC, first_book_id DESC LIMIT 1
        );
        RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER books_title_blocks_insert AFTER INSERT ON books "
    "REFERENCING NEW TABLE AS new_books "
    "FOR EACH STATEMENT EXECUTE FUNCTION books_count_title_blocks_added()",
    "CREATE TRIGGER books_title_blocks_delete AFTER DELETE ON books "
    "REFERENCING OLD TABLE AS old_books "
    "FOR EACH STATEMENT EXECUTE FUNCTION books_count_title_blocks_removed()",
    "CREATE TRIGGER books_title_blocks_update AFTER UPDATE OF title_key ON books "
    "FOR EACH ROW WHEN (OLD.title_key IS DISTINCT FROM NEW.title_key) "
    "EXECUTE FUNCTION books_move_title_blocks()",
)
_POSTGRESQL_DOWN = (
    "DROP TRIGGER books_title_blocks_update ON books",
    "DROP TRIGGER books_title_blocks_delete ON books",
    "DROP TRIGGER books_title_blocks_insert ON books",
    "DROP FUNCTION books_move_title_blocks()",
    "DROP FUNCTION books_count_title_blocks_removed()",
    "DROP FUNCTION books_count_title_blocks_added()",
)

_SQLITE_UP = (
    "CREATE TRIGGER books_title_blocks_insert AFTER INSERT ON books BEGIN "
    "UPDATE book_title_blocks SET books = books + 1 WHERE (first_title_key, first_book_id) = ("
    "SELECT first_title_key, first_book_id FROM book_title_blocks "
    "WHERE (first_title_key, first_book_id) <= (new.title_key, new.id) "
    "ORDER BY first_title_key DESC, first_book_id DESC LIMIT 1); "
    "END",
    "CREATE TRIGGER books_title_blocks_delete AFTER DELETE ON books BEGIN "
    "UPDATE book_title_blocks SET books = books - 1 WHERE (first_title_key, first_book_id) = ("
    "SELECT first_title_key, first_book_id FROM book_title_blocks "
    "WHERE (first_title_key, first_book_id) <= (old.title_key, old.id) "
    "ORDER BY first_title_key DESC, first_book_id DESC LIMIT 1); "
    "END",
    "CREATE TRIGGER books_title_blocks_update AFTER UPDATE OF title_key ON books "
    "WHEN old.title_key IS NOT new.title_key BEGIN "
    "UPDATE book_title_blocks SET books = books - 1 WHERE (first_title_key, first_book_id) = ("
    "SELECT first_title_key, first_book_id FROM book_title_blocks "
    "WHERE (first_title_key, first_book_id) <= (old.title_key, old.id) "
    "ORDER BY first_title_key DESC, first_book_id DESC LIMIT 1); "
    "UPDATE book_title_blocks SET books = books + 1 WHERE (first_title_key, first_book_id) = ("
    "SELECT first_title_key, first_book_id FROM book_title_blocks "
    "WHERE (first_title_key, first_book_id) <= (new.title_key, new.id) "
    "ORDER BY first_title_key DESC, first_book_id DESC LIMIT 1); "
    "END",
)
_SQLITE_DOWN = (
    "DROP TRIGGER books_title_blocks_update",
    "DROP TRIGGER books_title_blocks_delete",
    "DROP TRIGGER books_title_blocks_insert",
)


def _key() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        TABLE,
        sa.Column("first_title_key", _key(), nullable=False),
        sa.Column("first_book_id", sa.String(length=36), nullable=False),
        sa.Column("books", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("first_title_key", "first_book_id", name=op.f(f"pk_{TABLE}")),
    )
    redraw(bind)
    statements = _POSTGRESQL_UP if bind.dialect.name == "postgresql" else _SQLITE_UP
    for statement in statements:
        op.execute(statement)
    if bind.dialect.name == "postgresql":
        op.execute(f"ANALYZE {TABLE}")


def downgrade() -> None:
    bind = op.get_bind()
    statements = _POSTGRESQL_DOWN if bind.dialect.name == "postgresql" else _SQLITE_DOWN
    for statement in statements:
        op.execute(statement)
    op.drop_table(TABLE)
