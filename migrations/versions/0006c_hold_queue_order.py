"""Holds: staff may reorder a book's queue.

``holds.queued_at`` is the instant the queue is ordered by: the placement instant (filled in
here for every existing hold), until staff move the hold, which gives it an instant between its
new neighbours'. The queue reads use the new indexes on it.

Revision ID: 0006c_hold_queue_order
Revises: 0006b_hold_suspension
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006c_hold_queue_order"
down_revision: str | Sequence[str] | None = "0006b_hold_suspension"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("holds", sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE holds SET queued_at = placed_at")
    op.create_index(
        op.f("ix_holds_book_id_status_queued_at_id"),
        "holds",
        ["book_id", "status", "queued_at", "id"],
    )
    op.create_index(op.f("ix_holds_queued_at_id"), "holds", ["queued_at", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_holds_queued_at_id"), table_name="holds")
    op.drop_index(op.f("ix_holds_book_id_status_queued_at_id"), table_name="holds")
    op.drop_column("holds", "queued_at")
