"""Scheduled job runs: one row per job and period, claimed by the worker that runs it.

Revision ID: 0009b_job_runs
Revises: 0009a_outbox
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009b_job_runs"
down_revision: str | Sequence[str] | None = "0009a_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("period_start", INSTANT, nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("started_at", INSTANT, nullable=False),
        sa.Column("finished_at", INSTANT, nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('running', 'done', 'failed')", name=op.f("ck_job_runs_outcome")
        ),
        sa.PrimaryKeyConstraint("job", "period_start", name=op.f("pk_job_runs")),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
