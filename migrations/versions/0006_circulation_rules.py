"""Circulation rules as data: member categories, item types and the rules matrix.

New tables ``member_categories``, ``item_types`` and ``circulation_rules`` (one row per
(member category, item type) pair, ``*`` for any; unique per pair). Members get a ``category``,
books and copies an ``item_type`` (a copy's defaults from its book), loans the ``item_type`` of
the copy they lent (their type's loan limit and fine follow it), holds the ``member_category``
of the member who placed them (their pickup window follows it).

Existing data keeps working: every existing member is in the seeded category ``standard`` and
every book, copy and loan of the seeded type ``book``, through column defaults, so adding the
columns rewrites no rows and rebuilds no table (on SQLite a rebuild of ``copies`` would drop the
availability triggers of 0005). No rule is seeded: until an administrator stores a default rule,
the default rule is the ``CIRCULATE_*`` policy settings, exactly as loans were governed before.

Revision ID: 0006_circulation_rules
Revises: 0005_book_availability
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0006_circulation_rules"
down_revision: str | Sequence[str] | None = "0005_book_availability"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they are in this revision.
INSTANT = sa.DateTime(timezone=True)
ID = sa.String(length=36)
CODE = sa.String(length=32)
SEEDED_AT = datetime(2026, 12, 4, tzinfo=UTC)

# (table, column, default) of the new code columns.
_CODES = (
    ("members", "category", "standard"),
    ("books", "item_type", "book"),
    ("copies", "item_type", "book"),
    ("loans", "item_type", "book"),
    ("holds", "member_category", "standard"),
)


def _version(table: str) -> tuple[sa.Column[int], sa.CheckConstraint]:
    return (
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f(f"ck_{table}_version_positive")),
    )


def upgrade() -> None:
    categories = op.create_table(
        "member_categories",
        sa.Column("code", CODE, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("loan_limit", sa.Integer(), nullable=True),
        sa.Column("debt_limit_cents", sa.Integer(), nullable=True),
        sa.Column("retired_at", INSTANT, nullable=True),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        *_version("member_categories"),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_member_categories")),
    )
    item_types = op.create_table(
        "item_types",
        sa.Column("code", CODE, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("retired_at", INSTANT, nullable=True),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        *_version("item_types"),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_item_types")),
    )
    op.create_table(
        "circulation_rules",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_category", CODE, nullable=False),
        sa.Column("item_type", CODE, nullable=False),
        sa.Column("loan_days", sa.Integer(), nullable=True),
        sa.Column("fixed_due_date", sa.Date(), nullable=True),
        sa.Column("max_loans", sa.Integer(), nullable=True),
        sa.Column("max_renewals", sa.Integer(), nullable=False),
        sa.Column("renew_too_soon_days", sa.Integer(), nullable=False),
        sa.Column("renewal_days", sa.Integer(), nullable=False),
        sa.Column("fine_per_day_cents", sa.Integer(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("fine_cap_cents", sa.Integer(), nullable=False),
        sa.Column("holds_allowed", sa.Boolean(), nullable=False),
        sa.Column("max_holds", sa.Integer(), nullable=False),
        sa.Column("pickup_window_days", sa.Integer(), nullable=False),
        sa.Column("replacement_fee_cents", sa.Integer(), nullable=False),
        *_version("circulation_rules"),
        sa.CheckConstraint(
            "(loan_days IS NULL) <> (fixed_due_date IS NULL)",
            name=op.f("ck_circulation_rules_one_loan_period"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circulation_rules")),
        sa.UniqueConstraint(
            "member_category",
            "item_type",
            name=op.f("uq_circulation_rules_member_category_item_type"),
        ),
    )
    for table, column, default in _CODES:
        op.add_column(
            table,
            sa.Column(column, CODE, server_default=sa.text(f"'{default}'"), nullable=False),
        )
    # SQLite keeps the UTC wall time without a zone, as the application's column type does.
    seeded = SEEDED_AT if _postgres() else SEEDED_AT.replace(tzinfo=None)
    op.execute(
        categories.insert().values(
            code="standard",
            name="Standard",
            loan_limit=None,
            debt_limit_cents=None,
            retired_at=None,
            created_at=seeded,
            updated_at=seeded,
            version=1,
        )
    )
    op.execute(
        item_types.insert().values(
            code="book",
            name="Book",
            retired_at=None,
            created_at=seeded,
            updated_at=seeded,
            version=1,
        )
    )


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def downgrade() -> None:
    for table, column, _ in reversed(_CODES):
        op.drop_column(table, column)
    op.drop_table("circulation_rules")
    op.drop_table("item_types")
    op.drop_table("member_categories")
