"""Notice preferences on members: receipts (opt in) and overdue notices (opt out, if allowed).

Existing members keep what they had before they could choose: no receipts, overdue notices.

Revision ID: 0010d_notice_preferences
Revises: 0010c_audit_privacy
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010d_notice_preferences"
down_revision: str | Sequence[str] | None = "0010c_audit_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN with a constant default: every existing row gets it, on SQLite too,
    # without rebuilding the table (and so printable with --sql).
    op.add_column(
        "members",
        sa.Column("notice_receipts", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "members",
        sa.Column("notice_overdue", sa.Boolean(), server_default=sa.true(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("members", "notice_overdue")
    op.drop_column("members", "notice_receipts")
