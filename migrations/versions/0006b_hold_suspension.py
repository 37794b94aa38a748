"""Holds: suspension and a not-needed-after date.

A suspended hold keeps its place in the queue but is passed over when a copy comes free; a
waiting hold past its not-needed-after date is expired by the daily job. Existing holds are not
suspended and have no such date.

Revision ID: 0006b_hold_suspension
Revises: 0006a_library_calendar
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006b_hold_suspension"
down_revision: str | Sequence[str] | None = "0006a_library_calendar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "holds",
        sa.Column("suspended", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("holds", sa.Column("not_needed_after", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("holds", "not_needed_after")
    op.drop_column("holds", "suspended")
