"""The library calendar: days the library is closed.

``closures`` holds single closed dates (``day``) and weekdays closed every week (``weekday``,
0 = Monday), one or the other per row, each at most once. The library's time zone is a setting
(``CIRCULATE_TIMEZONE``), not data. Loans made before this revision keep their due dates.

Revision ID: 0006a_library_calendar
Revises: 0006_circulation_rules
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006a_library_calendar"
down_revision: str | Sequence[str] | None = "0006_circulation_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "closures",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(day IS NULL) <> (weekday IS NULL)", name=op.f("ck_closures_day_or_weekday")
        ),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_closures_weekday_range")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_closures_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closures")),
        sa.UniqueConstraint("day", name=op.f("uq_closures_day")),
        sa.UniqueConstraint("weekday", name=op.f("uq_closures_weekday")),
    )


def downgrade() -> None:
    op.drop_table("closures")
