"""The title order with the authors alongside, on PostgreSQL: a word search walks it alone.

A search for a common word walks the books in title order and stops at the page's end; with
the authors included in this index, PostgreSQL tests both searched keys from the index and
never reads the table (an index-only scan), so the walk costs the same at any catalogue size.
SQLite answers searches from its FTS5 table and gets nothing here.

Revision ID: 0011s_search_walk
Revises: 0010d_notice_preferences
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011s_search_walk"
down_revision: str | Sequence[str] | None = "0010d_notice_preferences"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_books_title_key_id_authors_key"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(INDEX, "books", ["title_key", "id"], postgresql_include=["authors_key"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(INDEX, table_name="books")
