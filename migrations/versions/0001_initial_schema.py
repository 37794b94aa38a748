"""Initial schema: books, copies, members, loans, holds and the ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they are in this revision (migrations never import the
# current models, which move on).
STRING_LIST = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
INSTANT = sa.DateTime(timezone=True)
ENUM = sa.String(length=16)
OPEN_LOAN = sa.text("returned_at IS NULL")


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(length=36), nullable=False)


def _ref(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=36), nullable=nullable)


def _version(table: str) -> tuple[sa.Column[int], sa.CheckConstraint]:
    return (
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f(f"ck_{table}_version_positive")),
    )


def upgrade() -> None:
    op.create_table(
        "books",
        _id(),
        sa.Column("isbn", sa.String(length=13), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("authors", STRING_LIST, nullable=False),
        sa.Column("publisher", sa.String(length=200), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("subjects", STRING_LIST, nullable=False),
        sa.Column("title_key", KEY, nullable=False),
        sa.Column("authors_key", KEY, nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        *_version("books"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_books")),
        sa.UniqueConstraint("isbn", name=op.f("uq_books_isbn")),
    )
    op.create_index(op.f("ix_books_title_key_id"), "books", ["title_key", "id"])
    op.create_index(op.f("ix_books_year_id"), "books", ["year", "id"])
    op.create_index(op.f("ix_books_created_at_id"), "books", ["created_at", "id"])

    op.create_table(
        "members",
        _id(),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", KEY, nullable=False),
        sa.Column("role", ENUM, nullable=False),
        sa.Column("status", ENUM, nullable=False),
        sa.Column("membership_expires_at", INSTANT, nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        *_version("members"),
        sa.CheckConstraint(
            "role IN ('member', 'librarian', 'admin')", name=op.f("ck_members_role")
        ),
        sa.CheckConstraint("status IN ('active', 'suspended')", name=op.f("ck_members_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("email", name=op.f("uq_members_email")),
    )
    op.create_index(op.f("ix_members_created_at_id"), "members", ["created_at", "id"])

    op.create_table(
        "copies",
        _id(),
        _ref("book_id"),
        sa.Column("barcode", sa.String(length=64), nullable=False),
        sa.Column("status", ENUM, nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        *_version("copies"),
        sa.CheckConstraint(
            "status IN ('available', 'on_loan', 'on_hold_shelf', 'lost', 'withdrawn')",
            name=op.f("ck_copies_status"),
        ),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_copies_book_id_books")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copies")),
        sa.UniqueConstraint("barcode", name=op.f("uq_copies_barcode")),
    )
    op.create_index(op.f("ix_copies_book_id_status"), "copies", ["book_id", "status"])

    op.create_table(
        "loans",
        _id(),
        _ref("copy_id"),
        _ref("book_id"),
        _ref("member_id"),
        sa.Column("loaned_at", INSTANT, nullable=False),
        sa.Column("due_at", INSTANT, nullable=False),
        sa.Column("renewals", sa.Integer(), nullable=False),
        sa.Column("returned_at", INSTANT, nullable=True),
        sa.Column("fine_cents", sa.Integer(), nullable=False),
        *_version("loans"),
        sa.CheckConstraint("renewals >= 0", name=op.f("ck_loans_renewals_not_negative")),
        sa.CheckConstraint("fine_cents >= 0", name=op.f("ck_loans_fine_cents_not_negative")),
        sa.ForeignKeyConstraint(["copy_id"], ["copies.id"], name=op.f("fk_loans_copy_id_copies")),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_loans_book_id_books")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_loans_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
    )
    # A copy is on at most one open loan.
    op.create_index(
        "uq_loans_open_copy_id",
        "loans",
        ["copy_id"],
        unique=True,
        sqlite_where=OPEN_LOAN,
        postgresql_where=OPEN_LOAN,
    )
    op.create_index(
        "ix_loans_open_member_id",
        "loans",
        ["member_id"],
        sqlite_where=OPEN_LOAN,
        postgresql_where=OPEN_LOAN,
    )
    op.create_index(op.f("ix_loans_member_id_loaned_at"), "loans", ["member_id", "loaned_at"])
    op.create_index(op.f("ix_loans_book_id"), "loans", ["book_id"])
    op.create_index(op.f("ix_loans_copy_id"), "loans", ["copy_id"])
    op.create_index(op.f("ix_loans_loaned_at_id"), "loans", ["loaned_at", "id"])

    op.create_table(
        "holds",
        _id(),
        _ref("book_id"),
        _ref("member_id"),
        _ref("copy_id", nullable=True),
        sa.Column("placed_at", INSTANT, nullable=False),
        sa.Column("status", ENUM, nullable=False),
        sa.Column("ready_at", INSTANT, nullable=True),
        sa.Column("pickup_by", INSTANT, nullable=True),
        sa.Column("closed_at", INSTANT, nullable=True),
        *_version("holds"),
        sa.CheckConstraint(
            "status IN ('waiting', 'ready', 'fulfilled', 'cancelled', 'expired')",
            name=op.f("ck_holds_status"),
        ),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_holds_book_id_books")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_holds_member_id_members")
        ),
        sa.ForeignKeyConstraint(["copy_id"], ["copies.id"], name=op.f("fk_holds_copy_id_copies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    op.create_index(
        op.f("ix_holds_book_id_status_placed_at_id"),
        "holds",
        ["book_id", "status", "placed_at", "id"],
    )
    op.create_index(op.f("ix_holds_member_id_status"), "holds", ["member_id", "status"])
    op.create_index(op.f("ix_holds_status_pickup_by"), "holds", ["status", "pickup_by"])
    op.create_index(op.f("ix_holds_placed_at_id"), "holds", ["placed_at", "id"])
    op.create_index(op.f("ix_holds_copy_id"), "holds", ["copy_id"])

    op.create_table(
        "ledger_entries",
        _id(),
        _ref("member_id"),
        sa.Column("kind", ENUM, nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        # No foreign key: a fine outlives the loan history of a removed book.
        sa.Column("loan_id", sa.String(length=36), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('fine', 'payment')", name=op.f("ck_ledger_entries_kind")),
        sa.CheckConstraint(
            "amount_cents > 0", name=op.f("ck_ledger_entries_amount_cents_positive")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_ledger_entries_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    op.create_index(
        op.f("ix_ledger_entries_member_id_created_at"),
        "ledger_entries",
        ["member_id", "created_at"],
    )


def downgrade() -> None:
    # Dropping a table drops its indexes.
    for table in ("ledger_entries", "holds", "loans", "copies", "members", "books"):
        op.drop_table(table)
