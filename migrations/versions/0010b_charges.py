"""Fees as a real account, and lost items.

The ledger's lines get types: every fine becomes an ``overdue`` charge; payments, waivers,
cancellations and refunds name the charges they settle or reopen in ``ledger_allocations``.
Existing payments are allocated here to the member's charges, oldest first (also to charges
posted after the payment: a payment taken before a return posted its fine paid that fine).
Loans get a ``status`` (open, claimed_returned, returned, lost) and the instant a return was
claimed; rules a ``processing_fee_cents`` charged with a lost item's replacement fee.

Revision ID: 0010b_charges
Revises: 0010a_card_numbers
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0010b_charges"
down_revision: str | Sequence[str] | None = "0010a_card_numbers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "kind IN ('charge', 'payment', 'waiver', 'cancellation', 'refund')"
CHARGE_TYPES = "charge_type IN ('overdue', 'lost', 'processing', 'manual')"
LOAN_STATUSES = "status IN ('open', 'claimed_returned', 'returned', 'lost')"


def upgrade() -> None:
    if context.is_offline_mode():
        raise RuntimeError(
            "0010b_charges allocates the payments it finds to charges, so it cannot be printed "
            "as SQL: apply it with `circulate db upgrade`"
        )
    _type_the_ledger()
    _allocate_existing_payments()
    with op.batch_alter_table("loans") as batch:
        batch.add_column(
            sa.Column("status", sa.String(16), server_default=sa.text("'open'"), nullable=False)
        )
        batch.add_column(
            sa.Column("claimed_returned_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE loans SET status = 'returned' WHERE returned_at IS NOT NULL")
    with op.batch_alter_table("loans") as batch:
        batch.create_check_constraint(op.f("ck_loans_status"), LOAN_STATUSES)
    op.add_column(
        "circulation_rules",
        sa.Column(
            "processing_fee_cents", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
    )


def _type_the_ledger() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_constraint(op.f("ck_ledger_entries_kind"), type_="check")
        batch.add_column(sa.Column("charge_type", sa.String(16), nullable=True))
        batch.add_column(sa.Column("target_id", sa.String(36), nullable=True))
    op.execute(
        "UPDATE ledger_entries SET kind = 'charge', charge_type = 'overdue' WHERE kind = 'fine'"
    )
    with op.batch_alter_table("ledger_entries") as batch:
        batch.create_check_constraint(op.f("ck_ledger_entries_kind"), KINDS)
        batch.create_check_constraint(op.f("ck_ledger_entries_charge_type"), CHARGE_TYPES)
        batch.create_check_constraint(
            op.f("ck_ledger_entries_charge_type_on_charges"),
            "(kind = 'charge') = (charge_type IS NOT NULL)",
        )
    op.create_table(
        "ledger_allocations",
        sa.Column("entry_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("charge_id", sa.String(36), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "amount_cents > 0", name=op.f("ck_ledger_allocations_amount_cents_positive")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_ledger_allocations_entry_id_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["charge_id"],
            ["ledger_entries.id"],
            name=op.f("fk_ledger_allocations_charge_id_ledger_entries"),
        ),
        sa.PrimaryKeyConstraint("entry_id", "position", name=op.f("pk_ledger_allocations")),
    )
    op.create_index(op.f("ix_ledger_allocations_charge_id"), "ledger_allocations", ["charge_id"])


def _allocate_existing_payments() -> None:
    """Each member's payments, oldest first, to their charges, oldest first. What a payment
    paid beyond every charge (possible only before this revision) stays unallocated: a credit
    the account shows until it is refunded."""
    lines = sa.table(
        "ledger_entries",
        sa.column("id", sa.String),
        sa.column("member_id", sa.String),
        sa.column("kind", sa.String),
        sa.column("amount_cents", sa.Integer),
        sa.column("created_at", sa.DateTime),
    )
    allocations = sa.table(
        "ledger_allocations",
        sa.column("entry_id", sa.String),
        sa.column("position", sa.Integer),
        sa.column("charge_id", sa.String),
        sa.column("amount_cents", sa.Integer),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(lines.c.id, lines.c.member_id, lines.c.kind, lines.c.amount_cents).order_by(
            lines.c.member_id, lines.c.created_at, lines.c.id
        )
    ).all()
    charges: dict[str, list[str]] = defaultdict(list)  # each member's, oldest first
    remaining: dict[str, int] = {}
    payments: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for line_id, member_id, kind, cents in rows:
        if kind == "charge":
            charges[member_id].append(line_id)
            remaining[line_id] = cents
        else:
            payments[member_id].append((line_id, cents))
    written: list[dict[str, object]] = []
    for member_id, paid in payments.items():
        for payment_id, cents in paid:
            rest, position = cents, 0
            for charge_id in charges[member_id]:
                taken = min(rest, remaining[charge_id])
                if taken:
                    written.append(
                        {
                            "entry_id": payment_id,
                            "position": position,
                            "charge_id": charge_id,
                            "amount_cents": taken,
                        }
                    )
                    remaining[charge_id] -= taken
                    rest -= taken
                    position += 1
    if written:
        op.bulk_insert(allocations, written)


def downgrade() -> None:
    bind = op.get_bind()
    newer = bind.execute(
        sa.text(
            "SELECT count(*) FROM ledger_entries "
            "WHERE kind NOT IN ('charge', 'payment') OR charge_type <> 'overdue'"
        )
    ).scalar_one()
    if newer:
        raise RuntimeError(
            f"{newer} ledger line(s) are waivers, refunds, cancellations or charges other than "
            "overdue fines, which the older schema cannot hold; refusing to downgrade"
        )
    op.drop_column("circulation_rules", "processing_fee_cents")
    with op.batch_alter_table("loans") as batch:
        batch.drop_constraint(op.f("ck_loans_status"), type_="check")
        batch.drop_column("claimed_returned_at")
        batch.drop_column("status")
    op.drop_index(op.f("ix_ledger_allocations_charge_id"), table_name="ledger_allocations")
    op.drop_table("ledger_allocations")
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_constraint(op.f("ck_ledger_entries_charge_type_on_charges"), type_="check")
        batch.drop_constraint(op.f("ck_ledger_entries_charge_type"), type_="check")
        batch.drop_constraint(op.f("ck_ledger_entries_kind"), type_="check")
    op.execute("UPDATE ledger_entries SET kind = 'fine' WHERE kind = 'charge'")
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("target_id")
        batch.drop_column("charge_type")
        batch.create_check_constraint(op.f("ck_ledger_entries_kind"), "kind IN ('fine', 'payment')")
